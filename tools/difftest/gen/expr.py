# ruff: noqa: E501 - case tables
"""Expression families: YAQL and Jinja operators, standard library and Mistral's functions.

Each case publishes one expression from a task and returns it as the workflow output, so the
value (or the evaluation error: task/workflow state and state_info) is compared.
"""

from __future__ import annotations

import json
from typing import Any

from tools.difftest.gen.common import case, slug, wf

DATA: dict[str, Any] = {
    "n": 3, "f": 2.5, "s": "Hello World", "l": [1, 2, 3, 2], "e": [], "t": True, "z": None,
    "d": {"a": 1, "b": 2}, "people": [{"name": "ann", "age": 30}, {"name": "bob", "age": 20}],
}

YAQL = [
    "$.n + 2", "$.n * 2.5", "$.n / 2", "7 mod 3", "-$.n", "$.n > 2 and $.n < 5", "not $.t",
    "$.n = 3", "$.n != 3", "$.z = null", "$.f + $.n", "10 / 4", "2 * (3 + 4)",
    "len($.l)", "$.l.len()", "$.l.sum()", "$.l.max()", "$.l.min()", "$.l.distinct()",
    "$.l.orderBy($)", "$.l.orderByDescending($)", "$.l.where($ > 1)", "$.l.select($ * 2)",
    "$.l.first()", "$.l.last()", "$.l.skip(1)", "$.l.take(2)", "$.l[0]", "$.l[1]",
    "$.l.contains(2)", "2 in $.l", "$.l.any()", "$.l.all($ > 0)", "$.l.count()",
    "$.l.aggregate($1 + $2)", "range(5)", "range(1, 4)", "$.l.indexOf(2)", "$.l + [9]",
    "[[1, 2], [3]].flatten()", "$.e.len()", "$.e.first(null)", "$.l.where($ > 5)",
    "$.l.select([$, $ * $])", "$.l.groupBy($).select($[0])", "list(1, 2, 3)", "[]",
    "$.l.toSet().len()", "$.l.zip([5, 6, 7, 8])", "$.l.sum() / $.l.len()",
    "$.d.keys()", "$.d.values()", "$.d.items()", "$.d.a", "$.d.get(c, 5)", "$.d.get(a)",
    "$.d.set(c, 3)", "dict(a => 1)", "dict(x => 1, y => [2])", "$.d.containsKey(a)",
    "$.d.len()", "$.d.delete(a)", "$.d.missing", "$.missing", "$.people.select($.name)",
    "$.people.where($.age > 25).select($.name)", "$.people.orderBy($.age).first().name",
    "$.people.toDict($.name, $.age)", "$.people.select($.age).sum()", "$.people[0]",
    "$.people.len()", "$.d.a + $.d.b", "{a => 1, b => 2}", "$.d.mergeWith({c => 3})",
    "$.s.toUpper()", "$.s.toLower()", "$.s.len()", "$.s.split(' ')", "$.s.replace('World', 'Y')",
    "$.s.startsWith('He')", "$.s.endsWith('d')", "$.s.indexOf('o')", "$.s.substring(1, 3)",
    "' a '.trim()", "$.s + '!'", "'{0}-{1}'.format(1, 2)", "regex('^H').matches($.s)",
    "str($.n)", "int('42')", "float('1.5')", "int('x')", "$.s[0]", "concat('a', 'b')",
    "str(null)", "$.s.toCharArray().len()", "'a,b'.split(',')", "$.s.join('-')",
    "'-'.join(['a', 'b'])", "$.s * 2", "$.s.toUpper().toLower()", "'x' in $.s",
    "let(x => 5) -> $x * 2", "switch($.n > 2 => 'big', true => 'small')", "isInteger($.n)",
    "isString($.s)", "round($.f)", "abs(-3)", "pow($.n, 2)", "max(1, 5)", "min(1, 5)",
    "$.n.missing", "$.l[10]", "1 / 0", "$.s + $.n", "$.l.select(str($)).join(',')",
    "json_parse('{\"a\": [1, 2]}')", "json_dump($.d)", "yaml_parse('a: [1, 2]')",
    "yaml_dump($.d)", "uuid().len()", "env()", "execution().input", "execution().name",
    "execution().params", "execution().spec.tasks.keys()", "task().name", "task().state",
    "task(t).name", "task(nosuch)", "tasks().len()", "global(n)", "json_parse('x')",
    "$.l.select($ + 1).where($ > 2).sum()", "$.e.sum()", "$.e.max()", "$.d.values().sum()",
    "int($.f)", "bool(0)", "$.n.isInteger()", "null", "true", "'str'", "42", "1.5e3",
]

JINJA = [
    "{{ _.n + 2 }}", "{{ _.n * 2.5 }}", "{{ _.n / 2 }}", "{{ _.n // 2 }}", "{{ 7 % 3 }}",
    "{{ _.l | length }}", "{{ _.l | sum }}", "{{ _.l | max }}", "{{ _.l | min }}",
    "{{ _.l | unique | list }}", "{{ _.l | sort }}", "{{ _.l | join(',') }}",
    "{{ _.s | upper }}", "{{ _.s | lower }}", "{{ _.s | replace('World', 'Y') }}",
    "{{ _.s.split(' ') }}", "{{ _.d.keys() | list }}", "{{ _.d | dictsort }}",
    "{{ _.people | map(attribute='name') | list }}", "{{ _.people | selectattr('age', 'gt', 25) | list }}",
    "{{ _.l | first }}", "{{ _.l | last }}", "{{ _.l | reverse | list }}", "{{ _.n is even }}",
    "{{ _.s | length }}", "{{ _.l | tojson }}", "{{ 'x' ~ _.n }}", "n={{ _.n }}",
    "{{ _.missing }}", "{{ _.d.a }}", "{{ _.d['b'] }}", "{{ _.f | round }}", "{{ _.f | int }}",
    "{{ '3' | int }}", "{{ _.l | select('odd') | list }}", "{{ range(3) | list }}",
    "{% for x in _.l %}{{ x }}{% endfor %}", "{% if _.n > 2 %}big{% else %}small{% endif %}",
    "{{ _.s | wordcount }}", "{{ _.s | title }}", "{{ _.s | capitalize }}",
    "{{ _.l | batch(2) | list }}", "{{ json_dump(_.d) }}", "{{ json_parse('[1]') }}",
    "{{ _.d | json_dump }}", "{{ env() }}", "{{ execution().input }}", "{{ task().name }}",
    "{{ _.s | nosuchfilter }}", "{{ none }}", "{{ true }}", "{{ [1, 2] + [3] }}",
    "{{ {'a': 1} }}", "{{ _.n | string }}", "{{ _.s | list | length }}", "{{ _.d.items() | list }}",
    "{{ _.n > 2 and _.n < 5 }}", "{{ not _.t }}", "{{ _.z is none }}", "{{ _.l[0] }}",
    "{{ _.l[-1] }}", "{{ _.people[0].name }}", "{{ _.d.get('c', 5) }}", "{{ _.s[0:5] }}",
    "{{ _.s.startswith('He') }}", "{{ _.s.lower().replace('l', 'L') }}", "{{ _.l | map('string') | join('-') }}",
    "{{ _.e | length }}", "{{ _.e | first }}", "{{ _.n | float }}", "{{ _.f | abs }}",
    "{{ _.people | sort(attribute='age') | map(attribute='name') | list }}",
    "{{ _.people | sum(attribute='age') }}", "{{ _.d | length }}", "{{ 'a' in _.s }}",
    "{{ _.l | select('gt', 1) | list }}", "{{ _.l | reject('eq', 2) | list }}",
    "{{ yaml_parse('a: 1') }}", "{{ uuid() | length }}", "{{ task('t').name }}",
    "{{ tasks() | length }}", "{{ execution().name }}", "{{ global('n') }}", "{{ 1 / 0 }}",
    "{{ _.s ~ _.n }}", "{{ _.l | default([]) }}", "{{ _.missing | default('dflt') }}",
    "{{ _.s | trim }}", "{{ '%s-%s' | format(1, 2) }}", "{{ _.n is number }}",
    "{{ _.l | groupby('real') | list | length }}", "{{ _.s | center(15) }}",
    "{{ _.l | random is number }}", "{{ _.d.a if _.t else _.d.b }}", "{{ _.s | indent(2) }}",
    "{{ [_.n, _.f] | max }}", "{{ _.people | map(attribute='age') | max }}",
]


def _expr_case(prefix: str, i: int, expr: str) -> dict[str, Any]:
    body = f"""
        input: [n, f, s, l, e, t, z, d, people]
        output:
          r: <% $.r %>
        tasks:
          t:
            action: std.noop
            publish:
              r: {json.dumps(expr)}
        """
    return case(f"expr.{prefix}.{i:03d}_{slug(expr)}", workflows=wf(body), input=DATA)


def families() -> dict[str, list[dict[str, Any]]]:
    """File name -> cases of this module."""
    return {
        "gen_expr_yaql": [_expr_case("yaql", i, e) for i, e in enumerate(YAQL)],
        "gen_expr_jinja": [_expr_case("jinja", i, e) for i, e in enumerate(JINJA)],
    }

# ruff: noqa: E501 - case tables
"""Direct/reverse flow, joins, with-items, data flow, sub-workflows, errors in clauses.

Ported from the behaviours of mistral/tests/unit/engine (test_direct_workflow, test_join,
test_with_items, test_dataflow, test_subworkflows, test_error_handling, test_reverse_workflow,
test_adhoc_actions, test_environment) with std actions in place of test-only Python actions.
"""

from __future__ import annotations

import json
from typing import Any

from tools.difftest.gen.common import case, wf

ACTS = {"ok": "std.noop", "fail": "std.fail"}

CLAUSES = {
    "succ_t2": "on-success: [t2]",
    "err_t2": "on-error: [t2]",
    "compl_t2": "on-complete: [t2]",
    "succ_t2_err_t3": "on-success: [t2]\non-error: [t3]",
    "err_t3_compl_t2": "on-error: [t3]\non-complete: [t2]",
    "succ_fail": "on-success: [fail]",
    "err_succeed": "on-error: [succeed]",
    "err_noop": "on-error: [noop]",
    "compl_fail_msg": "on-complete: ['fail msg=\"stop here\"']",
    "err_guard_false": "on-error: [t2: <% false %>]",
    "err_guard_true": "on-error: [t2: <% true %>]",
    "succ_guards": "on-success:\n  - t2: <% $.x > 1 %>\n  - t3: <% $.x <= 1 %>",
    "err_fail_expr": "on-error: ['fail(msg=<% task().state %>)']",
    "succ_succeed_msg": "on-success: ['succeed msg=\"done early\"', t2]",
    "compl_t2_t3": "on-complete: [t2, t3]",
    "err_t2_succ_t3_compl_noop": "on-error: [t2]\non-success: [t3]\non-complete: [noop]",
    "succ_jinja_guard": "on-success:\n  - t2: \"{{ _.x == 1 }}\"\n  - t3: \"{{ _.x != 1 }}\"",
    "compl_pause": "on-complete: [pause, t2]",
}


def _indent(text: str, n: int) -> str:
    return "\n".join(" " * n + line for line in text.splitlines())


def transitions() -> list[dict[str, Any]]:
    """t1 (noop or fail) with every clause set; t2/t3 publish markers."""
    out = []
    for key, clause in CLAUSES.items():
        for res, action in ACTS.items():
            body = f"""
input: [{{x: 1}}]
tasks:
  t1:
    action: {action}
{_indent(clause, 4)}
  t2:
    action: std.echo output='two'
    publish: {{v2: <% task().result %>}}
  t3:
    action: std.noop
    publish: {{v3: three}}
"""
            if "t3" not in clause:
                body = body[:body.index("  t3:")]
            if "t2" not in clause:  # an unreferenced task would be a racing start task
                body = body[:body.index("  t2:")] + body[body.index("  t3:"):] \
                    if "  t3:" in body else body[:body.index("  t2:")]
            kw: dict[str, Any] = {}
            if "pause" in clause:
                kw["steps"] = [{"start": {}}, {"wait": ["PAUSED", "SUCCESS", "ERROR"]},
                               {"observe": "paused"},
                               {"call": {"method": "PUT", "path": "/executions/{ex}",
                                         "body": {"state": "RUNNING"}}},
                               {"wait": ["SUCCESS", "ERROR"]}, {"observe": "final"}]
            out.append(case(f"direct.{key}.{res}", workflows=wf(body), **kw))
    return out


# Where a failing expression sits: (slug, task text template with {e}, workflow extra).
BAD_SPOTS = [
    ("on_success", "on-success:\n  - t2: {e}", ""),
    ("on_error", "on-error:\n  - t2: {e}", ""),
    ("on_complete", "on-complete:\n  - t2: {e}", ""),
    ("publish", "publish:\n  p: {e}\non-error: [handler]", ""),
    ("publish_on_error", "publish-on-error:\n  p: {e}\non-error: [handler]", ""),
    ("input", "input:\n  output: {e}\non-error: [handler]", ""),
    ("input_only", "input:\n  output: {e}\non-error: [handler]", ""),
    ("keep_result", "keep-result: {e}", ""),
    ("output", "", "output:\n  o: {e}"),
    ("output_on_error", "", "output-on-error:\n  o: {e}"),
    ("with_items", "with-items: i in {e}\non-error: [handler]", ""),
    ("wf_vars", "", "vars:\n  v: {e}"),
    ("publish_nohandler", "publish:\n  p: {e}", ""),
    ("succ_then_handler", "on-success:\n  - t2: {e}\non-error: [handler]", ""),
]
BAD_EXPRS = {"yaql": "<% int('x') %>", "jinja": "\"{{ _.nope.x }}\"",
             "yaql_attr": "<% $.nope.x.y() %>"}


def errors_in_clauses() -> list[dict[str, Any]]:
    """A failing expression at each spot, with a succeeding and a failing action."""
    out = []
    for spot, task_extra, wf_extra in BAD_SPOTS:
        for lang, expr in BAD_EXPRS.items():
            for res, action in ACTS.items():
                action_line = {"input": "action: std.echo output=1",
                               "input_only": "action: std.echo"}.get(spot, f"action: {action}")
                if spot.startswith("input") and res == "fail":
                    continue
                body = f"""
{wf_extra.format(e=expr)}
tasks:
  t1:
    {action_line}
{_indent(task_extra.format(e=expr), 4)}
"""
                # Only tasks something routes to: a parallel start task would race.
                if "t2" in task_extra:
                    body += "  t2:\n    action: std.noop\n"
                if "handler" in task_extra:
                    body += "  handler:\n    action: std.noop\n    publish: {handled: yes}\n"
                out.append(case(f"errexpr.{spot}.{lang}.{res}", workflows=wf(body)))
    return out


def joins() -> list[dict[str, Any]]:
    """Three branches (some failing) into a join (all / one / 2), same variable published."""
    out = []
    for join in ("all", "one", 2, 3):
        for pattern in ("sss", "ssf", "sff", "fff"):
            branches = []
            for i, p in enumerate(pattern):
                act = "std.fail" if p == "f" else f"std.echo output={i}"
                branches.append(f"""  b{i}:
    action: {act}
    publish: {{v: <% task().result %>, from{i}: b{i}}}
    on-success: [j]""")
            body = "tasks:\n  start:\n    action: std.noop\n    on-success: [b0, b1, b2]\n"
            body += "\n".join(branches) + f"""
  j:
    join: {join}
    action: std.noop
    publish:
      seen: <% $.v %>
      keys: <% [$.get(from0), $.get(from1), $.get(from2)] %>
"""
            body = "output:\n  v: <% $.get(v) %>\n  seen: <% $.get(seen) %>\n" + body
            out.append(case(f"join.{join}.{pattern}", workflows=wf(body)))
    # Join after branches of different lengths; context merge order.
    body = """
output: {v: <% $.v %>, a: <% $.a %>, b: <% $.b %>}
tasks:
  s:
    action: std.noop
    on-success: [a1, b1]
  a1:
    action: std.noop
    publish: {v: a1, a: 1}
    on-success: [a2]
  a2:
    action: std.noop
    publish: {v: a2}
    on-success: [j]
  b1:
    action: std.noop
    publish: {v: b1, b: 2}
    on-success: [j]
  j:
    join: all
    action: std.noop
"""
    out.append(case("join.uneven_branches_same_var", workflows=wf(body)))
    body = """
tasks:
  s:
    action: std.noop
    on-success: [a, b]
  a:
    action: std.fail
    on-error: [j]
  b:
    action: std.noop
    on-success: [j]
  j:
    join: all
    action: std.noop
    publish: {got: <% $ %>}
"""
    out.append(case("join.error_branch_routed_to_join", workflows=wf(body)))
    body = """
tasks:
  s:
    action: std.noop
    on-success: [a, b]
  a:
    action: std.noop
    publish: {x: 1}
    on-complete: [j]
  b:
    action: std.fail
    publish-on-error: {y: 2}
    on-complete: [j]
  j:
    join: all
    action: std.noop
    publish: {xy: <% [$.get(x), $.get(y)] %>}
"""
    out.append(case("join.on_complete_publish_on_error", workflows=wf(body)))
    return out


ITEMS: dict[str, tuple[Any, dict[str, Any], str]] = {
    "list": ("x in <% $.xs %>", {"xs": [1, 2, 3]}, "std.echo output=<% $.x %>"),
    "empty": ("x in <% $.xs %>", {"xs": []}, "std.echo output=<% $.x %>"),
    "literal": ("x in [4, 5]", {}, "std.echo output=<% $.x %>"),
    "two_lists": (["x in <% $.xs %>", "y in <% $.ys %>"], {"xs": [1, 2], "ys": ["a", "b"]},
                  "std.echo output=<% [$.x, $.y] %>"),
    "unequal_lists": (["x in <% $.xs %>", "y in <% $.ys %>"], {"xs": [1, 2], "ys": ["a"]},
                      "std.echo output=<% [$.x, $.y] %>"),
    "dicts": ("p in <% $.ps %>", {"ps": [{"n": "a"}, {"n": "b"}]}, "std.echo output=<% $.p.n %>"),
    "jinja": ("x in {{ _.xs }}", {"xs": [3, 2]}, "std.echo output=\"{{ _.x * 10 }}\""),
    "not_list": ("x in <% $.xs %>", {"xs": 5}, "std.echo output=<% $.x %>"),
    "string_items": ("x in <% $.xs %>", {"xs": "abc"}, "std.echo output=<% $.x %>"),
    "dict_items": ("x in <% $.xs %>", {"xs": {"a": 1}}, "std.echo output=<% $.x %>"),
    "failing_expr": ("x in <% $.xs.nope() %>", {"xs": [1]}, "std.echo output=<% $.x %>"),
    "null": ("x in <% $.xs %>", {"xs": None}, "std.echo output=<% $.x %>"),
    "fail_items": ("x in <% $.xs %>", {"xs": [1, 2]}, "std.fail"),
    "index": ("x in <% $.xs %>", {"xs": ["a", "b", "c"]}, "std.echo output=<% $.x %>"),
}


def with_items() -> list[dict[str, Any]]:
    """with-items shapes, concurrency, publish of the result list, failures."""
    out = []
    for key, (items, inp, action) in ITEMS.items():
        for conc in (None, 1, 2):
            it = json.dumps(items)
            conc_line = f"\n    concurrency: {conc}" if conc else ""
            body = f"""
input: [{', '.join(str(k) for k in inp) or 'unused: 0'}]
output:
  r: <% $.get(r) %>
tasks:
  t:
    with-items: {it}
    action: {action}{conc_line}
    publish:
      r: <% task().result %>
    on-error: [handler]
  handler:
    action: std.noop
    publish: {{r: <% task(t).result %>, st: <% task(t).state %>}}
"""
            if not inp:
                body = body.replace("input: [unused: 0]", "input: [{unused: 0}]")
            out.append(case(f"items.{key}.c{conc or 0}", workflows=wf(body), input=inp))
    return out


def dataflow() -> list[dict[str, Any]]:
    """Vars, publish chains, global publish, output defaults, keep-result, task() of others."""
    specs = {
        "vars_and_input": """
input: [a]
vars: {b: <% $.a + 1 %>, c: literal}
tasks:
  t:
    action: std.echo output=<% [$.a, $.b, $.c] %>
    publish: {r: <% task().result %>}
""",
        "publish_chain": """
output: {final: <% $.z %>}
tasks:
  t1:
    action: std.echo output=1
    publish: {x: <% task().result %>}
    on-success: [t2]
  t2:
    action: std.echo output=<% $.x + 1 %>
    publish: {y: <% task().result %>}
    on-success: [t3]
  t3:
    action: std.echo output=<% $.y * 10 %>
    publish: {z: <% task().result %>}
""",
        "no_output_whole_context": """
input: [{a: 1}]
tasks:
  t:
    action: std.noop
    publish: {p: 2}
""",
        "global_publish": """
output: {g: <% global(g) %>, b: <% $.get(b) %>}
tasks:
  s:
    action: std.noop
    on-success: [a, b]
  a:
    action: std.noop
    on-success:
      publish:
        global: {g: from_a}
        branch: {b: from_a}
      next: [c]
  b:
    action: std.noop
    on-success: [c2]
  c:
    action: std.noop
    publish: {seen_g: <% global(g) %>, seen_b: <% $.b %>}
  c2:
    action: std.noop
    publish: {seen_g2: <% global(g) %>}
""",
        "keep_result_false": """
tasks:
  t1:
    action: std.echo output='big'
    keep-result: false
    publish: {p: <% task().result %>}
    on-success: [t2]
  t2:
    action: std.noop
    publish: {r1: <% task(t1).result %>}
""",
        "task_fields": """
tasks:
  t1:
    action: std.echo output='x'
    publish: {p: 1}
    on-success: [t2]
  t2:
    action: std.noop
    publish:
      keys: <% task(t1).keys().orderBy($) %>
      st: <% task(t1).state %>
      pub: <% task(t1).published %>
      res: <% task(t1).result %>
      typ: <% task(t1).type %>
      spec: <% task(t1).spec %>
      info: <% task(t1).state_info %>
""",
        "tasks_function": """
tasks:
  a:
    action: std.noop
    on-success: [b]
  b:
    action: std.fail
    on-error: [c]
  c:
    action: std.noop
    publish:
      all: <% tasks().select($.name).orderBy($) %>
      succ: <% tasks(state => SUCCESS).select($.name).orderBy($) %>
      err: <% tasks(execution().id, false, ERROR).select($.name) %>
      keys: <% tasks()[0].keys().orderBy($) %>
""",
        "tasks_function_own_execution": """
tasks:
  a:
    action: std.noop
    on-success: [b]
  b:
    action: std.fail
    on-error: [c]
  c:
    action: std.noop
    publish:
      all: <% tasks(execution().id).select($.name).orderBy($) %>
      succ: <% tasks(execution().id, false, SUCCESS).select($.name).orderBy($) %>
      err: <% tasks(execution().id, false, ERROR).select($.name) %>
      recursive: <% tasks(execution().id, true).len() %>
      flat: <% tasks(execution().id, false, null, true).len() %>
""",
        "execution_fields": """
input: [{a: 1}]
tasks:
  t:
    action: std.noop
    publish:
      keys: <% execution().keys().orderBy($) %>
      input: <% execution().input %>
      name: <% execution().name %>
      root: <% execution().root_execution_id %>
      spec_keys: <% execution().spec.keys().orderBy($) %>
""",
        "publish_overrides_input": """
input: [{a: 1}]
output: {a: <% $.a %>}
tasks:
  t:
    action: std.noop
    publish: {a: 2}
""",
        "publish_result_dict": """
tasks:
  t:
    action: std.echo
    input:
      output: {k: [1, 2], m: {n: 3}}
    publish:
      k: <% task().result.k %>
      n: <% task().result.m.n %>
      j: "{{ task().result.k | length }}"
""",
        "loop_counter": """
input: [{n: 0}]
output: {n: <% $.n %>}
tasks:
  inc:
    action: std.noop
    publish: {n: <% $.n + 1 %>}
    on-success:
      - inc: <% $.n < 3 %>
""",
        "publish_on_error": """
tasks:
  t:
    action: std.fail
    publish-on-error: {e: <% task().result %>, st: <% task().state %>}
    on-error: [h]
  h:
    action: std.noop
    publish: {seen: <% $.st %>}
""",
        "output_on_error": """
output-on-error: {why: <% execution().state %>, n: 1}
tasks:
  t:
    action: std.fail
""",
        "output_on_error_with_publish": """
output-on-error: {p: <% $.get(p) %>}
tasks:
  t:
    action: std.noop
    publish: {p: before}
    on-success: [f]
  f:
    action: std.fail
""",
        "task_input_expression_dict": """
input: [{args: {output: hi}}]
tasks:
  t:
    action: std.echo
    input: <% $.args %>
    publish: {r: <% task().result %>}
""",
        "task_input_expression_not_dict": """
tasks:
  t:
    action: std.echo
    input: <% [1, 2] %>
""",
        "action_name_expression": """
input: [{act: std.echo}]
tasks:
  t:
    action: <% $.act %> output=5
    publish: {r: <% task().result %>}
""",
        "action_unknown": """
tasks:
  t:
    action: std.nosuchaction
""",
        "action_unknown_expression": """
input: [{act: std.nosuch}]
tasks:
  t:
    action: <% $.act %>
""",
        "action_bad_input": """
tasks:
  t:
    action: std.echo nosuchparam=1
""",
        "test_dict": """
tasks:
  t:
    action: std.test_dict size=3 key_prefix="k_" val="v"
    publish: {r: <% task().result %>}
""",
        "sleep_then_echo": """
tasks:
  t:
    action: std.sleep seconds=1
    publish: {r: <% task().result %>}
""",
        "fail_with_error_data": """
tasks:
  t:
    action: std.fail error_data="bad thing"
    publish-on-error: {r: <% task().result %>}
""",
        "echo_types": """
tasks:
  t:
    action: std.echo
    input:
      output: [1, "a", null, true, 1.5, {x: [y]}]
    publish: {r: <% task().result %>}
""",
        "inline_params_types": """
tasks:
  t:
    action: std.echo output=[1,2]
    publish: {r: <% task().result %>}
    on-success: [u]
  u:
    action: std.echo output="quoted string"
    publish: {u: <% task().result %>}
    on-success: [v]
  v:
    action: std.echo output=true
    publish: {v: <% task().result %>}
""",
        "inline_bare_word": """
tasks:
  t:
    action: std.echo output=bare
    publish: {r: <% task().result %>}
""",
        "string_interpolation": """
input: [{n: 2}]
tasks:
  t:
    action: std.echo output="n is <% $.n %> and <% $.n * 2 %>"
    publish: {r: <% task().result %>, j: "n={{ _.n }}"}
""",
    }
    return [case(f"data.{k}", workflows=wf(v)) for k, v in specs.items()]


def families() -> dict[str, list[dict[str, Any]]]:
    """File name -> cases of this module."""
    return {
        "gen_flow_direct": transitions(), "gen_flow_errexpr": errors_in_clauses(),
        "gen_flow_join": joins(), "gen_flow_items": with_items(), "gen_flow_data": dataflow(),
    }


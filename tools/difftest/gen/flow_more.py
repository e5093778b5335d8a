# ruff: noqa: E501 - case tables
"""Sub-workflows, reverse workflows, ad-hoc actions and environments.

Ported from the behaviours of mistral/tests/unit/engine (test_subworkflows,
test_reverse_workflow, test_adhoc_actions, test_environment) with std actions.
"""

from __future__ import annotations

from typing import Any

from tools.difftest.gen.common import case, doc, wf


def subworkflows() -> list[dict[str, Any]]:
    """Parent/child input, output, failures, env, with-items over sub-workflows."""
    child_ok = """
child:
  input: [a, {b: 2}]
  output: {sum: <% $.a + $.b %>}
  tasks:
    c:
      action: std.noop
      publish: {inner: <% $.a %>}
"""
    child_fail = """
child:
  input: [a]
  tasks:
    c:
      action: std.fail
"""
    child_env = """
child:
  output: {e: <% env() %>, x: <% env().get(x) %>}
  tasks:
    c:
      action: std.noop
"""
    child_no_output = """
child:
  input: [a]
  tasks:
    c:
      action: std.noop
      publish: {pc: <% $.a %>}
"""
    parents = {
        "basic": (child_ok, """
parent:
  output: {r: <% $.r %>}
  tasks:
    p:
      workflow: child a=1
      publish: {r: <% task().result %>}
"""),
        "input_dict": (child_ok, """
parent:
  output: {r: <% $.r %>}
  tasks:
    p:
      workflow: child
      input: {a: 5, b: 5}
      publish: {r: <% task().result.sum %>}
"""),
        "child_fails": (child_fail, """
parent:
  tasks:
    p:
      workflow: child a=1
      on-error: [h]
    h:
      action: std.noop
      publish: {err: <% task(p).state %>}
"""),
        "child_fails_unhandled": (child_fail, """
parent:
  tasks:
    p:
      workflow: child a=1
"""),
        "env_inherited": (child_env, """
parent:
  tasks:
    p:
      workflow: child
      publish: {r: <% task().result %>}
"""),
        "no_output_context": (child_no_output, """
parent:
  tasks:
    p:
      workflow: child a=7
      publish: {r: <% task().result %>}
"""),
        "with_items": (child_ok, """
parent:
  output: {r: <% $.r %>}
  tasks:
    p:
      with-items: x in [1, 2, 3]
      workflow: child a=<% $.x %>
      publish: {r: <% task().result %>}
"""),
        "with_items_concurrency": (child_ok, """
parent:
  output: {r: <% $.r %>}
  tasks:
    p:
      with-items: x in [1, 2, 3]
      concurrency: 1
      workflow: child a=<% $.x %>
      publish: {r: <% task().result.select($.sum) %>}
"""),
        "missing_input": (child_ok, """
parent:
  tasks:
    p:
      workflow: child
"""),
        "unexpected_input": (child_ok, """
parent:
  tasks:
    p:
      workflow: child a=1 zzz=2
"""),
        "unknown_child": (child_ok, """
parent:
  tasks:
    p:
      workflow: nosuchchild
"""),
        "parallel_children_publish": (child_no_output, """
parent:
  output: {pc: <% $.get(pc) %>, r1: <% $.r1 %>, r2: <% $.r2 %>}
  tasks:
    s:
      action: std.noop
      on-success: [p1, p2]
    p1:
      workflow: child a=1
      publish: {r1: <% task().result.pc %>}
      on-success: [j]
    p2:
      workflow: child a=2
      publish: {r2: <% task().result.pc %>}
      on-success: [j]
    j:
      join: all
      action: std.noop
"""),
        "child_name_expression": (child_ok, """
parent:
  input: [{w: child}]
  tasks:
    p:
      workflow: <% $.w %> a=3
      publish: {r: <% task().result %>}
"""),
    }
    out = []
    for key, (child, parent) in parents.items():
        params = {"env": {"x": 42}} if key.startswith("env") else None
        out.append(case(f"sub.{key}", workflows=doc(parent + child), workflow="parent",
                        params=params, exact_info=True))
    return out


def reverse() -> list[dict[str, Any]]:
    """Reverse workflows: the target task's dependencies only."""
    body = """
type: reverse
tasks:
  a:
    action: std.echo output='a'
    publish: {a: <% task().result %>}
  b:
    action: std.echo output=<% $.a + 'b' %>
    requires: [a]
    publish: {b: <% task().result %>}
  c:
    action: std.noop
    requires: a
  d:
    action: std.echo output=<% $.b + 'd' %>
    requires: [b, c]
    publish: {d: <% task().result %>}
  f:
    action: std.fail
    requires: [a]
  g:
    action: std.noop
    requires: [f]
"""
    out = []
    for target in ("a", "b", "c", "d", "f", "g", "nosuch"):
        out.append(case(f"reverse.target_{target}", workflows=wf(body),
                        params={"task_name": target}))
    out.append(case("reverse.no_target", workflows=wf(body)))
    return out


def adhoc() -> list[dict[str, Any]]:
    """Ad-hoc actions: base-input, output transform, env() in base-input, defaults, chains."""
    actions = doc("""
greet:
  base: std.echo
  base-input:
    output: "Hello, <% $.name %>"
  input: [name]
  output: <% $ + '!' %>
greet_default:
  base: std.echo
  base-input:
    output: <% $.who %>
  input: [{who: world}]
env_echo:
  base: std.echo
  base-input:
    output: <% env().get(greeting, none) %>
jinja_echo:
  base: std.echo
  base-input:
    output: "{{ _.a * 2 }}"
  input: [a]
chained:
  base: greet
  base-input:
    name: <% $.first + ' ' + $.last %>
  input: [first, last]
  output: <% $.len() %>
dict_out:
  base: std.echo
  base-input:
    output: {a: <% $.v %>, b: [<% $.v %>]}
  input: [v]
  output:
    a2: <% $.a * 2 %>
fails:
  base: std.fail
""")
    calls = {
        "greet": "greet name='bob'", "default": "greet_default", "default_given": "greet_default who='me'",
        "env": "env_echo", "jinja": "jinja_echo a=4", "chained": "chained first='a' last='b'",
        "dict_out": "dict_out v=3", "missing_input": "greet", "unexpected": "greet name='a' x=1",
        "fails": "fails",
    }
    out = []
    for key, call in calls.items():
        body = f"""
tasks:
  t:
    action: {call}
    publish: {{r: <% task().result %>}}
"""
        out.append(case(f"adhoc.{key}", actions=actions, workflows=wf(body),
                        params={"env": {"greeting": "hi"}} if key == "env" else None))
    out.append(case("adhoc.unknown_base", actions=doc("bad:\n  base: std.nosuch\n"),
                    workflows=wf("tasks:\n  t:\n    action: bad\n")))
    return out


def env_cases() -> list[dict[str, Any]]:
    """env() in tasks, __actions defaults, evaluate_env, environments by name."""
    body = """
output: {e: <% env() %>, r: <% $.get(r) %>}
tasks:
  t:
    action: std.echo output=<% env().get(x) %>
    publish: {r: <% task().result %>}
"""
    acts_body = """
tasks:
  t:
    action: std.echo
    publish: {r: <% task().result %>}
"""
    out = [
        case("env.inline", workflows=wf(body), params={"env": {"x": 1}}),
        case("env.none", workflows=wf(body)),
        case("env.named", workflows=wf(body), environments={"e1": {"x": "named"}},
             params={"env": "e1"}),
        case("env.unknown_named", workflows=wf(body), params={"env": "dt_nosuch_env"}),
        case("env.expression_evaluated", workflows=wf(body),
             params={"env": {"x": "<% 1 + 1 %>"}}),
        case("env.evaluate_env_false", workflows=wf(body),
             params={"env": {"x": "<% 1 + 1 %>"}, "evaluate_env": False}),
        case("env.actions_defaults", workflows=wf(acts_body),
             params={"env": {"__actions": {"std.echo": {"output": "from_env"}}}}),
        case("env.not_dict", workflows=wf(body), params={"env": 5}),
        case("env.jinja", workflows=wf(body.replace("<% env().get(x) %>", '"{{ env().x }}"')),
             params={"env": {"x": "j"}}),
    ]
    return out


def families() -> dict[str, list[dict[str, Any]]]:
    """File name -> cases of this module."""
    return {"gen_flow_sub": subworkflows(), "gen_flow_reverse": reverse(),
            "gen_flow_adhoc": adhoc(), "gen_flow_env": env_cases()}

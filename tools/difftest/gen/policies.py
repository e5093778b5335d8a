# ruff: noqa: E501 - case tables
"""Task policies: retry, wait-before/after, timeout, pause-before, concurrency, fail-on,
keep-result, task-defaults; each also given as expressions of the right and the wrong type.

Ported from mistral/tests/unit/engine/test_policies.py, test_task_defaults.py and
test_retry_policy behaviours with std.fail / std.noop / std.sleep.
"""

from __future__ import annotations

from typing import Any

from tools.difftest.gen.common import case, slug, wf

RESUME = {"call": {"method": "PUT", "path": "/executions/{ex}", "body": {"state": "RUNNING"}}}


def _task(action: str, policy: str, extra: str = "") -> str:
    return f"""
input: [{{v: 1}}]
tasks:
  t:
    action: {action}
    {policy}
    publish: {{done: yes}}{extra}
"""


def retries() -> list[dict[str, Any]]:
    """Retry counts, delays, break-on, continue-on, expression forms."""
    retry = {
        "count0": "retry: {count: 0, delay: 0}",
        "count1": "retry: {count: 1, delay: 0}",
        "count3": "retry: {count: 3, delay: 0}",
        "count2_delay1": "retry: {count: 2, delay: 1}",
        "oneline": "retry: count=2 delay=0",
        "expr_count": "retry: {count: <% $.v + 1 %>, delay: 0}",
        "expr_delay": "retry: {count: 1, delay: <% $.v %>}",
        "bad_count_str": "retry: {count: <% 'abc' %>, delay: 0}",
        "bad_delay_str": "retry: {count: 1, delay: <% 'abc' %>}",
        "bad_count_list": "retry: {count: <% [1] %>, delay: 0}",
        "negative_count": "retry: {count: <% -1 %>, delay: 0}",
        "break_on_true": "retry: {count: 3, delay: 0, break-on: <% true %>}",
        "break_on_false": "retry: {count: 2, delay: 0, break-on: <% false %>}",
        "break_on_state": "retry: {count: 3, delay: 0, break-on: <% task().state = ERROR %>}",
        "continue_on_false": "retry: {count: 3, delay: 0, continue-on: <% false %>}",
        "continue_on_true": "retry: {count: 2, delay: 0, continue-on: <% true %>}",
        "break_on_bad_expr": "retry: {count: 2, delay: 0, break-on: <% int('x') %>}",
    }
    out = []
    for key, pol in retry.items():
        for res, action in (("fail", "std.fail"), ("ok", "std.noop")):
            out.append(case(f"policy.retry.{key}.{res}",
                            workflows=wf(_task(action, pol, "\n    on-error: [h]\n  h:\n"
                                                            "    action: std.noop"))))
    body = """
input: [{v: 1}]
tasks:
  t:
    with-items: x in [1, 2]
    action: std.fail
    retry: {count: 1, delay: 0}
"""
    out.append(case("policy.retry.with_items", workflows=wf(body)))
    body = """
tasks:
  t:
    action: std.echo output=<% task().get(retry_no, none) %>
    retry: {count: 2, delay: 0, continue-on: <% true %>}
    publish: {r: <% task().result %>}
"""
    out.append(case("policy.retry.continue_on_echo", workflows=wf(body)))
    return out


SCALARS = {
    "wait_before": ("wait-before", ["1", "0", "<% 1 %>", "<% 'abc' %>", "<% [1] %>", "'2'",
                                    "<% -1 %>", "<% 0.5 %>", "<% null %>"]),
    "wait_after": ("wait-after", ["1", "0", "<% $.v %>", "<% 'abc' %>", "<% {a => 1} %>",
                                  "<% true %>", "<% null %>"]),
    "timeout": ("timeout", ["1", "5", "<% 1 %>", "<% 'abc' %>", "<% [1] %>", "0", "<% null %>"]),
    "fail_on": ("fail-on", ["true", "false", "<% true %>", "<% $.v = 1 %>", "<% $.v = 2 %>",
                            "<% 'abc' %>", "<% int('x') %>", "<% task().result = null %>"]),
    "keep_result": ("keep-result", ["false", "true", "<% false %>", "<% 'abc' %>"]),
    "safe_rerun": ("safe-rerun", ["true", "<% true %>", "<% 'abc' %>"]),
}


def scalar_policies() -> list[dict[str, Any]]:
    """Each scalar policy with literal/expression values, some of the wrong type."""
    out = []
    for key, (attr, values) in SCALARS.items():
        for i, value in enumerate(values):
            for res, action in (("ok", "std.echo output='r'"), ("sleep", "std.sleep seconds=2"),
                                ("fail", "std.fail")):
                if res == "sleep" and key != "timeout":
                    continue
                pol = f"{attr}: {value}"
                out.append(case(f"policy.{key}.{i}_{slug(value, 20)}.{res}",
                                workflows=wf(_task(action, pol))))
    return out


def pause_and_concurrency() -> list[dict[str, Any]]:
    """pause-before (then resume) and with-items concurrency values."""
    out = []
    for i, value in enumerate(("true", "<% true %>", "false", "<% $.v = 1 %>", "<% 'abc' %>")):
        steps = [{"start": {}}, {"wait": ["PAUSED", "SUCCESS", "ERROR"]}, {"observe": "first"},
                 RESUME, {"wait": ["SUCCESS", "ERROR"]}, {"observe": "final"}]
        body = _task("std.echo output=1", f"pause-before: {value}")
        out.append(case(f"policy.pause_before.{i}_{slug(value, 20)}", workflows=wf(body), steps=steps))
    for i, value in enumerate(("1", "2", "0", "<% 2 %>", "<% $.v %>", "<% 'abc' %>", "<% [1] %>", "<% -1 %>",
                  "<% null %>")):
        body = f"""
input: [{{v: 1}}]
tasks:
  t:
    with-items: x in [1, 2, 3]
    action: std.echo output=<% $.x %>
    concurrency: {value}
    publish: {{r: <% task().result %>}}
"""
        out.append(case(f"policy.concurrency.{i}_{slug(value, 20)}", workflows=wf(body)))
    return out


def task_defaults() -> list[dict[str, Any]]:
    """task-defaults for policies and transitions; the task's own value wins."""
    specs = {
        "on_error_default": """
task-defaults:
  on-error: [h]
tasks:
  t:
    action: std.fail
  h:
    action: std.noop
""",
        "on_error_overridden": """
task-defaults:
  on-error: [h]
tasks:
  t:
    action: std.fail
    on-error: [h2]
  h:
    action: std.noop
  h2:
    action: std.noop
""",
        "retry_default": """
task-defaults:
  retry: {count: 2, delay: 0}
tasks:
  t:
    action: std.fail
""",
        "on_complete_default_self": """
task-defaults:
  on-complete: [t2]
tasks:
  t:
    action: std.noop
  t2:
    action: std.noop
""",
        "fail_on_default": """
task-defaults:
  fail-on: <% true %>
tasks:
  t:
    action: std.noop
""",
        "timeout_default": """
task-defaults:
  timeout: 1
tasks:
  t:
    action: std.sleep seconds=3
""",
        "wait_before_default": """
task-defaults:
  wait-before: 1
tasks:
  t:
    action: std.echo output=1
    publish: {r: <% task().result %>}
""",
    }
    return [case(f"policy.defaults.{k}", workflows=wf(v)) for k, v in specs.items()]


def families() -> dict[str, list[dict[str, Any]]]:
    """File name -> cases of this module."""
    return {"gen_policies": retries() + scalar_policies() + pause_and_concurrency()
            + task_defaults()}

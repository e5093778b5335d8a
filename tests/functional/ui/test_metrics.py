"""``/metrics`` scraped after real executions on a real server (Prometheus text format)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.functional.client.server import ServerProcess, free_port
from tests.functional.ui.conftest import api, wait_state, wait_until

FLOW = """
version: '2.0'
metered:
  input: [fail]
  tasks:
    first:
      action: std.echo output=1
      on-success: [second]
    second:
      action: std.sleep seconds=0.05
      on-success: [maybe_fail]
    maybe_fail:
      action: std.fail
      on-success: []
    """


def _samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = requests.get(url, timeout=10).text
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _grafana_metrics() -> set[str]:
    """Every series name the shipped Grafana dashboard queries."""
    board = json.loads((Path(__file__).parents[3] / "etc" / "grafana-wfaas.json").read_text())
    exprs = [t["expr"] for panel in board["panels"] for t in panel["targets"]]
    return {m for e in exprs for m in re.findall(r"wfaas_[a-z_]+", e)}


def test_metrics_count_what_ran(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path).start()
    try:
        api(srv, "POST", "/v2/workflows", data=FLOW.replace("      on-success: []\n", ""),
            headers={"Content-Type": "text/plain"})
        ids = [api(srv, "POST", "/v2/executions", json={
            "workflow_name": "metered", "input": json.dumps({"fail": True})})["id"]
            for _ in range(3)]
        for ex_id in ids:
            assert wait_state(srv, ex_id, {"SUCCESS", "ERROR"}) == "ERROR"
        got = wait_until(lambda: (s := _samples(srv.url + "/metrics")).get(
            ("wfaas_executions_finished_total", (("state", "ERROR"),)), 0) >= 3 and s,
            what="3 finished executions in /metrics")
        assert got[("wfaas_executions_started_total", ())] >= 3
        assert got[("wfaas_task_duration_seconds_count", (("state", "SUCCESS"),))] >= 6
        assert got[("wfaas_task_duration_seconds_count", (("state", "ERROR"),))] >= 3
        assert got[("wfaas_action_duration_seconds_count", (("outcome", "error"),))] >= 3
        slow = got[("wfaas_action_duration_seconds_sum", (("outcome", "success"),))]
        assert slow >= 3 * 0.05                  # the std.sleep of each run was timed
        assert got[("wfaas_engine_step_seconds_count", ())] >= 3
        assert got[("wfaas_db_commit_seconds_count", ())] >= 6
        assert ("wfaas_queue_depth", (("queue", "executor_in_flight"),)) in got
        headers = requests.get(srv.url + "/metrics", timeout=10).headers
        assert headers["Content-Type"].startswith("text/plain")
        text = requests.get(srv.url + "/metrics", timeout=10).text
        families = {f.name for f in text_string_to_metric_families(text)}
        for name in _grafana_metrics():
            base = re.sub(r"_(bucket|count|sum|total)$", "", name)
            assert base in families, f"etc/grafana-wfaas.json uses {name}, not served"
    finally:
        assert srv.stop() == 0


@pytest.mark.slow
def test_metrics_off_and_on_their_own_port(tmp_path: Path) -> None:
    port = free_port()
    srv = ServerProcess(tmp_path, extra_conf=(
        f"[metrics]\nenabled = True\nport = {port}\n[dashboard]\nenabled = False\n")).start()
    try:
        assert requests.get(srv.url + "/ui/", timeout=10).status_code == 404
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert "wfaas_executions_started_total" in text
    finally:
        assert srv.stop() == 0


BREACHES = """
version: '2.0'
greedy:
  tasks:
    spin:
      action: std.echo output=<% range(100000).sum() %>
wide:
  tasks:
    fan:
      with-items: i in <% range(5).toList() %>
      action: std.echo output=<% $.i %>
outbound:
  tasks:
    call:
      action: std.http url="http://127.0.0.1:9/" timeout=2
"""


def _breaches(url: str) -> dict[str, float]:
    return {dict(labels)["limit"]: value for (name, labels), value in _samples(url).items()
            if name == "wfaas_limit_breaches_total"}


def test_limit_breaches_are_counted_by_limit(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path, extra_conf=(
        "[expressions]\nmax_fuel = 5000\n[limits]\nmax_with_items = 3\n")).start()
    try:
        api(srv, "POST", "/v2/workflows", data=BREACHES, headers={"Content-Type": "text/plain"})
        assert _breaches(srv.url + "/metrics") == {}
        for name, why in (("greedy", "([expressions] max_fuel)"),
                          ("wide", "([limits] max_with_items)"),
                          ("outbound", "denied network 127.0.0.0/8")):
            ex_id = api(srv, "POST", "/v2/executions", json={"workflow_name": name})["id"]
            assert wait_state(srv, ex_id, {"SUCCESS", "ERROR"}) == "ERROR"
            ex = api(srv, "GET", f"/v2/executions/{ex_id}")
            tasks = api(srv, "GET", f"/v2/executions/{ex_id}/tasks")["tasks"]
            told = " ".join([ex["state_info"] or ""] + [t["state_info"] or "" for t in tasks])
            assert why in told, told
        bad = requests.post(srv.url + "/v2/executions", data='{"workflow_name": NaN}',
                            headers={"Content-Type": "application/json"}, timeout=10)
        assert bad.status_code == 400
        deep = requests.post(srv.url + "/v2/executions", timeout=10, json={
            "workflow_name": "greedy", "input": "[" * 200 + "]" * 200})
        assert deep.status_code == 400 and "max_json_depth" in deep.text
        assert _breaches(srv.url + "/metrics") == {
            "expressions.max_fuel": 1.0, "limits.max_with_items": 1.0, "egress": 1.0,
            "input": 1.0, "api.max_json_depth": 1.0}
    finally:
        assert srv.stop() == 0

"""A real workflow (wfaas Runtime, SQLite) calling OpenStack actions on a real Keystone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wfaas.actions.openstack.auth import OpenStackSettings
from wfaas.actions.openstack.provider import OpenStackProvider

from .conftest import Stack

pytestmark = pytest.mark.keystone

WORKFLOW = """
version: '2.0'
provision_tenant:
  input:
    - project_name
    - rp_name
  output:
    project_id: <% $.project.id %>
    listed: <% $.listed %>
    provider_generation: <% $.rp.generation %>
  tasks:
    create_project:
      action: keystone.projects_create name=<% $.project_name %> domain=default
      publish:
        project: <% task().result %>
      on-success: [find_it]
    find_it:
      action: identity.projects
      input:
        name: <% $.project_name %>
      publish:
        listed: <% task().result.select($.name) %>
      on-success: [create_rp]
    create_rp:
      action: placement.create_resource_provider name=<% $.rp_name %>
      publish:
        rp: <% task().result %>
      on-success: [cleanup_rp]
    cleanup_rp:
      action: placement.delete_resource_provider resource_provider=<% $.rp.id %>
      on-success: [cleanup_project]
    cleanup_project:
      action: keystone.projects_delete project=<% $.project.id %>
      on-success: [no_compute_here]
    no_compute_here:
      action: nova.servers_list
      on-error: [noted]
    noted:
      action: std.noop
"""


@pytest.fixture()
def runtime(tmp_path: Path, keystone: Stack) -> Iterator[Any]:
    from wfaas.actions.registry import CompositeProvider, StdProvider
    from wfaas.db import api, migration
    from wfaas.db import models as m
    from wfaas.db.session import make_engine, session_scope
    from wfaas.services.runtime import Runtime

    engine = make_engine(f"sqlite:///{tmp_path / 'wfaas.db'}")
    migration.ensure_schema(engine)
    with session_scope(engine) as s:
        api.create(s, m.WorkflowDefinition, name="provision_tenant", namespace="",
                   definition=WORKFLOW, input="project_name, rp_name")
    provider = CompositeProvider([
        StdProvider(),
        OpenStackProvider(OpenStackSettings(cloud="wfaas-admin", region_name="RegionOne"))])
    rt = Runtime(engine, provider=provider)
    rt.start()
    try:
        yield rt
    finally:
        rt.stop()


def test_workflow_creates_and_cleans_up(runtime: Any) -> None:
    name = f"wf-{uuid.uuid4().hex[:8]}"
    ex = runtime.start_workflow("provision_tenant",
                                input={"project_name": name, "rp_name": name + "-rp"})
    done = runtime.wait_execution(ex["id"], timeout=60)
    assert done["state"] == "SUCCESS", done.get("state_info")
    output = done["output"]
    assert output["listed"] == [name]
    assert output["provider_generation"] == 0
    assert len(output["project_id"]) == 32
    with runtime.session() as s:
        from wfaas.db import models as m

        tasks = {t.name: t for t in s.query(m.TaskExecution).filter_by(
            workflow_execution_id=ex["id"])}
        assert tasks["no_compute_here"].state == "ERROR"
        assert "service compute is not in the catalog of region RegionOne" in str(
            tasks["no_compute_here"].state_info)


def test_ad_hoc_action_execution(runtime: Any) -> None:
    # what POST /v2/action_executions does
    done = runtime.run_action("keystone.projects_list", {"name": "admin"})
    assert done["state"] == "SUCCESS", done
    [project] = done["output"]["result"]
    assert project["name"] == "admin"
    failed = runtime.run_action("identity.get_project", {"project": "no-such-project"})
    assert failed["state"] == "ERROR"
    assert "HTTP 404" in str(failed["output"]["result"])

"""The real ``mistral`` client (python-mistralclient 6.3.0) with Keystone authentication:
the ``member-*`` commands share a workflow between the two projects, and a sample of
commands shows one project's objects stay invisible to the other."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.functional.client.conftest import VENV, mistral_bin  # noqa: F401 (a fixture)
from tests.functional.isolation.conftest import KEYSTONE, USERS, AuthServer, Caller
from tests.functional.isolation.test_matrix import WF

pytestmark = pytest.mark.keystone


class Mistral:
    """``mistral`` as one Keystone user, against the auth server."""

    def __init__(self, who: str, url: str) -> None:
        user, password, project = USERS[who]
        self.env = {**os.environ, "OS_AUTH_URL": KEYSTONE, "OS_USERNAME": user,
                    "OS_PASSWORD": password, "OS_PROJECT_NAME": project,
                    "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
                    "OS_MISTRAL_URL": url + "/v2"}
        for key in ("OS_CLIENT_CONFIG_FILE", "OS_CLOUD", "OS_TOKEN"):
            self.env.pop(key, None)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(VENV / "bin" / "mistral"), *args], capture_output=True,
                              text=True, env=self.env, timeout=120, check=False)

    def json(self, *args: str) -> Any:
        proc = self.run(*args, "-f", "json")
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def clients(auth_server: AuthServer, mistral_bin: Path  # noqa: F811
            ) -> tuple[Mistral, Mistral]:
    # mistral_bin installs python-mistralclient 6.3.0 into VENV when it is not there yet
    return Mistral("admin", auth_server.url), Mistral("demo", auth_server.url)


def test_member_commands_share_a_workflow(clients: tuple[Mistral, Mistral], demo: Caller,
                                          tmp_path: Path) -> None:
    owner, member = clients
    definition = tmp_path / "wf.yaml"
    definition.write_text(WF.format(name="cli_shared"))
    [wf] = owner.json("workflow-create", str(definition))
    assert member.run("workflow-get", wf["ID"]).returncode != 0
    created = owner.json("member-create", wf["ID"], "workflow", demo.project_id)
    assert (created["Resource ID"], created["Member ID"], created["Status"]) == (
        wf["ID"], demo.project_id, "pending")
    assert [m["Member ID"] for m in owner.json("member-list", wf["ID"], "workflow")] == [
        demo.project_id]
    # (-m: with OS_MISTRAL_URL the client does not know its own project id, and asks
    # for ".../members/", the list, as it would of Mistral)
    assert member.json("member-get", wf["ID"], "workflow", "-m",
                       demo.project_id)["Status"] == "pending"
    assert owner.json("member-get", wf["ID"], "workflow", "-m",
                      demo.project_id)["Status"] == "pending"
    assert "cli_shared" not in [w["Name"] for w in member.json("workflow-list")]
    updated = member.json("member-update", wf["ID"], "workflow", "-m", demo.project_id,
                          "-s", "accepted")
    assert updated["Status"] == "accepted"
    assert member.json("workflow-get", wf["ID"])["Name"] == "cli_shared"
    execution = member.json("execution-create", wf["ID"], "{}")
    assert execution["Workflow ID"] == wf["ID"]
    assert owner.run("execution-get", execution["ID"]).returncode != 0
    refused = member.run("member-delete", wf["ID"], "workflow", demo.project_id)
    assert refused.returncode != 0 and "not found" in (refused.stdout + refused.stderr)
    assert owner.run("member-delete", wf["ID"], "workflow", demo.project_id).returncode == 0
    # an empty list is one row of empty cells in mistralclient's tables
    assert [m["Member ID"] for m in owner.json("member-list", wf["ID"], "workflow")] in ([],
                                                                                       [""])
    assert member.run("workflow-get", wf["ID"]).returncode != 0


def test_a_sample_of_commands_stays_in_its_project(clients: tuple[Mistral, Mistral],
                                                   tmp_path: Path) -> None:
    owner, member = clients
    definition = tmp_path / "wf.yaml"
    definition.write_text(WF.format(name="cli_private"))
    [wf] = owner.json("workflow-create", str(definition))
    proc = owner.run("environment-create", "-f", "json", str(_env_file(tmp_path)))
    assert proc.returncode == 0, proc.stderr
    for args in (("workflow-get", wf["ID"]), ("workflow-get", "cli_private"),
                 ("workflow-get-definition", wf["ID"]), ("execution-create", wf["ID"]),
                 ("execution-create", "cli_private"), ("environment-get", "cli_env"),
                 ("workflow-delete", wf["ID"])):
        proc = member.run(*args)
        assert proc.returncode != 0, (args, proc.stdout)
        assert "not found" in (proc.stdout + proc.stderr).lower(), (args, proc.stderr)
    assert "cli_private" not in [w["Name"] for w in member.json("workflow-list")]
    assert "cli_env" not in [e["Name"] for e in member.json("environment-list")]
    assert "cli_private" in [w["Name"] for w in owner.json("workflow-list")]


def _env_file(tmp_path: Path) -> Path:
    path = tmp_path / "env.json"
    path.write_text(json.dumps({"name": "cli_env", "variables": {"k": "v"}}))
    return path

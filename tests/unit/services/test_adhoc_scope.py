"""Ad-hoc actions resolved for a running action see only its project's own and public
definitions (a private ad-hoc action of another project is not runnable)."""

from __future__ import annotations

from wfaas.db import models as m
from wfaas.services.adhoc import DbAdHocLoader
from wfaas.services.runtime import Runtime
from wfaas.utils.scope import acting_for

DEFINITION = "version: '2.0'\n{name}:\n  base: std.echo\n  base-input:\n    output: {said}\n"


def _store(rt: Runtime, name: str, project: str, scope: str, said: str) -> None:
    with rt.session() as s:
        s.add(m.ActionDefinition(name=name, namespace="", project_id=project, scope=scope,
                                 is_system=False, source="adhoc", input="",
                                 definition=DEFINITION.format(name=name, said=said)))


def _said(loader: DbAdHocLoader, name: str) -> list[str]:
    return [str(spec.base_input.get("output")) for spec in loader("", name)]


def test_private_ad_hoc_actions_stay_in_their_project(runtime: Runtime) -> None:
    _store(runtime, "secret", "alpha", "private", "alpha-secret")
    _store(runtime, "shared", "alpha", "public", "alpha-public")
    _store(runtime, "shared", "beta", "private", "beta-own")
    loader = DbAdHocLoader(runtime.sessions)
    with acting_for("beta"):
        assert _said(loader, "secret") == []                 # alpha's private one: invisible
        assert _said(loader, "shared") == ["beta-own"]       # own shadows the public one
        assert {s.name for s in loader("", None)} == {"shared"}
    with acting_for("alpha"):
        assert _said(loader, "secret") == ["alpha-secret"]
        assert _said(loader, "shared") == ["alpha-public"]
    with acting_for("gamma"):
        assert _said(loader, "shared") == ["alpha-public"]   # public: everyone
        assert _said(loader, "secret") == []
    assert len(_said(loader, "shared")) == 1   # no project known: no rule, one per name

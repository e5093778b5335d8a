"""A bounded schemathesis run over the served OpenAPI document: no request may get a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from tests.functional.api.conftest import HELLO_WF, make_conf, make_runtime  # noqa: E402
from wfaas.api.app import setup_app  # noqa: E402

pytestmark = pytest.mark.slow

_STATE: dict[str, Any] = {}


def _app() -> Any:
    """One app over one runtime for the whole run (built on first use)."""
    if "app" not in _STATE:
        import tempfile

        where = Path(tempfile.mkdtemp(prefix="wfaas-fuzz-"))
        conf = make_conf(where)
        runtime = make_runtime(conf)
        _STATE.update(runtime=runtime, app=setup_app(runtime, conf))
        from webtest import TestApp

        TestApp(_STATE["app"]).post("/v2/workflows", HELLO_WF.encode(),
                                    headers={"Content-Type": "text/plain"})
    return _STATE["app"]


@pytest.fixture(scope="module", autouse=True)
def _stop_runtime() -> Iterator[None]:
    yield
    if "runtime" in _STATE:
        _STATE.pop("runtime").close()
        _STATE.clear()


schema = schemathesis.openapi.from_wsgi("/v2/openapi.json", _app())


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any) -> None:
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])

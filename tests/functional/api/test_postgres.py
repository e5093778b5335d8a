"""The API suite's query-heavy tests again, on PostgreSQL (a private schema per test).

The test functions are imported from the SQLite modules; the ``runtime`` fixture
below replaces theirs, so the same behaviour is checked on the second back-end.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text

from tests.functional.api.test_executions import (  # noqa: F401
    test_cancel_and_delete,
    test_client_id_is_idempotent,
    test_create_and_get_match_the_samples,
    test_list_filters_output_and_pagination,
    test_sub_executions_and_report,
)
from tests.functional.api.test_resources import (  # noqa: F401
    test_cron_trigger_matches_sample,
    test_environment_lifecycle_matches_sample,
)
from tests.functional.api.test_tasks_actions import (  # noqa: F401
    test_run_action_save_result,
    test_run_action_sync_not_saved,
    test_skip_a_failed_task,
    test_task_wire_format,
)
from tests.functional.api.test_workflows import (  # noqa: F401
    test_filters_and_fields,
    test_list_pagination_and_next_link,
    test_namespaces_keep_same_names_apart,
    test_tags_filter_requires_every_tag,
    test_update_by_name_and_by_id,
    test_workbook_lifecycle,
)
from wfaas.db import migration
from wfaas.db.session import make_engine

pytestmark = pytest.mark.postgres

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _admin() -> Any:
    try:
        engine = create_engine(PG_URL)
        with engine.connect():
            pass
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable
        pytest.skip(f"PostgreSQL at {PG_URL} unreachable: {type(exc).__name__}")
    return engine


@pytest.fixture
def runtime() -> Iterator[Any]:
    from wfaas.services.runtime import Runtime

    schema = "api_" + uuid.uuid4().hex[:12]
    admin = _admin()
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(PG_URL, pool_size=4)

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f'SET search_path TO "{schema}"')
        cur.close()
        dbapi_conn.commit()

    migration.upgrade(engine)
    rt = Runtime(engine, embedded=True)
    rt.start()
    try:
        yield rt
    finally:
        rt.close()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

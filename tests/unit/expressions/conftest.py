"""Shared fixtures: every test starts and ends with the default expression settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wfaas.expressions import configure, set_function_manager


@pytest.fixture(autouse=True)
def _default_settings() -> Iterator[None]:
    configure()
    yield
    configure()
    set_function_manager(None)

"""Booleans written as words in query strings and bodies (``true/false/1/0/yes/no``)."""

from __future__ import annotations

from typing import Any

from wfaas.exceptions import ClientError

TRUE_WORDS = ("true", "1", "yes", "on", "y")
FALSE_WORDS = ("false", "0", "no", "off", "n", "")


def to_bool(value: Any, name: str) -> bool:
    """``value`` (bool or word) as a boolean; anything else -> 400 naming ``name``."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ClientError(f"Invalid value for '{name}': {value!r} is not a boolean")

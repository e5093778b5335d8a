"""Column types shared by the models: JSON stored as TEXT, UTC timestamps, ids."""

from __future__ import annotations

import datetime as _dt
import json
import threading
import uuid
from typing import Any

from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)
#: CPython's C encoder factory (None elsewhere: then JSONEncoder.encode each time)
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
#: per thread: a C encoder made once (``JSONEncoder.encode`` makes one per call, about
#: half the time of encoding a small dict); its circular-reference markers are its own
_THREAD = threading.local()


def _encode(value: Any) -> str:
    """``_ENCODER.encode(value)``, with this thread's reusable C encoder."""
    if _c_make_encoder is None or isinstance(value, str):
        return _ENCODER.encode(value)
    enc = getattr(_THREAD, "encoder", None)
    if enc is None:
        enc = _THREAD.encoder = _c_make_encoder(
            {}, str, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    try:
        return "".join(enc(value, 0))
    except BaseException:
        _THREAD.encoder = None  # a failure may leave markers behind: a fresh one next
        raise


class EncodedJson(str):
    """A value already serialised by :func:`encode_json` (the text :class:`JsonText`
    would write): stored as it is, so a value measured before it is written is
    serialised once."""

    __slots__ = ()


def encode_json(value: Any) -> EncodedJson:
    """``value`` as the JSON text a :class:`JsonText` column stores."""
    return EncodedJson(_encode(value))


class JsonText(TypeDecorator[Any]):
    """A JSON value kept in a TEXT column (identical on SQLite and PostgreSQL).

    ``None`` is stored as SQL NULL; every other value is serialised with
    ``json.dumps`` (compact separators, non-ASCII kept as is).
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if type(value) is EncodedJson:
            return str(value)
        return _encode(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return json.loads(value)


def new_id() -> str:
    """A new random object id (a UUID4 string, the format Mistral uses)."""
    return str(uuid.uuid4())


def utcnow() -> _dt.datetime:
    """The current UTC time as a naive datetime (seconds precision, like Mistral)."""
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None, microsecond=0)


def utcnow_precise() -> _dt.datetime:
    """The current UTC time as a naive datetime with microseconds."""
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None)

"""Stored JSON text re-spaced for the wire equals decoding and encoding it."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from wfaas.api.resources import encode, wire_from_stored
from wfaas.db.types import encode_json
from wfaas.services.api.listing import StoredJson

TRICKY: list[Any] = [
    {}, [], {"a": 1}, {"a,b": "c:d", "x": [1, 2.5, None, True, False]}, {"": ""},
    {"k": "é ü 漢 😀"}, {"n": "line\nbreak", "q": 'say "hi"', "b": "back\\slash"},
    1e16, -0.0, 12345678901234567890, [[], {}], {"s": " , : "}, 0, True,
    ["a", {"b": [1, {"c": ":"}]}],
    # a string at the top: kept as is when it holds JSON (as for a decoded value)
    "plain", '{"a":1}', "a,b:c", "",
]


def _random_value(rnd: random.Random, depth: int = 0) -> Any:
    kind = rnd.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return rnd.choice([None, True, False])
    if kind == 1:
        return rnd.randint(-10**6, 10**6)
    if kind == 2:
        return rnd.random() * 10 ** rnd.randint(-5, 20)
    if kind == 3:
        return "".join(rnd.choice('ab,: "\\\n{}[]é😀') for _ in range(rnd.randrange(6)))
    if kind in (4, 5):
        return {"".join(rnd.choice('k,:" é') for _ in range(3)): _random_value(rnd, depth + 1)
                for _ in range(rnd.randrange(4))}
    return [_random_value(rnd, depth + 1) for _ in range(rnd.randrange(4))]


@pytest.mark.parametrize("value", TRICKY, ids=range(len(TRICKY)))
def test_tricky_values_match_the_decoded_path(value: Any) -> None:
    stored = str(encode_json(value))
    assert encode("json", StoredJson(stored)) == encode("json", json.loads(stored))


def test_random_values_match_the_decoded_path() -> None:
    rnd = random.Random(17)
    for _ in range(3000):
        stored = str(encode_json(_random_value(rnd)))
        assert encode("json", StoredJson(stored)) == encode("json", json.loads(stored)), stored


def test_text_not_in_the_compact_form_is_decoded() -> None:
    # rows written by something else (spaces, newlines) still come out in the wire form
    assert wire_from_stored('{"a" : [1,  2],\n "b":"x, y"}') == '{"a": [1, 2], "b": "x, y"}'
    assert wire_from_stored('{"a":"x, y","b":[1,2]}') == '{"a": "x, y", "b": [1, 2]}'

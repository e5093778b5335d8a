"""wfaas.utils.inputcheck: the pure checks behind the API's input hygiene."""

from __future__ import annotations

import json
import sys

import pytest

from wfaas.utils.inputcheck import (
    InputProblem,
    check_name,
    check_uuid,
    check_value,
    json_depth_exceeds,
    loads,
    name_problem,
)


def test_deep_documents_are_refused_without_recursion() -> None:
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # any recursion over the document would blow up
    try:
        for deep in ("[" * 10000 + "]" * 10000, '{"a":' * 10000 + "1" + "}" * 10000):
            with pytest.raises(InputProblem, match="deeper than 100 levels"):
                loads(deep, field="input")
        nested: object = 1
        for _ in range(10000):
            nested = [nested]
        with pytest.raises(InputProblem, match="deeper than 100 levels at input"):
            check_value(nested, field="input")
    finally:
        sys.setrecursionlimit(old)


def test_depth_limit_is_exact_and_brackets_in_strings_do_not_count() -> None:
    assert loads("[[[1]]]", max_depth=3) == [[[1]]]
    with pytest.raises(InputProblem):
        loads("[[[[1]]]]", max_depth=3)
    text = json.dumps({"s": "[[[[[[[[[[" * 20, "t": "\\\"[[[["})
    assert not json_depth_exceeds(text, 2)
    assert loads(text, max_depth=2)["s"].startswith("[[[")
    # without a limit of ours, a document too deep for the parser is still a clean refusal
    with pytest.raises(InputProblem, match="too deeply"):
        loads("[" * 100000 + "]" * 100000, max_depth=-1)


@pytest.mark.parametrize("text", ['{"x": NaN}', '[Infinity]', '[-Infinity]', '[1e999]',
                                  '{"x": -1e400}'])
def test_non_finite_numbers_are_refused(text: str) -> None:
    with pytest.raises(InputProblem, match="finite numbers"):
        loads(text, field="input")


def test_lone_surrogates_are_refused_with_their_path() -> None:
    with pytest.raises(InputProblem, match=r"U\+D800 .* at input\.a\[1\]"):
        loads('{"a": ["ok", "\\ud800"]}', field="input")
    with pytest.raises(InputProblem, match="in a key of input"):
        loads('{"\\udfff": 1}', field="input")
    with pytest.raises(InputProblem, match="lone surrogate"):
        loads('["\ud800"]')  # a raw surrogate in already decoded text
    # a valid pair (an emoji) and an escaped backslash are fine
    assert loads('["\\ud83d\\ude00", "\\\\ud800"]') == ["\U0001F600", "\\ud800"]
    with pytest.raises(InputProblem, match="not valid UTF-8"):
        loads(b'["\xed\xa0\x80"]')


def test_messages_never_echo_raw_surrogates_or_controls() -> None:
    with pytest.raises(InputProblem) as err:
        check_name("a\ud800/", what="workflow")
    message = str(err.value)
    message.encode("utf-8")  # would raise on a raw surrogate
    assert "\\ud800" in message


@pytest.mark.parametrize("name", ["my_wf", "std.http", "wb.wf", "my-wf_1.v2", "wf:with:colons",
                                  "Привет", "a.b.c", "UPPER", "x" * 255])
def test_mistral_style_names_pass(name: str) -> None:
    assert name_problem(name) is None
    assert check_name(name) == name


@pytest.mark.parametrize(("name", "problem"), [
    ("", "empty"), ("a/b", "'/'"), ("..", "'..'"), ("a..b", "'..'"), ("a b", "spaces"),
    ("tab\there", "spaces"), ("nul\x00", "U+0000"), ("del\x7f", "U+007F"),
    ("x" * 256, "255"), ("bad\udc80", "surrogate")])
def test_bad_names_are_refused(name: str, problem: str) -> None:
    found = name_problem(name)
    assert found is not None and problem in found


def test_client_ids_must_be_uuids() -> None:
    good = "0b4ad8f2-0f1a-4f4c-9a39-0e2a8c8d7a51"
    assert check_uuid(good) == good
    assert check_uuid(good.replace("-", "").upper()) == good.replace("-", "").upper()
    for bad in ("../../x", "", "x" * 36, "{" + good + "}", "urn:uuid:" + good, good + "0"):
        with pytest.raises(InputProblem, match="is not a UUID"):
            check_uuid(bad)
    with pytest.raises(InputProblem, match="int is not a UUID"):
        check_uuid(5)


def test_ordinary_bodies_decode_exactly_as_json() -> None:
    # its cost is measured with the benchmark, not here (a timed test fails on a busy CI)
    body = json.dumps({"input": {f"k{i}": {"v": [i, str(i), i / 3]} for i in range(20000)}})
    assert loads(body) == json.loads(body)

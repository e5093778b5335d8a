"""Constant sub-expressions: folded once per parsed expression, charged at every evaluation."""

from __future__ import annotations

from typing import Any

import pytest

from wfaas.exceptions import ExpressionError
from wfaas.expressions import configure, evaluate, set_function_manager
from wfaas.expressions.constfold import FoldedNode, is_constant, pure_names
from wfaas.expressions.context import FunctionContext
from wfaas.expressions.convert import ScalarTuple, to_plain, to_yaql
from wfaas.expressions.yaql_lang import parse

DATA: dict[str, Any] = {"x": 2, "s": "ab", "l": [1, 2, 3], "ld": [{"a": 1}], "e": []}

#: (expression, whether a part of it is folded)
EXPRESSIONS: list[tuple[str, bool]] = [
    ("range(5).toList()", True), ("$.l + range(3).toList()", True),
    ("range(3).toList() + $.l", True), ("len(range(10).toList()) + $.x", True),
    ("'a,b'.split(',')", True), ("dict(a => 1).a + $.x", True),
    ("range(3).select($ * 2)", True), ("[1, 2] + range(2).toList()", True),
    ("$.l.select(range(2).toList())", True), ("json_dump([1, 2]) + $.s", True),
    ("str(range(3).toList())", True), ("range(4).sum() + $.x", True),
    ("'x'.toUpper() + $.s", True), ("{a => range(2).toList(), b => $.x}", True),
    ("range(3).toList()[1]", True), ("set(1, 2).len()", True),
    ("[1, [2, 3]].flatten().toList()", True), ("$.ld + [dict(b => 2)]", True),
    ("$.e + range(2).toList() + $.l", True), ("range(2).toList() + $.ld", True),
    ("$.l.where($ > range(3).max())", True), ("range(1, 4).toList() = $.l", True),
    ("$.l + $.l", False), ("$.missing + range(2).toList()", True),
    ("range(3)", True), ("$.s + 'x'.toUpper() + 'y'.toLower()", True),
    ("dict(k => [1, 2]).k + $.l", True), ("list(1, 'a', null, 2.5, true) + $.l", True),
]


def _folded(node: Any) -> bool:
    """Whether the accelerated tree ``node`` holds a :class:`FoldedNode`."""
    if isinstance(node, FoldedNode):
        return True
    children = [getattr(node, name, None) for name in ("expr", "source", "destination",
                                                        "fallback")]
    children += list(getattr(node, "args", ()))
    return any(_folded(child) for child in children if child is not None)


def _outcome(text: str, data: Any) -> Any:
    try:
        return ("ok", evaluate("<% " + text + " %>", data))
    except ExpressionError as exc:
        return ("error", exc.cause)


@pytest.mark.parametrize(("text", "folds"), EXPRESSIONS)
def test_folding_gives_the_same_results_as_yaql(text: str, folds: bool) -> None:
    assert _folded(parse(text).accelerated) is folds
    configure(fast_path=False)
    expected = _outcome(text, DATA)
    configure()
    first, again = _outcome(text, DATA), _outcome(text, DATA)  # recorded, then replayed
    assert first == expected and again == expected


def test_a_folded_value_is_never_shared_with_the_caller() -> None:
    text = "<% range(3).toList() %>"
    published = evaluate(text, {})
    assert published == [0, 1, 2] and type(published) is list
    published.append(99)  # the engine owns what it published
    assert evaluate(text, {}) == [0, 1, 2]
    grown = evaluate("<% $.acc + range(3).toList() %>", {"acc": published})
    grown.append(7)
    assert evaluate("<% $.acc + range(3).toList() %>", {"acc": [5]}) == [5, 0, 1, 2]
    assert published == [0, 1, 2, 99]


def test_a_folded_value_costs_fuel_at_every_evaluation() -> None:
    """One ``range(3000).sum()`` (about 12,000 steps) fits 20,000 steps, two do not."""
    configure(max_fuel=20000)
    text = "<% $.l.select(range(3000).sum()).len() %>"
    assert _folded(parse(text[2:-2].strip()).accelerated)
    assert evaluate(text, {"l": [1]}) == 1  # recorded
    for _ in range(3):  # replayed: each replay charges the 3,000 items again
        with pytest.raises(ExpressionError, match=r"max_fuel"):
            evaluate(text, {"l": [1, 2]})
    assert evaluate(text, {"l": [1]}) == 1


def test_a_folded_value_counts_as_built_at_every_evaluation() -> None:
    """The folded ``len(str(...))`` builds ~1.3 MB (a list, then its text) for an int:
    three of them still go over 4 MB built in total."""
    configure(max_fuel=0, max_total_size_kb=4096)
    text = "<% $.l.select(len(str(range(90000).toList()))) %>"
    assert evaluate(text, {"l": [1]}) == [618890]  # recorded
    for _ in range(2):
        with pytest.raises(ExpressionError, match=r"max_total_size_kb"):
            evaluate(text, {"l": [1, 2, 3, 4]})


@pytest.mark.parametrize("text", [
    "range(3000).select(range(3000).toList()).len()",  # fails its first evaluation
    "range(10000000).toList()",
])
def test_a_folded_bomb_fails_at_every_evaluation(text: str) -> None:
    assert _folded(parse(text).accelerated)
    for _ in range(3):
        with pytest.raises(ExpressionError, match=r"\[expressions\]|exceeds"):
            evaluate("<% " + text + " %>", {})


def test_reconfigured_limits_are_not_escaped_by_a_record() -> None:
    text = "<% $.l.select(range(3000).sum()).len() %>"
    assert evaluate(text, {"l": [1, 2]}) == 2  # recorded under the default budget
    configure(max_fuel=20000)
    with pytest.raises(ExpressionError, match=r"max_fuel"):
        evaluate(text, {"l": [1, 2]})


@pytest.mark.parametrize("text", [
    "uuid()", "len(uuid())", "str(uuid()) + 'x'", "now()", "env()", "execution()",
    "execution().id", "task()", "task().result", "random()", "tasks()", "global(x)",
    "let(a => 1) -> $a", "$.l.select($ + 1)", "$", "$.x + 1",
])
def test_what_reads_the_execution_or_the_world_is_never_folded(text: str) -> None:
    assert not _folded(parse(text).accelerated)


def test_uuid_differs_at_every_evaluation() -> None:
    text = "<% str(uuid()) + '-' + str(range(2).toList()) %>"
    assert evaluate(text, {}) != evaluate(text, {})


def test_functions_read_through_the_call_context_are_evaluated_each_time() -> None:
    class Counting(FunctionContext):
        """Counts the reads of ``env()``."""

        calls = 0

        def env(self) -> dict[str, Any]:
            Counting.calls += 1
            return {"n": Counting.calls}

    functions = Counting()
    assert evaluate("<% env().n + range(2).sum() %>", {}, functions) == 2
    assert evaluate("<% env().n + range(2).sum() %>", {}, functions) == 3


def test_a_plugin_function_shadowing_a_pure_name_is_not_folded() -> None:
    from stevedore import ExtensionManager
    from stevedore.extension import Extension

    calls: list[int] = []

    def count(context: Any, value: Any) -> int:
        calls.append(1)
        return len(calls)

    manager = ExtensionManager.make_test_instance([Extension("len", None, count, None)])
    set_function_manager(manager)
    assert "len" not in pure_names({"len": object()})
    assert not _folded(parse("len([1, 2]) + $.x").accelerated)
    assert [evaluate("<% len([1, 2]) + $.x %>", {"x": 0}) for _ in range(2)] == [1, 2]


def test_a_method_reads_its_receiver() -> None:
    """``toList()`` alone is constant-looking, but in ``$.l.toList()`` it is a method."""
    node = parse("$.l.toList()").statement.expression
    assert not is_constant(node, pure_names({}))
    assert evaluate("<% $.l.toList() %>", DATA) == [1, 2, 3]


def test_scalar_tuples_skip_the_item_check_and_stay_plain_outside() -> None:
    marked = to_yaql([1, "a", None])
    assert type(marked) is ScalarTuple and marked == (1, "a", None)
    assert type(to_yaql([1, [2]])) is tuple
    plain = to_plain(marked)
    assert type(plain) is list and plain == [1, "a", None]


def test_the_fast_concatenation_checks_the_size_before_building() -> None:
    configure(max_value_size_kb=16)  # 2,048 items of 8 bytes
    assert len(evaluate("<% $.x + $.x %>", {"x": list(range(1000))})) == 2000
    with pytest.raises(ExpressionError, match=r"concatenated list .* max_value_size_kb"):
        evaluate("<% $.x + $.x %>", {"x": list(range(1100))})
    with pytest.raises(ExpressionError, match=r"max_value_size_kb"):
        evaluate("<% $.x + range(1100).toList() %>", {"x": list(range(1100))})


def test_a_replay_brings_the_deadline_as_close_as_the_recorded_time() -> None:
    text = "$.l.select(range(3).toList())"
    configure(timeout=3.0)
    assert evaluate("<% " + text + " %>", {"l": [1]}) == [[0, 1, 2]]
    node = _find_folded(parse(text).accelerated)
    assert node is not None and node.record is not None
    node.record.seconds = 1.4  # as if the constant had taken 1.4 s of CPU
    assert len(evaluate("<% " + text + " %>", {"l": [1, 2]})) == 2  # 2.8 s of 3
    with pytest.raises(ExpressionError, match=r"evaluation_timeout"):
        evaluate("<% " + text + " %>", {"l": [1, 2, 3]})  # 4.2 s


def _find_folded(node: Any) -> FoldedNode | None:
    """The first :class:`FoldedNode` of a tree yaql walks (not inside fast closures)."""
    if isinstance(node, FoldedNode):
        return node
    children = [getattr(node, name, None) for name in ("expr", "source", "destination")]
    for child in [*children, *getattr(node, "args", ())]:
        found = _find_folded(child) if child is not None else None
        if found is not None:
            return found
    return None


def test_a_long_list_is_scanned_once_per_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Growing a published list: ``$.acc`` is scanned for yaql, the result is not."""
    from wfaas.expressions import convert

    scanned: list[int] = []
    original = convert._all_scalars

    def counting(items: Any) -> bool:
        scanned.append(len(items))
        return original(items)

    monkeypatch.setattr(convert, "_all_scalars", counting)
    acc = list(range(1000))
    for text in ("$.acc + [$.x, 'a']", "$.acc + range(2).toList()", "[$.x] + $.acc"):
        scanned.clear()
        grown = evaluate("<% " + text + " %>", {"acc": acc, "x": 3})
        assert len(grown) > 1000 and type(grown) is list
        assert [n for n in scanned if n >= 1000] == [1000], text
    configure(max_value_size_kb=1)  # marked, it is still a list to the limits
    with pytest.raises(ExpressionError, match="max_value_size_kb"):
        evaluate("<% $.acc + [$.x] %>", {"acc": list(range(200)), "x": 1})

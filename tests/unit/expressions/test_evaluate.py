"""evaluate / evaluate_recursively / validate / has_expressions: behaviour tables."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from wfaas.exceptions import ClientError, ExpressionError
from wfaas.expressions import (
    configure,
    evaluate,
    evaluate_recursively,
    has_expressions,
    validate,
)

DATA: dict[str, Any] = {
    "x": 1,
    "f": 2.5,
    "s": "str",
    "flag": True,
    "none": None,
    "l": [1, 2, {"a": 3}],
    "d": {"k": "v", "n": {"deep": [10, 20]}},
    "__execution": {"id": "ex-1"},
}


@pytest.mark.parametrize("text, expected", [
    # YAQL: a lone expression yields its typed value.
    ("<% $.x %>", 1),
    ("<% $.x + 1 %>", 2),
    ("<%$.x%>", 1),
    ("<% $.f * 2 %>", 5.0),
    ("<% $.s %>", "str"),
    ("<% $.flag %>", True),
    ("<% $.none %>", None),
    ("<% $.l %>", [1, 2, {"a": 3}]),
    ("<% $.d %>", {"k": "v", "n": {"deep": [10, 20]}}),
    ("<% $.d.n.deep[1] %>", 20),
    ("<% $.l[2].a %>", 3),
    ("<% $.get('__execution').id %>", "ex-1"),
    ("<% $['s'] %>", "str"),
    ("<% 7 / 2 %>", 3),
    ("<% 7.0 / 2 %>", 3.5),
    ("<% $.x = 1 and $.s != 'x' %>", True),
    ("<% not $.flag or $.x > 0 %>", True),
    ("<% $.x in [1, 2] %>", True),
    ("<% 'tr' in $.s %>", True),
    ("<% len($.l) %>", 3),
    ("<% range(3) %>", [0, 1, 2]),
    ("<% range(5).where($ > 2).select($ * 10) %>", [30, 40]),
    ("<% dict(a => 1) %>", {"a": 1}),
    ("<% list(1, 2) %>", [1, 2]),
    ("<% set(1, 1) %>", [1]),
    ("<% str($.x) + 'a' %>", "1a"),
    ("<% int('42') %>", 42),
    ("<% $.d.keys() %>", ["k", "n"]),
    ("<% $.d.values().toList().len() %>", 2),
    ("<% [3, 1, 3].distinct() %>", [3, 1]),
    ("<% $.l.toList() %>", [1, 2, {"a": 3}]),
    ("<% ['a', 'b'].join('-') %>", "a-b"),
    ("<% regex('^s.r$').matches($.s) %>", True),
    ("<% $.s.toUpper() %>", "STR"),
    ("<% let(y => 2) -> $y + $.x %>", 3),
    ("<% $.x +\n   $.f %>", 3.5),  # an expression may span lines (YAML block scalars)
    # Jinja: a lone {{ }} yields its typed value.
    ("{{ _.x }}", 1),
    ("{{ _.x + 1 }}", 2),
    ("{{ _.l }}", [1, 2, {"a": 3}]),
    ("{{ _.d.n.deep[0] }}", 10),
    ("{{ _.none }}", None),
    ("{{ _.flag }}", True),
    ("{{ {'a': {'b': 1}} }}", {"a": {"b": 1}}),
    ("{{ _.l | length }}", 3),
    ("{{ (1, 2) }}", [1, 2]),
    ("{{ _.l | map(attribute='a', default=0) | list }}", [0, 0, 3]),
    # Strings without expressions come back as they are.
    ("plain text", "plain text"),
    ("", ""),
    ("50% off <", "50% off <"),
])
def test_typed_results(text: str, expected: Any) -> None:
    assert evaluate(text, DATA) == expected


@pytest.mark.parametrize("text, expected", [
    ("x=<% $.x %>", "x=1"),
    ("<% $.x %> and <% $.s %>", "1 and str"),
    ("<% $.x %><% $.x %>", "11"),
    (" <% $.x %>", " 1"),
    ("<% $.x %>\n", "1\n"),
    ("<% $.d.k %>-<% $.none %>", "v-None"),
    ("list: <% $.l[0] %>", "list: 1"),
    ("x={{ _.x }}", "x=1"),
    ("{{ _.x }} and {{ _.s }}", "1 and str"),
    ("{% for i in _.l[:2] %}{{ i }};{% endfor %}", "1;2;"),
    ("{% if _.flag %}yes{% else %}no{% endif %}", "yes"),
    ("{{ _.x }}\n", "1"),
])
def test_interpolation(text: str, expected: str) -> None:
    assert evaluate(text, DATA) == expected


def test_non_string_is_returned_as_is() -> None:
    value = {"a": 1}
    assert evaluate(value, DATA) is value  # type: ignore[arg-type]
    assert evaluate(5, DATA) == 5  # type: ignore[arg-type]


def test_data_that_is_not_a_dict() -> None:
    assert evaluate("<% $ + 1 %>", 41) == 42
    assert evaluate("<% $.len() %>", [1, 2]) == 2
    assert evaluate("{{ _ * 2 }}", 21) == 42


def test_results_never_alias_the_data() -> None:
    data = copy.deepcopy(DATA)
    for text in ("<% $.l %>", "{{ _.l }}", "<% $.d %>", "{{ _.d }}", "<% $ %>"):
        result = evaluate(text, data)
        if isinstance(result, list):
            result.append("mutated")
        else:
            result["mutated"] = True
    assert data == DATA


def test_evaluate_recursively() -> None:
    value: dict[str, Any] = {
        "<% $.s %>": "<% $.x %>",
        "nested": {"list": ["<% $.x + 1 %>", "{{ _.s }}", 3, None, "text"]},
        "tuple": ("<% $.x %>",),
        "num": 1.5,
    }
    original = copy.deepcopy(value)
    result = evaluate_recursively(value, DATA)
    assert result == {
        "<% $.s %>": 1,
        "nested": {"list": [2, "str", 3, None, "text"]},
        "tuple": (1,),
        "num": 1.5,
    }
    assert value == original
    assert result is not value and result["nested"] is not value["nested"]
    assert result["nested"]["list"] is not value["nested"]["list"]


def test_evaluate_recursively_scalars_and_strings() -> None:
    assert evaluate_recursively("<% $.x %>", DATA) == 1
    assert evaluate_recursively(7, DATA) == 7
    assert evaluate_recursively([], DATA) == []


@pytest.mark.parametrize("text, fragment", [
    ("<% $.missing %>", "no such key: 'missing'"),
    ("<% $.__execution.id %>", "YAQL names cannot start with '_'"),
    ("<% $.x + 'a' %>", "#operator_+"),
    ("<% 1 / 0 %>", "division"),
    ("{{ _.missing }}", "has no attribute 'missing'"),
    ("{{ undefined_name }}", "'undefined_name' is undefined"),
    ("{{ 1 / 0 }}", "division"),
    ("a {{ _.missing }} b", "has no attribute 'missing'"),
    ("a <% $.missing %> b", "no such key"),
])
def test_evaluation_errors(text: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate(text, DATA)
    err = info.value
    assert isinstance(err, ClientError) and err.http_code == 400
    assert fragment in err.cause
    assert fragment in str(err)
    lang = "YAQL" if "<%" in text else "Jinja"
    assert str(err).startswith(f"Can not evaluate {lang} expression [expression=")
    assert err.expression in text


def test_error_message_names_the_failing_piece() -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("ok <% $.x %> bad <% $.nope %>", DATA)
    assert info.value.expression == "<% $.nope %>"


def test_error_never_dumps_the_data_context() -> None:
    secret = {"password": "hunter2-very-secret", "x": 1}
    for text in ("<% $.missing %>", "<% $.x + 'a' %>", "{{ _.missing }}",
                 "{{ _ + 1 }}", "<% $ + 1 %>", "<% $.password.foo %>"):
        with pytest.raises(ExpressionError) as info:
            evaluate(text, secret)
        assert "hunter2" not in str(info.value), text
        assert "hunter2" not in info.value.cause


def test_long_causes_are_truncated() -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("<% json_parse($) %>", "x" * 5000)
    assert len(info.value.cause) < 400


@pytest.mark.parametrize("text", [
    "<% $.x %> {{ _.x }}",
    "{% if true %}<% $.x %>{% endif %}",
])
def test_mixing_languages_is_an_error(text: str) -> None:
    with pytest.raises(ExpressionError, match="Mixing YAQL and Jinja"):
        evaluate(text, DATA)
    assert any("Mixing YAQL and Jinja" in p for p in validate(text))


@pytest.mark.parametrize("text, fragment", [
    ("<% ( %>", "Invalid YAQL expression <% ( %>"),
    ("<% $.x + %>", "Invalid YAQL expression"),
    ("ok <% $.x %> bad <% ] %>", "<% ] %>"),
    ("<%  %>", "Invalid YAQL expression"),
    ("<% $.__env %>", "write $.get('__name') or the variable $__name"),
    ("{{ a + }}", "Invalid Jinja expression"),
    ("{% if %}", "Invalid Jinja expression"),
    ("{% for x in y %}no end", "Invalid Jinja expression"),
    ("x {{ }} y", "Invalid Jinja expression"),
])
def test_validate_reports_syntax_errors(text: str, fragment: str) -> None:
    problems = validate(text)
    assert len(problems) == 1
    assert fragment in problems[0]


@pytest.mark.parametrize("text", [
    "plain", "<% $.x %>", "a <% $.x + 1 %> b <% $.l.len() %>", "{{ _.x }}",
    "{% for i in _ %}{{ i }}{% endfor %}", "<% $.missing %>", "{{ _.missing }}",
])
def test_validate_accepts_valid_expressions(text: str) -> None:
    assert validate(text) == []


def test_validate_does_not_evaluate() -> None:
    assert validate("<% json_parse('not json') %>") == []
    assert validate("{{ 1 / 0 }}") == []


def test_validate_non_string() -> None:
    assert validate(None) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("value, expected", [
    ("<% $.x %>", True),
    ("a {{ _ }}", True),
    ("{% if x %}{% endif %}", True),
    ("plain <%", False),
    ("{ {x} }", False),
    (5, False),
    (None, False),
    ({"<% key %>": "plain"}, False),
    ({"a": ["x", {"b": "<% $.y %>"}]}, True),
    (["a", ("b", "{{ c }}")], True),
    ([], False),
])
def test_has_expressions(value: Any, expected: bool) -> None:
    assert has_expressions(value) is expected


def test_disallowed_language() -> None:
    configure(allowed_languages=["yaql"])
    assert evaluate("<% $.x %>", DATA) == 1
    with pytest.raises(ExpressionError, match="Jinja expressions are not allowed"):
        evaluate("{{ _.x }}", DATA)
    assert "not allowed" in validate("{{ _.x }}")[0]
    assert validate("<% $.x %>") == []
    configure(allowed_languages=["jinja"])
    with pytest.raises(ExpressionError, match="YAQL expressions are not allowed"):
        evaluate("a <% $.x %>", DATA)
    assert evaluate("{{ _.x }}", DATA) == 1
    assert evaluate("plain", DATA) == "plain"
    configure()
    assert evaluate("{{ _.x }}", DATA) == 1


def test_configure_rejects_unknown_language() -> None:
    with pytest.raises(ValueError, match="python"):
        configure(allowed_languages=["yaql", "python"])


def test_mistral_context_variables() -> None:
    data = {"__execution": {"id": "e1"}, "__env": {"a": 1}, "v": 2}
    assert evaluate("<% $__execution.id %>", data) == "e1"
    assert evaluate("<% $__env.a + $.v %>", data) == 3
    assert evaluate("<% $__task_execution %>", data) is None
    assert evaluate("{{ __execution.id }}", data) == "e1"
    assert evaluate("{{ __env.a + _.v }}", data) == 3


def test_concurrent_evaluation() -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"<% $.x + {i} %>" for i in range(50)] + [
        f"<% len($.l) + {i} %>" for i in range(50)] + [
        f"{{{{ _.x * {i} }}}}" for i in range(50)]

    def run(index: int) -> list[Any]:
        return [evaluate(text, {"x": index, "l": [1, 2]}) for text in texts]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, range(8)))
    for index, result in enumerate(results):
        assert result == ([index + i for i in range(50)] + [2 + i for i in range(50)]
                          + [index * i for i in range(50)])


MISTRAL_SERVERS = {"servers": [{"name": "centos"}, {"name": "ubuntu"}, {"name": "fedora"}]}


@pytest.mark.parametrize("text, data, expected", [
    # Behaviours from Mistral's own expression tests.
    ("<% $.servers.where($.name = ubuntu) %>", MISTRAL_SERVERS, [{"name": "ubuntu"}]),
    ("<% str($) %>", 3, "3"),
    ("<% str($) %>", "3", "3"),
    ("<% len($) %>", "hey", 3),
    ("<% $.where($.some = thing).len() %>", [{"some": "thing"}], 1),
    ("<% $ %><% $ %>", 3, "33"),
    ("<% json_dump($) %>", "3", '"3"'),
    ("<% json_dump($) %>", 3, "3"),
    ("<% invalid_expression_string %>", {}, "invalid_expression_string"),
    ("{{ 1 + 2 }}", {}, 3),
    ("{{ _ }}", [1, 2], [1, 2]),
])
def test_mistral_compatible_results(text: str, data: Any, expected: Any) -> None:
    assert evaluate(text, data) == expected


def test_mistral_multiple_placeholders() -> None:
    text = """
        Statistics for tenant "<% $.project_id %>"

        Number of virtual machines: <% $.vm_count %>
        Number of active virtual machines: <% $.active_vm_count %>
    """
    data = {"project_id": "1-2-3-4", "vm_count": 28, "active_vm_count": 0}
    assert evaluate(text, data) == """
        Statistics for tenant "1-2-3-4"

        Number of virtual machines: 28
        Number of active virtual machines: 0
    """


def test_set_of_dicts_becomes_a_list() -> None:
    items = [{"k1": "v1", "k2": "v2"}, {"k11": "v11"}]
    result = evaluate("<% $.items.toSet() %>", {"items": items})
    assert isinstance(result, list) and len(result) == 2
    assert all(item in items for item in result)

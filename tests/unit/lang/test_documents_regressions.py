"""Regressions found while wiring the API to the parser."""

import pytest

from wfaas.exceptions import DSLError
from wfaas.lang import parse_workbook


@pytest.mark.parametrize(("text", "word"), [("{}", "name"), ("", "empty"),
                                            ("version: '2.0'\n", "name")])
def test_empty_workbook_is_a_dsl_error_naming_the_missing_name(text: str, word: str) -> None:
    with pytest.raises(DSLError) as err:
        parse_workbook(text)
    assert any(word in p.message for p in err.value.problems), err.value.problems

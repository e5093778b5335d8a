"""The comparison of observations: state_info texts by prefix, or whole for exact cases."""

from __future__ import annotations

from tools.difftest.compare import INFO_PREFIX, diff

HEAD = "x" * INFO_PREFIX


def test_state_info_compared_by_prefix_unless_exact() -> None:
    golden = {"state_info": HEAD + " mistral tail", "result": "a"}
    actual = {"state_info": HEAD + " wfaas tail", "result": "a"}
    assert diff(golden, actual) == []
    assert diff(golden, actual, exact=True) == [(".state_info", golden["state_info"],
                                                 actual["state_info"])]


def test_exact_masks_object_addresses_in_every_text() -> None:
    golden = {"tasks": [{"name": "t", "result": "<A object at 0x7f9e64712810>"}]}
    actual = {"tasks": [{"name": "t", "result": "<A object at 0x7f0000000001>"}]}
    assert diff(golden, actual, exact=True) == []
    other = {"tasks": [{"name": "t", "result": "<B object at 0x7f0000000001>"}]}
    assert [d[0] for d in diff(golden, other, exact=True)] == [".tasks[t].result"]

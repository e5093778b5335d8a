"""Short member names inside a workbook resolve to ``<workbook>.<name>`` first."""

from __future__ import annotations

from wfaas.services.operations import deep_merge
from wfaas.services.specs import spec_from_text

WB = """---
version: '2.0'
name: wb
workflows:
  main:
    tasks:
      own:
        action: shout text=x
        on-success: [plain]
      plain:
        action: std.echo output=y
        on-success: [child]
      child:
        workflow: sub
        on-success: [full]
      full:
        action: wb.shout text=z
        on-success: [dynamic]
      dynamic:
        action: <% $.name %>
  sub:
    tasks:
      t:
        action: shout text=sub
actions:
  shout:
    base: std.echo
    base-input:
      output: <% $.text %>
    input: [text]
"""


def test_members_are_named_in_full_and_others_kept() -> None:
    tasks = spec_from_text(WB, "wb.main").tasks
    assert tasks["own"].action == "wb.shout"
    assert tasks["own"].inline_input == {"text": "x"}
    assert tasks["plain"].action == "std.echo"
    assert tasks["child"].workflow == "wb.sub"
    assert tasks["full"].action == "wb.shout"
    assert tasks["dynamic"].action == "<% $.name %>"
    assert spec_from_text(WB, "wb.sub").tasks["t"].action == "wb.shout"


def test_deep_merge_merges_nested_dicts_without_touching_the_input() -> None:
    base = {"a": 1, "n": {"x": 1, "y": {"z": 1}}, "l": [1]}
    assert deep_merge(base, {"n": {"y": {"w": 2}}, "l": [2], "b": None}) == {
        "a": 1, "n": {"x": 1, "y": {"z": 1, "w": 2}}, "l": [2], "b": None}
    assert base == {"a": 1, "n": {"x": 1, "y": {"z": 1}}, "l": [1]}

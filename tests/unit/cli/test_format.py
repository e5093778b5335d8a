"""Input parsing and output formatting helpers of the CLI."""

from __future__ import annotations

import argparse

import pytest

from wfaas.cmd.cli import build_parser
from wfaas.cmd.client_common import (
    UsageError,
    auth_options,
    list_query,
    load_object,
    merge_pairs,
    parse_value,
    print_one,
    render_table,
)


def test_parse_value_and_pairs() -> None:
    assert parse_value("1") == 1 and parse_value("true") is True
    assert parse_value('{"a": [1]}') == {"a": [1]} and parse_value("hello world") == "hello world"
    assert merge_pairs({"a": 1}, ["b=x=y", "a=2"]) == {"a": 2, "b": "x=y"}
    with pytest.raises(UsageError, match="key=value"):
        merge_pairs({}, ["=1"])


def test_load_object_inline_file_and_yaml(tmp_path) -> None:
    assert load_object('{"a": 1}') == {"a": 1}
    path = tmp_path / "in.json"
    path.write_text('{"b": 2}')
    assert load_object(str(path)) == {"b": 2}
    assert load_object("@" + str(path)) == {"b": 2}
    assert load_object("c: 3") == {"c": 3}
    assert load_object(None) == {}
    with pytest.raises(UsageError, match="must be a JSON object"):
        load_object("[1]")
    with pytest.raises(UsageError, match="cannot read"):
        load_object("@" + str(tmp_path / "nope"))


def test_table_multiline_cells() -> None:
    text = render_table(["Field", "Value"], [["a", "x\ny"], ["bb", "z"]])
    assert text.splitlines() == ["+-------+-------+", "| Field | Value |", "+-------+-------+",
                                 "| a     | x     |", "|       | y     |", "| bb    | z     |",
                                 "+-------+-------+"]


def test_print_one_shows_objects_as_json(capsys) -> None:
    args = argparse.Namespace(format="table", fields=None, no_color=True)
    print_one(args, {"id": "1", "variables": {"k": "v"}, "state": "SUCCESS"})
    out = capsys.readouterr().out
    assert '| variables | {          |' in out and '|           |   "k": "v" |' in out


def test_list_query_filters() -> None:
    args = argparse.Namespace(limit=-1, marker="m", sort_keys=None, sort_dirs=None,
                              filter=["state=in:ERROR,PAUSED", "name=has:x"])
    assert list_query(args, workflow_name="wf", task=None) == {
        "limit": None, "marker": "m", "sort_keys": None, "sort_dirs": None,
        "state": "in:ERROR,PAUSED", "name": "has:x", "workflow_name": "wf"}
    with pytest.raises(UsageError):
        list_query(argparse.Namespace(filter=["bad"]))


def test_keystone_options_from_os_environment(monkeypatch) -> None:
    monkeypatch.setenv("OS_AUTH_URL", "http://ks.test/v3")
    monkeypatch.setenv("OS_USERNAME", "demo")
    monkeypatch.setenv("OS_PROJECT_NAME", "demo-project")
    monkeypatch.setenv("OS_USER_DOMAIN_NAME", "Default")
    args = build_parser().parse_args(["--os-password", "pw", "workflow", "list",
                                      "--os-project-domain-id", "default"])
    opts = auth_options(args)
    assert (opts.auth_url, opts.username, opts.password, opts.project_name) == (
        "http://ks.test/v3", "demo", "pw", "demo-project")
    assert opts.user_domain_name == "Default" and opts.project_domain_id == "default"
    assert opts.enabled and opts.interface == "public"

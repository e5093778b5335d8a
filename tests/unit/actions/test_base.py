"""The action model: introspection, input checking, JSON schema, results and context."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from wfaas.actions.base import (
    Action,
    ActionContext,
    ExecutionContext,
    ParamSpec,
    PythonActionDescriptor,
    Result,
    SecurityContext,
    params_from_class,
    render_params,
)
from wfaas.actions.registry import StdProvider
from wfaas.exceptions import InputError

# What Mistral's GET /v2/actions/<name> reports as "input".
MISTRAL_INPUTS = {
    "std.noop": "",
    "std.async_noop": "",
    "std.echo": "output, delay=0",
    "std.fail": "error_data=null",
    "std.sleep": "seconds=1",
    "std.test_dict": 'size=0, key_prefix="", val=""',
    "std.http": 'url, method="GET", params=null, body=null, json=null, headers=null, '
                "cookies=null, auth=null, timeout=null, allow_redirects=null, proxies=null, "
                "verify=null",
    "std.mistral_http": 'url, method="GET", params=null, body=null, json=null, headers=null, '
                        "cookies=null, auth=null, timeout=null, allow_redirects=null, "
                        "proxies=null, verify=null",
    "std.ssh": 'cmd, host, username, password="", private_key_filename=null, private_key=null, '
               "return_result_on_error=false",
    "std.ssh_proxied": "cmd, host, username, private_key_filename, gateway_host, "
                       "gateway_username=null, password=null, proxy_command=null, "
                       "private_key=null",
    "std.email": "from_addr, to_addrs, smtp_server, reply_to=null, cc_addrs=null, "
                 "bcc_addrs=null, smtp_password=null, subject=null, body=null, html_body=null",
    "std.javascript": "script, context=null",
    "std.js": "script, context=null",
}


class KwAction(Action):
    """Takes anything.

    A second paragraph (Mistral shows the whole docstring).
    """

    def __init__(self, a: int, b: Any = ("x", 1), **kwargs: Any) -> None:
        self.a = a


class NoInitAction(Action):
    def run(self, context: ActionContext) -> Any:
        return 1


@pytest.fixture(scope="module")
def std() -> StdProvider:
    return StdProvider(include_resources=False)


@pytest.mark.parametrize("name", sorted(MISTRAL_INPUTS))
def test_std_input_strings_match_mistral(std: StdProvider, name: str) -> None:
    d = std.find(name)
    assert d is not None, name
    assert d.input_string == MISTRAL_INPUTS[name]
    assert d.source == "std" and d.is_system
    assert d.description  # the action class's docstring (several lines allowed, as Mistral)


def test_kwargs_rendered_and_description_is_the_docstring() -> None:
    d = PythonActionDescriptor("t.kw", KwAction)
    assert d.input_string == 'a, b=["x", 1], **kwargs'
    # the whole docstring, as Mistral shows it
    assert d.description == inspect.getdoc(KwAction)
    d.check_parameters({"a": 1, "anything": 2})  # ** accepts unexpected names
    with pytest.raises(InputError, match=r"missing \[a\]"):
        d.check_parameters({"zz": 1})


def test_class_without_init_has_no_params_and_no_inherited_description() -> None:
    d = PythonActionDescriptor("t.none", NoInitAction)
    assert d.params == () and d.input_string == ""
    assert d.description == ""
    with pytest.raises(InputError) as err:
        d.check_parameters({"x": 1})
    assert str(err.value) == "Invalid input for action t.none: unexpected [x]. Signature: "


def test_check_parameters_message_names_missing_unexpected_and_signature(
        std: StdProvider) -> None:
    d = std.find("std.echo")
    assert d is not None
    with pytest.raises(InputError) as err:
        d.check_parameters({"foo": 1})
    assert str(err.value) == ("Invalid input for action std.echo: missing [output]; "
                              "unexpected [foo]. Signature: output, delay=0")
    assert err.value.http_code == 400
    with pytest.raises(InputError) as err2:
        d.check_parameters({})
    assert str(err2.value) == ("Invalid input for action std.echo: missing [output]. "
                               "Signature: output, delay=0")
    d.check_parameters({"output": None, "delay": 1})


def test_params_json_schema(std: StdProvider) -> None:
    d = std.find("std.echo")
    assert d is not None
    schema = d.params_json_schema()
    assert schema["required"] == ["output"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["delay"] == {"default": 0, "type": ["integer", "null"]}
    assert schema["properties"]["output"] == {}
    kw = PythonActionDescriptor("t.kw", KwAction).params_json_schema()
    assert kw["additionalProperties"] is True and "kwargs" not in kw["properties"]


def test_schema_validates_with_jsonschema(std: StdProvider) -> None:
    import jsonschema

    d = std.find("std.http")
    assert d is not None
    schema = d.params_json_schema()
    jsonschema.validate({"url": "http://x", "method": "POST"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"method": "POST"}, schema)


def test_render_params_json_encodes_defaults() -> None:
    params = (ParamSpec("a"), ParamSpec("b", True, None), ParamSpec("c", True, True),
              ParamSpec("d", True, {"k": "v"}), ParamSpec("kw", var_keyword=True))
    assert render_params(params) == 'a, b=null, c=true, d={"k": "v"}, **kw'
    assert params_from_class(KwAction)[1] == ParamSpec("b", True, ("x", 1))


def test_result_semantics() -> None:
    ok = Result(data={"a": 1})
    assert ok.is_success() and not ok.is_error() and ok.to_dict() == {"result": {"a": 1}}
    bad = Result(error="boom")
    assert bad.is_error() and not bad.is_success() and bad.to_dict() == {"result": "boom"}
    cancelled = Result(cancel=True)
    assert cancelled.is_cancel() and not cancelled.is_success() and not cancelled.is_error()
    assert Result.from_value(5) == Result(data=5)
    assert Result.from_value(bad) is bad


def test_context_round_trip() -> None:
    ctx = ActionContext(SecurityContext(auth_token="t", project_id="p"),
                        ExecutionContext(workflow_execution_id="w", task_execution_id="t1",
                                         action_execution_id="a", with_items_index=2))
    data = ctx.to_dict()
    assert data["security"]["auth_token"] == "t"
    back = ActionContext.from_dict({**data, "execution": {**data["execution"], "junk": 1}})
    assert back == ctx
    assert back.execution.task_id == "t1"

"""What a controller receives: the request, the services, and who is calling.

:class:`ApiRequest` wraps the WebOb request with typed readers for query
parameters and bodies (JSON objects, JSON-encoded strings inside JSON, YAML
text uploads), each raising a 400 that names the parameter. ``ctx`` is the
caller (:class:`wfaas.services.api.RequestContext`): with auth off everyone is
``<default-project>``; with ``[pecan] auth_enable`` it comes from the headers
keystonemiddleware sets. :meth:`ApiRequest.json_body` is where request bodies are decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oslo_config import cfg
from webob import Request

from wfaas.api.errors import BadRequest, input_refused
from wfaas.services.api import ApiServices, RequestContext
from wfaas.utils import inputcheck
from wfaas.utils.boolwords import to_bool

__all__ = ["ApiRequest", "json_field", "str_field", "to_bool"]

@dataclass
class ApiRequest:
    """One API call as the controllers see it: the request, the services, the caller."""

    request: Request
    services: ApiServices
    conf: cfg.ConfigOpts
    ctx: RequestContext

    @property
    def host_url(self) -> str:
        """``http://host:port`` as the client addressed us (for ``next`` links and roots)."""
        return str(self.request.host_url) + str(self.request.script_name or "")

    # ---- query parameters -------------------------------------------------------------
    def arg(self, name: str, default: str | None = None) -> str | None:
        """A query parameter as a string (the last one when repeated)."""
        values = self.request.GET.getall(name)
        return values[-1] if values else default

    def bool_arg(self, name: str, default: bool = False) -> bool:
        """A boolean query parameter (``true/false/1/0/yes/no``); anything else -> 400."""
        value = self.arg(name)
        return default if value is None else to_bool(value, name)

    def int_arg(self, name: str, default: int | None = None) -> int | None:
        """An integer query parameter; not a number -> 400."""
        value = self.arg(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise BadRequest(f"Invalid value for '{name}': {value!r} is not an integer") from None

    # ---- bodies ---------------------------------------------------------------------
    def text_body(self) -> str:
        """The body as text (a YAML definition upload); empty -> 400."""
        try:
            text: str = self.request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("The request body is not valid UTF-8 text") from None
        if not text.strip():
            raise BadRequest("The request body is empty; send the YAML definition as text")
        return text

    def json_body(self) -> dict[str, Any]:
        """The body as a JSON object; malformed or not an object -> 400."""
        if "json_body" in self.request.context:
            data = self.request.context["json_body"]
        else:
            raw = self.request.body
            if not raw.strip():
                return {}
            data = decode_json_body(raw, int(self.conf.api.max_json_depth))
        if not isinstance(data, dict):
            raise BadRequest("The request body must be a JSON object")
        return data


def decode_json_body(raw: bytes, max_depth: int) -> Any:
    """The one place the API decodes a JSON request body (:mod:`wfaas.utils.inputcheck`):
    depth, Unicode and finite numbers checked; the nesting of top-level JSON-encoded
    string fields (``"input": "{...}"``) is checked too. A problem -> 400 naming it."""
    try:
        data = inputcheck.loads(raw, field="body", max_depth=max_depth)
    except inputcheck.InputProblem as exc:
        input_refused(exc.problem)
        raise BadRequest(f"Invalid JSON in the request body: {exc.problem}") from None
    if isinstance(data, dict) and max_depth >= 0:
        for key, value in data.items():
            if (isinstance(value, str) and value.lstrip()[:1] in ("[", "{")
                    and inputcheck.json_depth_exceeds(value, max_depth)):
                input_refused("nested")
                raise BadRequest(f"Invalid JSON in field {key!a}: JSON nested deeper than "
                                 f"{max_depth} levels ([api] max_json_depth)")
    return data


def json_field(body: dict[str, Any], name: str, *, default: Any = None,
               expect: type | tuple[type, ...] = dict) -> Any:
    """A body field that may be an object or a JSON-encoded string (what mistralclient sends).

    ``None``/missing -> ``default``; wrong type or bad JSON -> 400 naming the field.
    """
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, str) and expect is not str:
        if not value.strip():
            return default
        try:  # its nesting was checked with the body (decode_json_body)
            value = inputcheck.loads(value, field=name, max_depth=-1)
        except inputcheck.InputProblem as exc:
            input_refused(exc.problem)
            raise BadRequest(f"Invalid JSON in field '{name}': {exc.problem}") from None
    if value is None:
        return default
    if not isinstance(value, expect):
        kind = expect.__name__ if isinstance(expect, type) else "/".join(t.__name__ for t in expect)
        kind = {"dict": "a JSON object", "list": "a JSON array"}.get(kind, kind)
        raise BadRequest(f"Field '{name}' must be {kind}")
    return value


def str_field(body: dict[str, Any], name: str, *, required: bool = False,
              default: str | None = None) -> str | None:
    """A string body field; required and missing, or not a string -> 400."""
    value = body.get(name)
    if value is None:
        if required:
            raise BadRequest(f"Field '{name}' is required")
        return default
    if not isinstance(value, str):
        raise BadRequest(f"Field '{name}' must be a string")
    if required and not value:
        raise BadRequest(f"Field '{name}' must not be empty")
    return value

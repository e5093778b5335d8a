"""std.http and std.mistral_http: HTTP requests with an egress check, a timeout and a size cap.

Settings come from ``[action_std_http]`` (read when the action runs, on the
executor): ``denied_cidrs`` / ``allowed_hosts`` (a host resolving into a denied
network is refused unless allowed; every redirect hop is checked too),
``default_timeout`` (used when ``timeout`` is not given) and
``max_response_size_bytes``. The result is ``{content, status, headers, url,
history, encoding, reason, cookies, elapsed}``; a status outside 200-306 makes
it an error result.
"""

from __future__ import annotations

import ipaddress
import json as jsonlib
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from wfaas.actions.base import Action, ActionContext, ActionException, Result

LOG = logging.getLogger(__name__)

_Net = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class HttpSettings:
    """The ``[action_std_http]`` options as plain values."""

    denied_cidrs: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    default_timeout: float = 60.0
    max_response_size_bytes: int = 5 * 1024 * 1024
    callback_base_url: str = ""

    @classmethod
    def from_conf(cls, conf: Any = None) -> HttpSettings:
        """Read ``[action_std_http]`` of ``conf``: the executor's configuration, handed
        over by ``configure``; default ``wfaas.config.CONF``, the process's one object."""
        if conf is None:
            from wfaas.config import CONF as conf
        group = conf.action_std_http
        base = getattr(group, "callback_base_url", "") or ""
        if not base:
            base = f"http://{conf.api.host}:{conf.api.port}"
        return cls(tuple(group.denied_cidrs or ()), tuple(group.allowed_hosts or ()),
                   float(group.default_timeout), int(group.max_response_size_bytes), base)


def _networks(items: Iterable[str]) -> list[_Net]:
    nets = []
    for item in items:
        try:
            nets.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            continue
    return nets


def _resolve(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        raise ActionException(f"std.http: cannot resolve host {host!r}: {exc}") from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def check_egress(url: str, settings: HttpSettings) -> None:
    """Raise ActionException when ``url``'s host resolves into a denied network."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ActionException(f"std.http: unsupported URL scheme in {url!r} (http or https)")
    host = parts.hostname or ""
    if not host:
        raise ActionException(f"std.http: no host in URL {url!r}")
    allowed_names = {h.strip().lower() for h in settings.allowed_hosts}
    if host.lower() in allowed_names:
        return
    denied = _networks(settings.denied_cidrs)
    if not denied:
        return
    allowed_nets = _networks(settings.allowed_hosts)
    for addr in _resolve(host):
        if any(addr in net for net in allowed_nets):
            continue
        for net in denied:
            if addr in net:
                raise ActionException(
                    f"std.http: refusing to connect to {host} ({addr}): address is in denied "
                    f"network {net} ([action_std_http] denied_cidrs; allow it with "
                    f"allowed_hosts)")


class _GuardedSession(requests.Session):
    """A session that checks every request (including redirect hops) for egress."""

    def __init__(self, settings: HttpSettings) -> None:
        super().__init__()
        self.settings = settings

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        check_egress(request.url or "", self.settings)
        return super().send(request, **kwargs)


def _read_capped(resp: requests.Response, limit: int) -> bytes:
    length = resp.headers.get("Content-Length")
    if limit > 0 and length and length.isdigit() and int(length) > limit:
        resp.close()
        raise ActionException(f"std.http: response of {length} bytes is over the limit of "
                              f"{limit} bytes ([action_std_http] max_response_size_bytes)")
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_content(65536):
        size += len(chunk)
        if limit > 0 and size > limit:
            resp.close()
            raise ActionException(f"std.http: response is over the limit of {limit} bytes "
                                  f"([action_std_http] max_response_size_bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(raw: bytes, resp: requests.Response) -> Any:
    encoding = resp.encoding or "utf-8"
    try:
        text = raw.decode(encoding, errors="replace")
    except LookupError:
        text = raw.decode("utf-8", errors="replace")
    try:
        return jsonlib.loads(text)
    except ValueError:
        return text


def _redact(url: str) -> str:
    """The URL without user:password@ and without its query (which may hold tokens)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc, query="").geturl()


class HTTPAction(Action):
    """Sends an HTTP request and returns the response (content decoded from JSON if possible)."""

    def __init__(self, url: str, method: str = "GET", params: Any = None, body: Any = None,
                 json: Any = None, headers: Any = None, cookies: Any = None, auth: Any = None,
                 timeout: Any = None, allow_redirects: Any = None, proxies: Any = None,
                 verify: Any = None) -> None:
        if body is not None and json is not None:
            raise ActionException("std.http: give either 'body' or 'json', not both")
        if isinstance(auth, str) and ":" in auth:
            user, _, password = auth.partition(":")
            auth = (user, password)
        elif isinstance(auth, list):
            auth = tuple(auth)
        if isinstance(body, (dict, list)):
            body = jsonlib.dumps(body)
        self.url = url
        self.method = str(method or "GET").upper()
        self.params = params
        self.body = body
        self.json = json
        self.headers = {str(k): str(v) if isinstance(v, (int, float)) else v
                        for k, v in (headers or {}).items()}
        self.cookies = cookies
        self.auth = auth
        self.timeout = timeout
        self.allow_redirects = allow_redirects
        self.proxies = proxies
        self.verify = verify
        self.settings: HttpSettings | None = None

    def configure(self, conf: Any) -> None:
        """Take ``[action_std_http]`` from the executor's configuration."""
        self.settings = HttpSettings.from_conf(conf)

    def _settings(self) -> HttpSettings:
        return self.settings if self.settings is not None else HttpSettings.from_conf()

    def _request_kwargs(self, settings: HttpSettings) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "params": self.params, "data": self.body, "json": self.json,
            "headers": self.headers or None, "cookies": self.cookies, "auth": self.auth,
            "timeout": float(self.timeout) if self.timeout else settings.default_timeout,
            "allow_redirects": True if self.allow_redirects is None
            else bool(self.allow_redirects),
            "proxies": self.proxies, "stream": True,
        }
        if self.verify is not None and self.url.lower().startswith("https"):
            kwargs["verify"] = self.verify
        return kwargs

    def run(self, context: ActionContext) -> Any:
        """Send the request; error result for status outside 200-306."""
        settings = self._settings()
        LOG.info("std.http %s %s", self.method, _redact(self.url))
        with _GuardedSession(settings) as session:
            try:
                resp = session.request(self.method, self.url, **self._request_kwargs(settings))
            except ActionException:
                raise
            except requests.RequestException as exc:
                raise ActionException(
                    f"std.http: {self.method} {self.url} failed: {type(exc).__name__}: {exc}"
                ) from exc
            with resp:
                raw = _read_capped(resp, settings.max_response_size_bytes)
        result = {
            "content": _decode(raw, resp),
            "status": resp.status_code,
            "headers": dict(resp.headers.items()),
            "url": resp.url,
            "history": [{"url": h.url, "status": h.status_code} for h in resp.history],
            "encoding": resp.encoding,
            "reason": resp.reason,
            "cookies": dict(resp.cookies.items()),
            "elapsed": resp.elapsed.total_seconds(),
        }
        if not 200 <= resp.status_code <= 306:
            return Result(error=result)
        return result


class MistralHTTPAction(HTTPAction):
    """Asynchronous std.http: the callee reports the result later to the callback URL.

    Sends the headers Mistral-Workflow-Name, Mistral-Workflow-Execution-Id,
    Mistral-Task-Id, Mistral-Action-Execution-Id and Mistral-Callback-URL
    (``<API base>/v2/action_executions/<id>``).
    """

    def run(self, context: ActionContext) -> Any:
        """Send the request with the Mistral-* headers; the response is not the result."""
        ex = context.execution
        callback = ex.callback_url or ""
        if not callback and ex.action_execution_id:
            base = self._settings().callback_base_url.rstrip("/")
            callback = f"{base}/v2/action_executions/{ex.action_execution_id}"
        extra = {
            "Mistral-Workflow-Name": ex.workflow_name,
            "Mistral-Workflow-Execution-Id": ex.workflow_execution_id,
            "Mistral-Task-Id": ex.task_execution_id,
            "Mistral-Action-Execution-Id": ex.action_execution_id,
            "Mistral-Callback-URL": callback,
        }
        self.headers = {**(self.headers or {}),
                        **{k: str(v) for k, v in extra.items() if v}}
        result = super().run(context)
        if isinstance(result, Result) and result.is_error():
            return result
        return None

    def is_sync(self) -> bool:
        """Always asynchronous."""
        return False


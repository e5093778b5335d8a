"""std.http and std.mistral_http: HTTP requests through the egress policy, a timeout, a size cap.

Settings come from ``[action_std_http]`` (read when the action runs, on the
executor): ``denied_cidrs`` / ``allowed_hosts`` make the
:class:`~wfaas.actions.egress.EgressPolicy` every connection goes through (the
URL, each redirect hop, followed one at a time, and any proxy are checked, and
the socket goes to the checked address), ``default_timeout`` (used when
``timeout`` is not given) and ``max_response_size_bytes``. The result is
``{content, status, headers, url, history, encoding, reason, cookies,
elapsed}``; a status outside 200-306 makes it an error result.
"""

from __future__ import annotations

import datetime
import json as jsonlib
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.cookies import extract_cookies_to_jar, merge_cookies
from requests.utils import requote_uri

from wfaas.actions.base import Action, ActionContext, ActionException, Result
from wfaas.actions.egress import EgressPolicy

LOG = logging.getLogger(__name__)

#: Most redirects std.http follows (requests' own limit, as Mistral has).
MAX_REDIRECTS = 30


@dataclass(frozen=True)
class HttpSettings:
    """The ``[action_std_http]`` options (and ``[egress]``'s ports/proxies) as plain values."""

    denied_cidrs: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    default_timeout: float = 60.0
    max_response_size_bytes: int = 5 * 1024 * 1024
    callback_base_url: str = ""
    allowed_ports: tuple[int, ...] = ()
    use_environment_proxies: bool = False

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
                   float(group.default_timeout), int(group.max_response_size_bytes), base,
                   tuple(int(p) for p in conf.egress.allowed_ports or ()),
                   bool(conf.egress.use_environment_proxies))

    @property
    def policy(self) -> EgressPolicy:
        """The egress policy std.http connects through."""
        return EgressPolicy(self.denied_cidrs, self.allowed_hosts, self.allowed_ports,
                            "[action_std_http]", self.use_environment_proxies)


def check_egress(url: str, settings: HttpSettings) -> None:
    """Raise ActionException when ``url`` is not http(s) or its host is denied (resolved)."""
    settings.policy.check_url(url)


def _next_hop(session: requests.Session, resp: requests.Response,
              prep: requests.PreparedRequest, location: str) -> requests.PreparedRequest:
    """The request a redirect asks for (method, body, cookies and auth as requests does)."""
    new = prep.copy()
    new.url = requote_uri(urljoin(prep.url or "", location))
    status, method = resp.status_code, (prep.method or "GET").upper()
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        new.method = "GET"
    if status not in (307, 308):
        new.body = None
        for name in ("Content-Length", "Content-Type", "Transfer-Encoding"):
            new.headers.pop(name, None)
    new.headers.pop("Cookie", None)
    jar = prep._cookies.copy()  # type: ignore[attr-defined]
    extract_cookies_to_jar(jar, prep, resp.raw)  # type: ignore[no-untyped-call]
    merge_cookies(jar, session.cookies)  # type: ignore[no-untyped-call]
    new.prepare_cookies(jar)
    session.rebuild_auth(new, resp)  # type: ignore[no-untyped-call]
    return new


def _send_one(session: requests.Session, prep: requests.PreparedRequest,
              **kwargs: Any) -> requests.Response:
    """One request through the session's adapter (no redirect handling, body unread)."""
    start = time.perf_counter()
    resp = session.get_adapter(prep.url or "").send(prep, **kwargs)
    resp.elapsed = datetime.timedelta(seconds=time.perf_counter() - start)
    extract_cookies_to_jar(session.cookies, prep, resp.raw)  # type: ignore[no-untyped-call]
    return resp


def send_checked(session: requests.Session, prep: requests.PreparedRequest,
                 policy: EgressPolicy, max_redirects: int = MAX_REDIRECTS,
                 **kwargs: Any) -> requests.Response:
    """Send ``prep``; follow up to ``max_redirects`` redirects, checking each hop's host."""
    history: list[requests.Response] = []
    while True:
        resp = _send_one(session, prep, **kwargs)
        location = session.get_redirect_target(resp) if max_redirects else None
        if not location:
            resp.history = history
            return resp
        resp.close()
        if len(history) >= max_redirects:
            raise ActionException(f"std.http: more than {max_redirects} redirects")
        history.append(resp)
        prep = _next_hop(session, resp, prep, location)
        policy.check_url(prep.url or "", resolve=False)  # its address: when connecting


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

    def _send(self, settings: HttpSettings) -> tuple[requests.Response, bytes]:
        policy = settings.policy
        policy.check_url(self.url, resolve=False)  # the address is checked at connect time
        follow = True if self.allow_redirects is None else bool(self.allow_redirects)
        with policy.http_session() as session:
            prep = session.prepare_request(requests.Request(
                self.method, self.url, params=self.params, data=self.body, json=self.json,
                headers=self.headers or None, cookies=self.cookies, auth=self.auth))
            env = session.merge_environment_settings(prep.url, self.proxies or {}, True,
                                                     None, None)
            if self.verify is not None and self.url.lower().startswith("https"):
                env["verify"] = self.verify
            timeout = float(self.timeout) if self.timeout else settings.default_timeout
            try:
                resp = send_checked(session, prep, policy, MAX_REDIRECTS if follow else 0,
                                    timeout=timeout, **env)
            except requests.RequestException as exc:
                raise ActionException(
                    f"std.http: {self.method} {self.url} failed: {type(exc).__name__}: {exc}"
                ) from exc
            with resp:
                return resp, _read_capped(resp, settings.max_response_size_bytes)

    def run(self, context: ActionContext) -> Any:
        """Send the request; error result for status outside 200-306."""
        settings = self._settings()
        LOG.info("std.http %s %s", self.method, _redact(self.url))
        try:
            resp, raw = self._send(settings)
        except ActionException as exc:
            message = str(exc)
            if not message.startswith("std.http"):
                raise ActionException(f"std.http: {message}") from exc
            raise
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


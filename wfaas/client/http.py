"""The HTTP layer of the wfaas client: one ``requests`` session, JSON in and out,
server faults turned into :mod:`wfaas.client.errors` exceptions."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from wfaas.client.errors import APIError, ConnectionFailed, error_for

DEFAULT_URL = "http://127.0.0.1:8989/v2"
_TAG_RE = re.compile(r"<[^>]+>")


def fault_message(response: requests.Response) -> str:
    """The server's ``faultstring`` (or the best one-line text found in the body)."""
    text = response.text or ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("faultstring", "description", "message", "title", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return str(value["message"])
    plain = " ".join(_TAG_RE.sub(" ", text).split())
    return plain[:300] or (response.reason or "HTTP error")


class HTTPClient:
    """Talks to one wfaas (or Mistral) v2 endpoint.

    ``token`` is sent as ``X-Auth-Token``; ``timeout`` bounds every request
    (seconds). Paths are relative to ``url`` (``"workflows"`` ->
    ``<url>/workflows``).
    """

    def __init__(self, url: str = DEFAULT_URL, *, token: str | None = None,
                 timeout: float = 60.0, verify: bool | str = True,
                 headers: Mapping[str, str] | None = None,
                 session: requests.Session | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.verify = verify
        self.session.headers["User-Agent"] = "wfaas-client"
        if token:
            self.session.headers["X-Auth-Token"] = token
        if headers:
            self.session.headers.update(headers)

    def _full(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.url}/{path.lstrip('/')}"

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json_body: Any = None, text: str | None = None) -> Any:
        """Send one request; return the decoded JSON body (None when empty).

        Raises :class:`APIError` (or a subclass) for an HTTP error status and
        :class:`ConnectionFailed` when the server cannot be reached.
        """
        url = self._full(path)
        headers = {"Accept": "application/json"}
        data: bytes | None = None
        if text is not None:
            # Mistral answers 406 to a definition upload that asks for JSON only.
            headers = {"Accept": "*/*", "Content-Type": "text/plain"}
            data = text.encode("utf-8")
        elif json_body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(json_body).encode("utf-8")
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self.session.request(method, url, params=clean, data=data,
                                            headers=headers, timeout=self.timeout)
        except requests.exceptions.Timeout:     # before ConnectionError: ConnectTimeout is both
            raise ConnectionFailed(self.url, f"no answer within {self.timeout:g} s") from None
        except requests.exceptions.ConnectionError as exc:
            raise ConnectionFailed(self.url, short_reason(exc)) from None
        except requests.exceptions.RequestException as exc:
            raise ConnectionFailed(self.url, str(exc)) from None
        if response.status_code >= 400:
            raise error_for(response.status_code, fault_message(response),
                            method=method, url=url)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise APIError(response.status_code, "the server answered with a body that is not "
                           f"JSON: {response.text[:200]!r}", method=method, url=url) from None

    def get(self, path: str, **params: Any) -> Any:
        """GET ``path`` with query ``params``."""
        return self.request("GET", path, params=params)

    def delete(self, path: str, **params: Any) -> None:
        """DELETE ``path``."""
        self.request("DELETE", path, params=params)

    def post(self, path: str, body: Any = None, *, text: str | None = None,
             params: Mapping[str, Any] | None = None) -> Any:
        """POST a JSON ``body`` or a YAML ``text`` to ``path``."""
        return self.request("POST", path, params=params, json_body=body, text=text)

    def put(self, path: str, body: Any = None, *, text: str | None = None,
            params: Mapping[str, Any] | None = None) -> Any:
        """PUT a JSON ``body`` or a YAML ``text`` to ``path``."""
        return self.request("PUT", path, params=params, json_body=body, text=text)

    def list(self, path: str, key: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """GET a collection; follow ``next`` links unless ``params`` has a ``limit``."""
        query = {k: v for k, v in params.items() if v is not None}
        rows: list[dict[str, Any]] = []
        while True:
            body = self.get(path, **query) or {}
            rows.extend(body.get(key) or [])
            nxt = body.get("next")
            if not nxt or query.get("limit"):
                return rows
            query = dict(parse_qsl(urlsplit(nxt).query, keep_blank_values=True))


def short_reason(exc: Exception) -> str:
    """A connection failure in a few words (``connection refused``...)."""
    text = str(exc)
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host"
    match = re.search(r"\]\s*([^'\")]+)", text)
    return match.group(1).strip() if match else text[:200]

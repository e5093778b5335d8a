"""std.http's egress policy against real loopback servers: SSRF forms, redirect hops, proxies,
pinned connections with TLS verified on the host name."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from wfaas.actions.registry import StdProvider
from wfaas.actions.runner import run_action
from wfaas.config import CONF

from .conftest import self_signed, serving
from .test_std_http import Handler, Server

GROUP = "action_std_http"


class EgressHandler(Handler):
    """The std.http routes plus /to?u=<url> (302 there) and /loop (302 to itself)."""

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/to" and not parts.netloc:
            self.server.requests.append({"path": self.path, "headers": dict(self.headers)})
            self._send(302, b"", extra={"Location": parse_qs(parts.query)["u"][0]})
        elif parts.path == "/loop" and not parts.netloc:
            self.server.requests.append({"path": self.path, "headers": dict(self.headers)})
            self._send(302, b"", extra={"Location": "/loop"})
        else:
            super()._handle()

    do_GET = do_POST = _handle


def _serve(srv: Server) -> Iterator[Server]:
    srv.requests = []
    srv.release = threading.Event()
    yield from serving(srv)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    yield from _serve(Server(("127.0.0.1", 0), EgressHandler))


@pytest.fixture(scope="module")
def provider() -> StdProvider:
    return StdProvider(include_resources=False)


@pytest.fixture
def port(server: Server) -> Iterator[int]:
    server.requests.clear()
    yield server.server_address[1]
    for name in ("allowed_hosts", "denied_cidrs"):
        CONF.clear_override(name, group=GROUP)
    for name in ("allowed_ports", "use_environment_proxies"):
        CONF.clear_override(name, group="egress")


def _http(provider: StdProvider, url: str, **extra: Any) -> Any:
    return run_action(provider, "std.http", {"url": url, **extra})


SSRF_HOSTS = ["0.0.0.0", "0", "[::]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
              "[0:0:0:0:0:ffff:127.0.0.1]", "[::ffff:a9fe:a9fe]", "[::127.0.0.1]",
              "[64:ff9b::7f00:1]", "2130706433", "0x7f.1", "0177.0.0.1", "127.1",
              "localhost", "localhost.", "127.0.0.1.", "[::1]", "169.254.169.254"]


@pytest.mark.parametrize("host", SSRF_HOSTS)
def test_ssrf_forms_refused_by_default(provider: StdProvider, server: Server, port: int,
                                       host: str) -> None:
    res = _http(provider, f"http://{host}:{port}/json")
    assert res.is_error()
    assert "std.http: refusing to connect to" in res.error
    assert "denied network" in res.error and "[action_std_http] denied_cidrs" in res.error
    assert server.requests == []


@pytest.mark.parametrize("host", ["0x7f.1", "2130706433", "127.1", "localhost"])
def test_same_forms_reach_the_server_when_allowed(provider: StdProvider, server: Server,
                                                  port: int, host: str) -> None:
    CONF.set_override("allowed_hosts", ["127.0.0.1"], group=GROUP)
    res = _http(provider, f"http://{host}:{port}/json")
    assert res.is_success(), res.error
    assert server.requests[-1]["headers"]["Host"] == f"{host}:{port}"


def test_empty_denied_list_reaches_loopback(provider: StdProvider, port: int) -> None:
    CONF.set_override("denied_cidrs", [], group=GROUP)
    assert _http(provider, f"http://0:{port}/json").is_success()


def test_redirect_hops_are_checked(provider: StdProvider, server: Server, port: int) -> None:
    CONF.set_override("allowed_hosts", ["localhost"], group=GROUP)
    for target in (f"http://[::ffff:127.0.0.1]:{port}/json", f"http://0:{port}/json",
                   "http://[::ffff:a9fe:a9fe]/latest/meta-data/"):
        server.requests.clear()
        res = _http(provider, f"http://localhost:{port}/to", params={"u": target})
        assert res.is_error() and "refusing to connect to" in res.error, res.error
        assert [r["path"].split("?")[0] for r in server.requests] == ["/to"]
    res = _http(provider, f"http://localhost:{port}/to", params={"u": "file:///etc/passwd"})
    assert res.is_error() and "unsupported URL scheme" in res.error
    res = _http(provider, f"http://localhost:{port}/to", params={"u": "/json"})
    assert res.is_success() and res.data["history"][0]["status"] == 302


def test_redirect_hop_limit_and_no_follow(provider: StdProvider, server: Server,
                                          port: int) -> None:
    CONF.set_override("allowed_hosts", ["127.0.0.1"], group=GROUP)
    res = _http(provider, f"http://127.0.0.1:{port}/loop")
    assert res.is_error() and "more than 30 redirects" in res.error
    assert len(server.requests) == 31
    res = _http(provider, f"http://127.0.0.1:{port}/loop", allow_redirects=False)
    assert res.is_success() and res.data["status"] == 302


def test_proxy_at_loopback_refused(provider: StdProvider, server: Server, port: int) -> None:
    for proxy in (f"http://127.0.0.1:{port}", f"http://[::ffff:127.0.0.1]:{port}",
                  f"0:{port}", f"http://localhost:{port}"):
        res = _http(provider, "http://8.8.8.8/", proxies={"http": proxy})
        assert res.is_error() and "refusing to connect to" in res.error, proxy
    res = _http(provider, "http://8.8.8.8/", proxies={"http": f"socks5://8.8.4.4:{port}"})
    assert res.is_error() and "unsupported URL scheme" in res.error
    assert server.requests == []


def test_allowed_proxy_is_used_and_the_target_checked(provider: StdProvider, server: Server,
                                                      port: int) -> None:
    CONF.set_override("allowed_hosts", ["127.0.0.1"], group=GROUP)
    proxies = {"http": f"http://127.0.0.1:{port}"}
    res = _http(provider, "http://8.8.8.8/through-proxy", proxies=proxies)
    assert res.is_success(), res.error
    assert server.requests[-1]["path"] == "http://8.8.8.8/through-proxy"
    server.requests.clear()
    res = _http(provider, "http://169.254.169.254/latest/meta-data/", proxies=proxies)
    assert res.is_error() and "refusing to connect to 169.254.169.254" in res.error
    assert server.requests == []


def test_environment_proxies_ignored_unless_configured(provider: StdProvider, server: Server,
                                                       port: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    CONF.set_override("allowed_hosts", ["127.0.0.1"], group=GROUP)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", "")
    res = _http(provider, f"http://127.0.0.1:{port}/json")
    assert res.is_success() and server.requests[-1]["path"] == "/json"
    CONF.set_override("use_environment_proxies", True, group="egress")
    res = _http(provider, "http://8.8.8.8/via-env-proxy")
    assert res.is_success(), res.error
    assert server.requests[-1]["path"] == "http://8.8.8.8/via-env-proxy"


def test_allowed_ports(provider: StdProvider, server: Server, port: int) -> None:
    CONF.set_override("allowed_hosts", ["127.0.0.1"], group=GROUP)
    CONF.set_override("allowed_ports", [443], group="egress")
    res = _http(provider, f"http://127.0.0.1:{port}/json")
    assert res.is_error() and "[egress] allowed_ports" in res.error
    assert server.requests == []


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    ctx, pem = self_signed(tmp_path_factory.mktemp("tls"), san=True)
    srv = Server(("127.0.0.1", 0), EgressHandler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    for running in _serve(srv):
        yield running, pem


def test_tls_is_verified_on_the_host_name(provider: StdProvider, port: int,
                                          tls_server: tuple[Server, Path]) -> None:
    srv, pem = tls_server
    tls_port = srv.server_address[1]
    CONF.set_override("allowed_hosts", ["localhost", "127.0.0.1"], group=GROUP)
    res = _http(provider, f"https://localhost:{tls_port}/json", verify=str(pem))
    assert res.is_success(), res.error  # SNI and certificate on "localhost", socket on the IP
    res = _http(provider, f"https://127.0.0.1:{tls_port}/json", verify=str(pem))
    assert res.is_error() and "SSLError" in res.error  # the certificate names localhost only


def test_pack_helpers_use_the_egress_group(server: Server, port: int) -> None:
    from wfaas.actions import egress

    with pytest.raises(egress.EgressDenied, match=r"127\.0\.0\.0/8 \(\[action_std_http\]"):
        egress.connect("localhost", port, timeout=2)
    with egress.http_session() as http, pytest.raises(egress.EgressDenied):
        http.get(f"http://[::ffff:127.0.0.1]:{port}/json", timeout=5)
    assert server.requests == []
    CONF.set_override("allowed_hosts", ["127.0.0.1"], group="egress")
    try:
        egress.connect("localhost", port, timeout=2).close()
        with egress.http_session() as http:
            resp = http.get(f"http://127.0.0.1:{port}/redirect", timeout=5)
        assert resp.json()["hello"] == "world" and resp.history[0].status_code == 302
        with egress.http_session() as http, pytest.raises(egress.EgressDenied):
            http.get(f"http://127.0.0.1:{port}/to", params={"u": "http://0:1/"}, timeout=5)
    finally:
        CONF.clear_override("allowed_hosts", group="egress")

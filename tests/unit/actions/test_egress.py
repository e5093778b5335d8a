"""The egress policy: address normalisation, the denied/allowed decision, ports, resolution."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from wfaas.actions.egress import (
    DEFAULT_DENIED_CIDRS,
    EgressDenied,
    EgressPolicy,
    canonical_host,
    embedded_ipv4,
    views,
)
from wfaas.config import CONF

POLICY = EgressPolicy()

# (host as a workflow writes it, the denied network that must refuse it)
REFUSED = [
    ("127.0.0.1", "127.0.0.0/8"),
    ("127.1", "127.0.0.0/8"),
    ("localhost", "127.0.0.0/8"),
    ("localhost.", "127.0.0.0/8"),
    ("LOCALHOST", "127.0.0.0/8"),
    ("0.0.0.0", "0.0.0.0/8"),
    ("0", "0.0.0.0/8"),
    ("0.1.2.3", "0.0.0.0/8"),
    ("::", "::/128"),
    ("[::]", "::/128"),
    ("0:0:0:0:0:0:0:0", "::/128"),
    ("::1", "::1/128"),
    ("[::1]", "::1/128"),
    ("::ffff:127.0.0.1", "127.0.0.0/8"),
    ("[::ffff:127.0.0.1]", "127.0.0.0/8"),
    ("::ffff:7f00:1", "127.0.0.0/8"),
    ("0:0:0:0:0:ffff:127.0.0.1", "127.0.0.0/8"),
    ("::ffff:0.0.0.0", "0.0.0.0/8"),
    ("::127.0.0.1", "127.0.0.0/8"),          # IPv4-compatible
    ("::7f00:1", "127.0.0.0/8"),
    ("::ffff:a9fe:a9fe", "169.254.0.0/16"),  # 169.254.169.254, cloud metadata
    ("::a9fe:a9fe", "169.254.0.0/16"),
    ("169.254.169.254", "169.254.0.0/16"),
    ("64:ff9b::7f00:1", "127.0.0.0/8"),      # NAT64
    ("64:ff9b::a9fe:a9fe", "169.254.0.0/16"),
    ("64:ff9b:1::a00:1", "10.0.0.0/8"),      # local-use NAT64 (RFC 8215)
    ("2002:7f00:1::", "127.0.0.0/8"),        # 6to4
    ("2002:a9fe:a9fe::1", "169.254.0.0/16"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.0/8"),  # Teredo, client 127.0.0.1
    ("2130706433", "127.0.0.0/8"),           # decimal integer
    ("0x7f000001", "127.0.0.0/8"),           # hex integer
    ("0x7f.1", "127.0.0.0/8"),
    ("0177.0.0.1", "127.0.0.0/8"),           # octal
    ("017700000001", "127.0.0.0/8"),
    ("10.1.2.3", "10.0.0.0/8"),
    ("172.31.255.1", "172.16.0.0/12"),
    ("192.168.0.1", "192.168.0.0/16"),
    ("100.64.0.1", "100.64.0.0/10"),
    ("fd00::1", "fc00::/7"),
    ("fe80::1", "fe80::/10"),
    ("224.0.0.1", "224.0.0.0/4"),            # multicast
    ("239.255.255.250", "224.0.0.0/4"),
    ("ff02::1", "ff00::/8"),
    ("255.255.255.255", "240.0.0.0/4"),      # broadcast
    ("::ffff:255.255.255.255", "240.0.0.0/4"),
]

ALLOWED = ["8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808",
           "2002:808:808::1", "1.1.1.1"]


@pytest.mark.parametrize(("host", "network"), REFUSED)
def test_every_form_of_a_denied_address_is_refused(host: str, network: str) -> None:
    with pytest.raises(EgressDenied, match=rf"denied network {network} \(\[egress\] "):
        POLICY.resolve(host, 80)


@pytest.mark.parametrize("host", ALLOWED)
def test_public_addresses_pass(host: str) -> None:
    assert POLICY.resolve(host, 443)


def test_views_normalise_embedded_and_unspecified_addresses() -> None:
    def v(text: str) -> list[str]:
        return [str(a) for a in views(ipaddress.ip_address(text))]

    assert v("::ffff:127.0.0.1") == ["::ffff:7f00:1", "127.0.0.1"]
    assert v("0.0.0.0") == ["0.0.0.0", "127.0.0.1", "::1"]
    assert v("::") == ["::", "127.0.0.1", "::1"]
    assert v("::ffff:0.0.0.0") == ["::ffff:0:0", "0.0.0.0", "127.0.0.1", "::1"]
    assert v("8.8.8.8") == ["8.8.8.8"]
    assert v("::1") == ["::1"]  # loopback is not IPv4-compatible 0.0.0.1
    assert embedded_ipv4(ipaddress.IPv6Address("2001:db8::1")) == []


def test_unspecified_reaches_this_host_even_with_a_short_denied_list() -> None:
    policy = EgressPolicy(denied_cidrs=("127.0.0.0/8", "::1/128"))
    for host in ("0.0.0.0", "::", "0", "::ffff:0.0.0.0"):
        with pytest.raises(EgressDenied, match="127.0.0.0/8|::1/128"):
            policy.resolve(host, 80)


def test_allowed_hosts_by_name_and_by_cidr() -> None:
    by_name = EgressPolicy(allowed_hosts=("localhost",))
    assert by_name.resolve("localhost", 80)
    assert by_name.resolve("LocalHost.", 80)  # names compare case- and dot-insensitively
    with pytest.raises(EgressDenied):
        by_name.resolve("127.0.0.1", 80)  # a name allows that name, not its addresses
    by_cidr = EgressPolicy(allowed_hosts=("127.0.0.1",))
    for host in ("127.0.0.1", "localhost", "2130706433", "::ffff:127.0.0.1"):
        assert by_cidr.resolve(host, 80)
    with pytest.raises(EgressDenied, match="127.0.0.2"):
        by_cidr.resolve("127.0.0.2", 80)


def test_explicitly_denied_mapped_range_is_not_reopened_by_an_ipv4_exception() -> None:
    policy = EgressPolicy(denied_cidrs=(*DEFAULT_DENIED_CIDRS, "::ffff:0:0/96"),
                          allowed_hosts=("127.0.0.1",))
    assert policy.resolve("127.0.0.1", 80)
    with pytest.raises(EgressDenied, match=r"::ffff:0:0/96"):
        policy.resolve("::ffff:127.0.0.1", 80)


def test_empty_denied_list_is_mistral_behaviour() -> None:
    policy = EgressPolicy(denied_cidrs=())
    assert policy.is_open() and not POLICY.is_open()
    for host in ("127.0.0.1", "0", "::ffff:7f00:1", "localhost"):
        assert policy.resolve(host, 22)


def test_allowed_ports() -> None:
    policy = EgressPolicy(allowed_ports=(443,))
    assert policy.resolve("8.8.8.8", 443)
    with pytest.raises(EgressDenied, match=r"port 80: the port is not in \[egress\] allowed_ports"):
        policy.resolve("8.8.8.8", 80)
    assert not EgressPolicy(denied_cidrs=(), allowed_ports=(443,)).is_open()


def test_every_resolved_address_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    def two_answers(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", two_answers)
    with pytest.raises(EgressDenied, match=r"multi\.example \(127\.0\.0\.1\)"):
        POLICY.resolve("multi.example", 80)


def test_connect_uses_the_checked_address_without_a_second_lookup(
        monkeypatch: pytest.MonkeyPatch) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    answers = iter(["127.0.0.1", "127.0.0.2"])  # a rebinding resolver
    calls: list[str] = []

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    policy = EgressPolicy(allowed_hosts=("127.0.0.1",))
    with listener, policy.connect("rebind.example", port, 2) as sock:
        assert sock.getpeername() == ("127.0.0.1", port)
    assert calls == ["rebind.example"]


def test_url_checks() -> None:
    for url in ("file:///etc/passwd", "gopher://x/", "ftp://8.8.8.8/"):
        with pytest.raises(EgressDenied, match="unsupported URL scheme"):
            POLICY.check_url(url)
    with pytest.raises(EgressDenied, match="no host"):
        POLICY.check_url("http:///path")
    with pytest.raises(EgressDenied, match="invalid port"):
        POLICY.check_url("http://8.8.8.8:99999/")
    POLICY.check_url("http://127.0.0.1/", resolve=False)  # scheme and host only
    with pytest.raises(EgressDenied, match="127.0.0.0/8"):
        POLICY.check_url("http://[::ffff:127.0.0.1]:8080/")


def test_canonical_host() -> None:
    assert canonical_host(" [::1] ") == "::1"
    assert canonical_host("Example.COM.") == "example.com"


def test_from_conf_defaults_to_std_http_values() -> None:
    CONF.set_override("denied_cidrs", ["10.0.0.0/8"], group="action_std_http")
    CONF.set_override("allowed_hosts", ["10.1.1.1"], group="action_std_http")
    try:
        policy = EgressPolicy.from_conf(CONF)
        assert policy.denied_cidrs == ("10.0.0.0/8",) and policy.allowed_hosts == ("10.1.1.1",)
        assert policy.source == "[action_std_http]"
        CONF.set_override("denied_cidrs", [], group="egress")
        CONF.set_override("allowed_ports", [22, 25], group="egress")
        policy = EgressPolicy.from_conf()
        assert policy.denied_cidrs == () and policy.allowed_ports == (22, 25)
        assert policy.source == "[egress]"
    finally:
        for group, names in (("action_std_http", ("denied_cidrs", "allowed_hosts")),
                             ("egress", ("denied_cidrs", "allowed_ports"))):
            for name in names:
                CONF.clear_override(name, group=group)
    assert EgressPolicy.from_conf().denied_cidrs == DEFAULT_DENIED_CIDRS

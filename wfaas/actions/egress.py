"""One egress policy for every action that opens a network connection.

std.http / std.mistral_http, std.ssh / std.ssh_proxied, std.email, the
OpenStack actions' keystoneauth session and third-party packs all go through
:class:`EgressPolicy`:

1. the host is resolved **once** (``getaddrinfo``; numeric forms such as
   ``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``0`` and trailing dots are
   resolved by the C library exactly as a connect would resolve them);
2. **every** resolved address is normalised to all the addresses it reaches
   (IPv4-mapped and IPv4-compatible IPv6, NAT64 ``64:ff9b::/96``, 6to4
   ``2002::/16``, Teredo, and the unspecified ``0.0.0.0`` / ``::``, which a
   connect sends to this host) and each of them is checked against the denied
   networks; ``allowed_hosts`` (names or CIDRs) are the exceptions; a port
   outside ``allowed_ports`` (when set) is refused;
3. the socket is connected to **the checked address**: no second lookup.

For packs (see docs/actions.md)::

    from wfaas.actions import egress

    sock = egress.connect("db.example", 5432, timeout=10)   # a checked, connected socket
    with egress.http_session() as http:                      # requests, every hop checked
        http.get("https://api.example/v1/items", timeout=10)

A refusal raises :class:`EgressDenied` (an ``ActionException``: the task fails
with its message).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3 import connection as u3conn
from urllib3 import connectionpool as u3pool
from urllib3 import exceptions as u3exc

from wfaas.actions.base import ActionException
from wfaas.config import DEFAULT_DENIED

LOG = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Networks refused by default (``[action_std_http] denied_cidrs``'s default).
DEFAULT_DENIED_CIDRS: tuple[str, ...] = tuple(DEFAULT_DENIED)

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_THIS_HOST = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


class EgressDenied(ActionException):
    """The egress policy refused a connection (the message names the option to change)."""


def parse_networks(items: Iterable[str]) -> tuple[Network, ...]:
    """The entries of ``items`` that are IP addresses or CIDRs, as networks."""
    nets = []
    for item in items:
        text = str(item).strip().strip("[]")
        if not text:
            continue
        try:
            nets.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            continue
    return tuple(nets)


def canonical_host(host: str) -> str:
    """``host`` without brackets, zone-less case, trailing dots: the form names compare in."""
    return str(host).strip().strip("[]").rstrip(".").lower()


def embedded_ipv4(addr: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    found: list[ipaddress.IPv4Address] = []
    if addr.ipv4_mapped is not None:
        found.append(addr.ipv4_mapped)
    elif int(addr) >> 32 == 0 and int(addr) > 1:  # IPv4-compatible ::a.b.c.d (deprecated)
        found.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    if any(addr in net for net in _NAT64):
        found.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    if addr.sixtofour is not None:
        found.append(addr.sixtofour)
    if addr.teredo is not None:
        found.extend(addr.teredo)
    return found


def views(addr: Address) -> list[Address]:
    """Every address a connect to ``addr`` may reach: itself, embedded IPv4, this host."""
    out: list[Address] = [addr]
    if isinstance(addr, ipaddress.IPv6Address):
        out.extend(embedded_ipv4(addr))
    if any(v.is_unspecified for v in out):
        out.extend(_THIS_HOST)
    return out


@dataclass(frozen=True)
class EgressPolicy:
    """Where actions may connect: denied networks, allowed hosts/CIDRs, allowed ports.

    ``source`` names the option group in refusal messages. ``denied_cidrs``
    empty means nothing is denied (Mistral's behaviour). ``trusted(host, port)``
    optionally names host:port pairs reachable without the address and port
    checks (the OpenStack session passes Keystone's URL and its service catalog).
    """

    denied_cidrs: tuple[str, ...] = DEFAULT_DENIED_CIDRS
    allowed_hosts: tuple[str, ...] = ()
    allowed_ports: tuple[int, ...] = ()
    source: str = "[egress]"
    use_environment_proxies: bool = False
    trusted: Callable[[str, int], bool] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_conf(cls, conf: Any = None) -> EgressPolicy:
        """``[egress]`` of ``conf`` (default: the global CONF); unset lists use std.http's."""
        if conf is None:
            from wfaas.config import CONF as conf
        group = conf.egress
        denied, allowed = group.denied_cidrs, group.allowed_hosts
        source = "[egress]"
        if denied is None:
            denied = conf.action_std_http.denied_cidrs
            source = "[action_std_http]"
        if allowed is None:
            allowed = conf.action_std_http.allowed_hosts
        return cls(tuple(denied or ()), tuple(allowed or ()),
                   tuple(int(p) for p in group.allowed_ports or ()), source,
                   bool(group.use_environment_proxies))

    @functools.cached_property
    def _denied(self) -> tuple[Network, ...]:
        return parse_networks(self.denied_cidrs)

    @functools.cached_property
    def _allowed(self) -> tuple[Network, ...]:
        return parse_networks(self.allowed_hosts)

    @functools.cached_property
    def _allowed_names(self) -> frozenset[str]:
        return frozenset(canonical_host(h) for h in self.allowed_hosts if h.strip())

    def is_open(self) -> bool:
        """True when nothing is denied and every port is allowed (Mistral's behaviour)."""
        return not self._denied and not self.allowed_ports

    def is_trusted(self, host: str, port: int) -> bool:
        """True when ``trusted`` names host:port (reachable without any check)."""
        return bool(self.trusted is not None and self.trusted(canonical_host(host), int(port)))

    def check_port(self, host: str, port: int) -> None:
        """Raise EgressDenied when ``allowed_ports`` is set and ``port`` is not in it."""
        if self.allowed_ports and int(port) not in self.allowed_ports:
            raise EgressDenied(f"refusing to connect to {host} port {port}: the port is not "
                               "in [egress] allowed_ports")

    def denied_by(self, addr: Address) -> tuple[Address, Network] | None:
        """(the address, the denied network) that refuses ``addr``, or None."""
        for view in views(addr):
            if any(view in net for net in self._allowed):
                continue
            for net in self._denied:
                if view in net:
                    return view, net
        return None

    def check_address(self, host: str, addr: Address) -> None:
        """Raise EgressDenied when ``addr`` (one address of ``host``) is denied."""
        hit = self.denied_by(addr)
        if hit is None:
            return
        view, net = hit
        shown = f"{addr}" if view == addr else f"{addr} = {view}"
        raise EgressDenied(
            f"refusing to connect to {host} ({shown}): address is in denied network {net} "
            f"({self.source} denied_cidrs; allow it with allowed_hosts)")

    def resolve(self, host: str, port: int) -> list[tuple[Any, ...]]:
        """The checked ``getaddrinfo`` entries of host:port (EgressDenied if any is denied)."""
        name = str(host).strip().strip("[]").rstrip(".")  # as urllib3 does: "a." is "a"
        if not name:
            raise EgressDenied("refusing to connect: no host given")
        trusted = self.is_trusted(name, port)
        if not trusted:
            self.check_port(host, port)
        try:
            infos = socket.getaddrinfo(name, int(port), type=socket.SOCK_STREAM)
        except UnicodeError as exc:
            raise EgressDenied(f"refusing to connect to {host!r}: invalid host name") from exc
        if not trusted and canonical_host(name) not in self._allowed_names:
            for info in infos:
                self.check_address(host, ipaddress.ip_address(str(info[4][0]).split("%")[0]))
        return infos

    def connect(self, host: str, port: int, timeout: float | None = None, *,
                socket_options: Sequence[tuple[int, int, Any]] | None = None,
                source_address: tuple[str, int] | None = None) -> socket.socket:
        """A socket connected to a checked address of host:port (tried in resolver order)."""
        last: OSError | None = None
        for family, socktype, proto, _, sockaddr in self.resolve(host, port):
            sock = socket.socket(family, socktype, proto)
            try:
                for opt in socket_options or ():
                    sock.setsockopt(*opt)
                if timeout is not None:
                    sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                last = exc
                sock.close()
        raise last or OSError(f"cannot connect to {host}:{port}")

    def check_url(self, url: str, *, resolve: bool = True) -> None:
        """Check the scheme (http/https) and, with ``resolve``, the host of ``url``.

        Resolving is for hosts another party connects to (the target behind a
        proxy); connections wfaas opens are checked when they are opened.
        """
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            raise EgressDenied(f"unsupported URL scheme in {url!r} (http or https)")
        if not parts.hostname:
            raise EgressDenied(f"no host in URL {url!r}")
        if not resolve:
            return
        try:
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except ValueError as exc:
            raise EgressDenied(f"invalid port in URL {url!r}") from exc
        self.resolve(parts.hostname or "", port)

    def http_session(self) -> requests.Session:
        """A requests Session whose every connection (hop, proxy) goes through this policy."""
        session = requests.Session()
        session.trust_env = self.use_environment_proxies
        adapter = PinnedAdapter(self)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session


def _pinned_socket(conn: u3conn.HTTPConnection, policy: EgressPolicy) -> socket.socket:
    """urllib3's ``_new_conn`` through the policy, with urllib3's own error types."""
    timeout = conn.timeout if isinstance(conn.timeout, int | float) else None
    try:
        return policy.connect(conn.host, conn.port or 80, timeout,
                              socket_options=conn.socket_options,
                              source_address=conn.source_address)
    except EgressDenied:
        raise
    except socket.gaierror as exc:
        raise u3exc.NameResolutionError(conn.host, conn, exc) from exc
    except TimeoutError as exc:
        raise u3exc.ConnectTimeoutError(
            conn, f"Connection to {conn.host} timed out. (connect timeout={timeout})") from exc
    except OSError as exc:
        raise u3exc.NewConnectionError(
            conn, f"Failed to establish a new connection: {exc}") from exc


def _pool_classes(policy: EgressPolicy) -> dict[str, type[u3pool.HTTPConnectionPool]]:
    """urllib3 pool classes whose connections open their socket through ``policy``."""

    class PinnedHTTPConnection(u3conn.HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return _pinned_socket(self, policy)

    class PinnedHTTPSConnection(u3conn.HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return _pinned_socket(self, policy)

    class PinnedHTTPPool(u3pool.HTTPConnectionPool):
        ConnectionCls = PinnedHTTPConnection

    class PinnedHTTPSPool(u3pool.HTTPSConnectionPool):
        ConnectionCls = PinnedHTTPSConnection

    return {"http": PinnedHTTPPool, "https": PinnedHTTPSPool}


@functools.lru_cache(maxsize=64)
def _shared_pool_classes(policy: EgressPolicy) -> dict[str, type[u3pool.HTTPConnectionPool]]:
    """The pool classes of an equal policy, made once (a policy with ``trusted`` is not
    cached: equality ignores that callable)."""
    return _pool_classes(policy)


class PinnedAdapter(HTTPAdapter):
    """A requests adapter that connects through an :class:`EgressPolicy`.

    The socket goes to the checked address while urllib3 keeps the host name
    for the Host header, TLS SNI and certificate verification. Through a proxy,
    the proxy is what the socket reaches (checked the same way) and the target
    URL's host is resolved and checked too. SOCKS proxies are refused.
    """

    def __init__(self, policy: EgressPolicy, **kwargs: Any) -> None:
        self.policy = policy
        self._pools = (_pool_classes(policy) if policy.trusted is not None
                       else _shared_pool_classes(policy))
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """The pool manager, with pinned connection pools."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(self._pools)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """The proxy manager for an http(s) proxy, with pinned connection pools."""
        if urlsplit(proxy).scheme.lower() not in ("http", "https"):
            raise EgressDenied(f"unsupported proxy {proxy!r} (http or https)")
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(self._pools)
        return manager

    def send(self, request: requests.PreparedRequest, stream: bool = False,  # noqa: PLR0913
             timeout: Any = None, verify: Any = True, cert: Any = None,
             proxies: Any = None) -> requests.Response:
        """Check the target when a proxy will connect to it, then send as usual."""
        url = request.url or ""
        proxy = select_proxy(url, proxies or {})
        if proxy:
            self.policy.check_url(proxy if "://" in proxy else f"http://{proxy}")
            self.policy.check_url(url)
        return super().send(request, stream=stream, timeout=timeout, verify=verify,
                            cert=cert, proxies=proxies)


def default_policy() -> EgressPolicy:
    """The shared ``[egress]`` policy of the global configuration."""
    return EgressPolicy.from_conf()


def connect(host: str, port: int, timeout: float | None = None,
            policy: EgressPolicy | None = None) -> socket.socket:
    """A socket connected to a checked address of host:port (pack helper)."""
    return (policy or default_policy()).connect(host, port, timeout)


def http_session(policy: EgressPolicy | None = None) -> requests.Session:
    """A requests Session checked by the ``[egress]`` policy (pack helper)."""
    return (policy or default_policy()).http_session()

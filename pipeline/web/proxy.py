"""Behind a TLS reverse proxy: requests whose TCP peer is one of SOCIALPULSE_TRUSTED_PROXIES are seen with the
scheme and host the browser used (the first `X-Forwarded-Proto` and `X-Forwarded-Host` values) and the client's
address (the last `X-Forwarded-For` entry that is not a trusted proxy), so the session cookie gets `Secure` and
the Origin check of writes compares against `https://<public host>`. From any other peer the headers are ignored:
anybody can send them. Must be the first middleware (everything after it sees the corrected request).
"""
from __future__ import annotations

import ipaddress
import re
from typing import Any, Awaitable, Callable, Optional, Sequence

from aiohttp import web

#: A host[:port] as a Host header may carry it (a name, an IPv4 address or a bracketed IPv6 address).
_HOST_RE = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$")


def _address(value: str) -> Optional[Any]:
    try:
        return ipaddress.ip_address(value.strip().split("%", 1)[0])
    except ValueError:
        return None


def _first(request: web.BaseRequest, name: str) -> str:
    value = request.headers.get(name, "")
    return value.split(",", 1)[0].strip()


class TrustedProxies:
    def __init__(self, networks: Sequence[Any]) -> None:
        self.networks = tuple(networks)

    def trusts(self, address: Optional[str]) -> bool:
        ip = _address(address) if address else None
        if ip is None:
            return False
        if getattr(ip, "ipv4_mapped", None) is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == net.version and ip in net for net in self.networks)

    def client(self, forwarded_for: str) -> Optional[str]:
        """The client address in X-Forwarded-For: the last entry that is no trusted proxy (the entries before it
        were written by the client itself); the first one when every entry is trusted."""
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if _address(hop) is None:
                return None
            if not self.trusts(hop):
                return str(_address(hop))
        return str(_address(hops[0])) if hops else None

    def corrected(self, request: web.Request) -> web.Request:
        """`request` as the browser sent it to the proxy, when its peer is trusted; else `request` unchanged."""
        if not self.networks or not self.trusts(request.remote):
            return request
        changes: dict[str, str] = {}
        proto = _first(request, "X-Forwarded-Proto").lower()
        if proto in ("http", "https"):
            changes["scheme"] = proto
        host = _first(request, "X-Forwarded-Host")
        if host and _HOST_RE.match(host):
            changes["host"] = host
        client = self.client(",".join(request.headers.getall("X-Forwarded-For", [])))
        if client:
            changes["remote"] = client
        return request.clone(**changes) if changes else request  # type: ignore[arg-type]


def proxy_middleware(trusted: TrustedProxies) -> Callable:
    @web.middleware
    async def forwarded(request: web.Request,
                        handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        return await handler(trusted.corrected(request))

    return forwarded

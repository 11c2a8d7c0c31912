"""Who the client is, and how often it may call: rate limits and admin-key attempt limits.

Counts live in a `limits` storage: in this process's memory by default (bounded: a client's counters
expire two windows after its last request), or in Redis (`QA_RATE_LIMIT_STORAGE=redis://…`) so that every
worker, on every machine, shares them. If Redis cannot be reached the limits fall back to this process's
memory, with a warning in the log, rather than refusing or letting everything through.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import math
import time
from collections.abc import Iterable

from fastapi import Header, Request
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.errors import ConfigurationError, StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from .errors import AdminDisabled, RateLimited, Unauthorized

log = logging.getLogger("policyqa.limits")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

SWEEP_SECONDS = 1.0


class SweptMemoryStorage(MemoryStorage):
    """`limits`' memory storage, its expired counters dropped by the request that finds a sweep due.

    The stock one starts a `threading.Timer` thread whenever its last one has ended, to sweep 10 ms later:
    under steady traffic a new thread for nearly every request (profiled at ~10 % of a search's server
    CPU). Here the counters a request reads are expired as before, and every other key at most once a
    `SWEEP_SECONDS`, by the request that comes then: the same bound on memory (a quiet client's
    counters go two windows after its last request), no thread."""

    def __init__(self, uri: str | None = None, **options) -> None:
        super().__init__(uri, **options)
        self._swept = time.monotonic()

    def _MemoryStorage__schedule_expiry(self) -> None:  # the name the base class's private method has
        now = time.monotonic()
        if now - self._swept >= SWEEP_SECONDS:
            self._swept = now
            self._MemoryStorage__expire_events()


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """CIDRs or single addresses → networks; a bad entry raises ValueError naming it."""
    out = []
    for entry in entries:
        try:
            out.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or CIDR: {entry!r}") from None
    return tuple(out)


@functools.lru_cache(maxsize=4096)  # the same few peers (a proxy, returning clients) again and again
def _ip(text: str):
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    return (ip.ipv4_mapped or ip) if isinstance(ip, ipaddress.IPv6Address) else ip


def _trusted(ip, networks: tuple[Network, ...]) -> bool:
    return ip is not None and any(ip.version == n.version and ip in n for n in networks)


def _key(ip) -> str:
    # one IPv6 subscriber is usually given a whole /64: counting each address apart would let one
    # machine spread its requests over 2^64 keys (and grow the store with each)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def client_key(peer: str | None, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str:
    """The address requests are counted against.

    The socket peer, unless the peer is one of our own proxies (`trusted`): then X-Forwarded-For is read
    from the right — each trusted proxy appended the address it received from — and the first address
    that is not a trusted proxy is the client. The leftmost entries are whatever the client wrote and
    are never believed. A malformed entry where the client should be counts against the proxy that
    passed it on."""
    peer_ip = _ip(peer) if peer else None
    if peer_ip is None:
        return peer or "unknown"
    if not trusted or not forwarded_for or not _trusted(peer_ip, trusted):
        return _key(peer_ip)
    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    nearest = peer_ip
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            return _key(nearest)
        if not _trusted(ip, trusted):
            return _key(ip)
        nearest = ip
    return _key(nearest)  # every hop is one of ours: the request started at the leftmost


class Limits:
    """Requests per minute per client on /v1/*, and failed admin-key attempts per client."""

    def __init__(
        self,
        storage_uri: str = "memory://",
        *,
        per_minute: int = 60,
        admin_failures: int = 10,
        admin_window_seconds: int = 900,
        redis_timeout: float = 0.5,
    ) -> None:
        self.storage_uri = storage_uri
        options: dict = {}
        if storage_uri.startswith(("redis://", "rediss://", "redis+unix://")):
            options = {"socket_timeout": redis_timeout, "socket_connect_timeout": redis_timeout, "wrap_exceptions": True}
        try:
            self.storage: Storage = (
                SweptMemoryStorage(storage_uri) if storage_uri.startswith("memory://") else storage_from_string(storage_uri, **options)
            )
        except ConfigurationError as exc:
            raise ValueError(f"QA_RATE_LIMIT_STORAGE: {exc}") from None
        self.shared = not isinstance(self.storage, MemoryStorage)
        self.limiter = SlidingWindowCounterRateLimiter(self.storage)
        self._fallback = SlidingWindowCounterRateLimiter(SweptMemoryStorage()) if self.shared else None
        self._warned = 0.0
        self.requests: RateLimitItem | None = RateLimitItemPerMinute(per_minute, namespace="QA-REQ") if per_minute > 0 else None
        self.admin: RateLimitItem | None = (
            RateLimitItemPerSecond(admin_failures, admin_window_seconds, namespace="QA-ADMIN") if admin_failures > 0 else None
        )

    # --- the store, falling back to memory when a shared one is down --------------------------

    def _call(self, method: str, item: RateLimitItem, key: str) -> bool:
        try:
            return getattr(self.limiter, method)(item, key)
        except StorageError as exc:  # a shared store that is down must not take the service with it
            if self._fallback is None:
                raise
            now = time.monotonic()
            if now - self._warned > 60:
                self._warned = now
                log.warning({"event": "rate_limit_store_unavailable", "error": type(exc).__name__,
                             "detail": "limits are kept per process until the store answers again"})
            return getattr(self._fallback, method)(item, key)

    def _retry_after(self, item: RateLimitItem, key: str) -> int:
        try:
            reset = self.limiter.get_window_stats(item, key).reset_time
        except StorageError:
            reset = time.time() + item.get_expiry()
        return max(1, math.ceil(reset - time.time()))

    # --- the two limits ------------------------------------------------------------------------

    def check_request(self, client: str) -> None:
        """Count one request; 429 with Retry-After once the client is over the limit."""
        if self.requests is None:
            return
        if not self._call("hit", self.requests, client):
            retry = self._retry_after(self.requests, client)
            raise RateLimited(
                f"more than {self.requests.amount} requests a minute; retry in {retry} s", headers={"Retry-After": str(retry)}
            )

    def check_admin(self, client: str) -> None:
        """Refuse every admin attempt, right key or not, from a client with too many recent failures:
        otherwise guessing could go on, its one success told apart from the refusals."""
        if self.admin is not None and not self._call("test", self.admin, client):
            self._admin_refused(client)

    def admin_failed(self, client: str) -> None:
        """Count a wrong or missing admin key; 429 from the failure that reaches the limit on."""
        if self.admin is not None and not self._call("hit", self.admin, client):
            self._admin_refused(client)

    def _admin_refused(self, client: str) -> None:
        assert self.admin is not None
        retry = self._retry_after(self.admin, client)
        raise RateLimited(
            f"too many wrong admin keys from this client; retry in {retry} s",
            field="X-API-Key",
            headers={"Retry-After": str(retry)},
        )


def admin_dependency(admin_api_key: str | None, limits: Limits):
    """The FastAPI dependency every admin route uses: the key compared in constant time, and wrong keys
    counted against the client (the Guard middleware put its key in the request state)."""
    def require_admin(request: Request, x_api_key: str | None = Header(None)) -> None:
        if not admin_api_key:
            raise AdminDisabled("admin endpoints are disabled: set QA_ADMIN_API_KEY to enable them")
        client = getattr(request.state, "client_key", None) or "unknown"
        limits.check_admin(client)  # a client with too many recent failures is refused, right key or not
        if x_api_key is None or not hmac.compare_digest(x_api_key.encode(), admin_api_key.encode()):
            limits.admin_failed(client)
            raise Unauthorized("missing or wrong X-API-Key", field="X-API-Key")

    return require_admin

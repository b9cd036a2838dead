"""Rate limits on anything that sends mail or checks a secret, counted in the cache (Redis in production).

Views call `exceeded()` with every limit that applies (per IP, per address…); all counters are
incremented, and a limited request gets `too_many_requests()`: a French page with HTTP 429.

The counters live in the "ratelimit" cache (`RATELIMIT_USE_CACHE`). In production it is a
`FallbackRedisCache`: while Redis is unreachable, each process counts in its own memory instead. That keeps
every limit in force per process (a client can get at most the limit times the number of web processes,
for as long as the outage lasts), where failing closed would refuse every sign-in and failing open would
drop the limits that protect passwords and mail.
"""

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# After a failure, Redis is tried again this many seconds later; meanwhile no request waits on it.
REDIS_RETRY_SECONDS = 30


class FallbackRedisCache(RedisCache):
    """Redis, or a per-process local-memory cache while Redis cannot be reached (see the module's docstring)."""

    _lock = threading.Lock()
    _redis_down_until = 0.0  # shared by the threads of a process, like the local cache

    def __init__(self, server, params):
        super().__init__(server, params)
        # LocMemCache instances with one name share their storage within the process.
        self._local = LocMemCache("chorus-ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 100_000}})

    def _call(self, method: str, *args, **kwargs):
        if time.monotonic() >= FallbackRedisCache._redis_down_until:
            try:
                return getattr(super(), method)(*args, **kwargs)
            except RedisError as exc:
                with FallbackRedisCache._lock:
                    FallbackRedisCache._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
                logger.error(
                    "Redis unreachable for rate limits (%s: %s); counting in local memory per process for %s s.",
                    type(exc).__name__,
                    exc,
                    REDIS_RETRY_SECONDS,
                )
        return getattr(self._local, method)(*args, **kwargs)

    def add(self, *args, **kwargs):
        return self._call("add", *args, **kwargs)

    def get(self, *args, **kwargs):
        return self._call("get", *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._call("set", *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._call("touch", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._call("delete", *args, **kwargs)

    def incr(self, *args, **kwargs):
        return self._call("incr", *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._call("has_key", *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._call("get_many", *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._call("set_many", *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._call("delete_many", *args, **kwargs)

    def clear(self):
        self._local.clear()
        return self._call("clear")


Key = str | Callable[[str, HttpRequest], str]


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or, behind TRUSTED_PROXY_COUNT proxies that append to
    X-Forwarded-For, the address the outermost trusted proxy saw (never a value the client wrote)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104 — a label, not a bind address


def value_key(value: str) -> Key:
    """A limit keyed on a value the view already normalised (a login address, a ticket's e-mail…)."""
    return lambda group, request: value


def exceeded(
    request: HttpRequest, group: str, limits: dict[str, tuple[Key, str]], *, increment: bool = True
) -> bool:
    """Count this request against each named limit, e.g.
    `{"ip": ("ip", "20/h"), "email": (value_key(email), "5/h")}`; True when any is over its rate.
    With increment=False, only look (to count failures alone, increment after the failure)."""
    over = [
        is_ratelimited(request, group=f"{group}:{name}", key=key, rate=rate, increment=increment)
        for name, (key, rate) in limits.items()
    ]
    return any(over)


def too_many_requests(request: HttpRequest) -> HttpResponse:
    return render(request, "429.html", status=429)

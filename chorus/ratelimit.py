"""Rate limits on anything that sends mail or checks a secret, counted in the cache (Redis in production).

Views call `exceeded()` with every limit that applies (per IP, per address…); all counters are
incremented, and a limited request gets `too_many_requests()`: a French page with HTTP 429.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited

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

"""Personal tokens (`Authorization: Bearer chorus_…`) and the per-token rate limit."""

import math

from django_ratelimit.core import get_usage
from ninja.security import HttpBearer

from accounts.api_tokens import api_token_authenticate
from api.problems import Problem
from chorus.ratelimit import client_ip

# Per token: generous for a script working through a firm's clients, tight enough to stop a runaway loop.
CALLS_PER_MINUTE = "600/m"
# Per IP, for the public reference data and for wrong tokens (a guess costs a request).
ANONYMOUS_CALLS_PER_MINUTE = "120/m"


def limit(request, group: str, key: str, rate: str) -> None:
    usage = get_usage(request, group=group, key=lambda _group, _request: key, rate=rate, increment=True)
    if usage and usage["should_limit"]:
        raise Problem(
            429,
            "Trop de requêtes : attendez avant de réessayer.",
            retry_after=max(1, math.ceil(usage["time_left"])),
        )


def limit_anonymous(request) -> None:
    limit(request, "api:ip", client_ip(request), ANONYMOUS_CALLS_PER_MINUTE)


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        found = api_token_authenticate(secret=token)
        if found is None:
            limit_anonymous(request)
            return None
        limit(request, "api:token", str(found.pk), CALLS_PER_MINUTE)
        # The API's selectors and services take the user, as the web views do.
        request.user = found.user
        return found


def require_write(request) -> None:
    if not request.auth.can_write:
        raise Problem(
            403, "Ce jeton est en lecture seule : créez un jeton « Lecture et écriture » pour cette action."
        )

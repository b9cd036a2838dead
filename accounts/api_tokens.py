"""« Mon compte » → « Accès API »: personal tokens for accounting software.

A token acts as its user on the API (same structures, same object permissions), within its scope, until it
expires or is revoked. It can do nothing to the account itself: the API has no endpoint for the address, the
password, the factors or the tokens. Deactivating the account or resetting its password revokes every token.
"""

import secrets
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, User
from chorus.outbox.services import mail_queue

TOKEN_PREFIX = "chorus_"  # noqa: S105 — a public marker, not a secret
MAX_VALIDITY_DAYS = 365
MAX_ACTIVE_TOKENS = 20
# last_used_at is written at most this often, so that a busy script does not write on every call.
LAST_USE_PRECISION = timedelta(minutes=1)


class ApiTokenError(Exception):
    """A refused token action; the message is French and shown next to the field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def api_token_expiry_bounds(today: date) -> tuple[date, date]:
    return today + timedelta(days=1), today + timedelta(days=MAX_VALIDITY_DAYS)


def api_token_create(*, user: User, name: str, scope: str, expires_on: date) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never shown again."""
    first, last = api_token_expiry_bounds(timezone.localdate())
    if not first <= expires_on <= last:
        raise ApiTokenError(
            f"Choisissez une date d'expiration entre le {first:%d/%m/%Y} et le {last:%d/%m/%Y} (un an au plus).",
            field="expires_on",
        )
    if scope not in ApiToken.Scope.values:
        raise ApiTokenError("Choisissez les droits du jeton.", field="scope")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.make_aware(datetime.combine(expires_on, time.max))
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        if ApiToken.objects.usable().filter(user=user).count() >= MAX_ACTIVE_TOKENS:
            raise ApiTokenError(
                f"Vous avez déjà {MAX_ACTIVE_TOKENS} jetons actifs : révoquez-en un avant d'en créer un autre."
            )
        token = ApiToken.objects.create(
            user=user,
            name=name.strip(),
            scope=scope,
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            secret_hash=ApiToken.hash_secret(secret),
            expires_at=expires_at,
        )
        mail_queue(
            to=[user.email],
            template="accounts/emails/api_token_created",
            context={"user": user, "token": token},
        )
    return token, secret


def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(user=user, pk=token_id)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def api_tokens_revoke_all(*, user: User) -> int:
    """Called inside the deactivation and password-reset transactions."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    """The usable token behind `secret`, with its active user, or None (unknown, expired, revoked)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.usable(now)
        .select_related("user")
        .filter(secret_hash=ApiToken.hash_secret(secret), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USE_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token

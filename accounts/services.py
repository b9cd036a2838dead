"""Account flows: sign-up, activation, e-mailed sign-in code, password reset, « Mon compte ».

Every write runs in one transaction and queues its mails in the outbox. No function tells a caller whether an
address has an account when the caller is not signed in (no account enumeration).
"""

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.api_tokens import api_tokens_revoke_all
from accounts.models import AccountLink, PasswordResetDemand, SecondFactorFailure, User
from chorus.outbox.services import mail_queue

logger = logging.getLogger(__name__)

LOGIN_DEVICE_NAME = "Code de connexion par courriel"
# A demand still waiting after this long lost its task (the broker was down): the sweep handles it.
PASSWORD_RESET_SWEEP_AFTER = timedelta(seconds=60)


class AccountError(Exception):
    """A refused account action; the message is French and shown to the user."""


@dataclass(frozen=True)
class LinkProblem(Exception):
    """Why a mailed link cannot be used: "malformed", "used" or "expired"."""

    reason: str


def _minutes(delta) -> int:
    return int(delta.total_seconds() // 60)


# Each purpose's page and mail: the mail carries the path of the page that takes the link.
LINK_PAGES = {
    AccountLink.Purpose.ACTIVATION: ("accounts:activate", "accounts/emails/activation"),
    AccountLink.Purpose.PASSWORD_RESET: ("accounts:reset_confirm", "accounts/emails/password_reset"),
    AccountLink.Purpose.EMAIL_CHANGE: (
        "accounts:email_change_confirm",
        "accounts/emails/email_change_confirm",
    ),
}


def _mail_link(*, user: User, purpose: str, to: str, new_email: str = "") -> None:
    """Store a new single-use link (only its key's hash) and mail it to `to`."""
    key = secrets.token_urlsafe(32)
    AccountLink.objects.create(
        user=user, purpose=purpose, key_hash=AccountLink.hash_key(key), new_email=new_email
    )
    url_name, template = LINK_PAGES[purpose]
    mail_queue(
        to=[to],
        template=template,
        context={
            "user": user,
            "path": reverse(url_name, args=[key]),
            "minutes": _minutes(settings.ACCOUNT_LINK_VALIDITY),
        },
    )


def _send_activation(*, user: User) -> None:
    _mail_link(user=user, purpose=AccountLink.Purpose.ACTIVATION, to=user.email)


def user_signup(
    *, email: str, last_name: str, first_name: str, phone: str = "", mobile: str = "", contact_email: str = ""
) -> None:
    """Create a not-yet-activated account and mail its activation link. When the address already has an
    account, nothing is created and its owner is told by mail instead; the caller sees no difference."""
    email = email.strip().lower()
    with transaction.atomic():
        existing = User.objects.select_for_update().filter(email=email).first()
        if existing is not None:
            mail_queue(
                to=[existing.email], template="accounts/emails/account_exists", context={"user": existing}
            )
            return
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email,
                    None,
                    last_name=last_name,
                    first_name=first_name,
                    phone=phone,
                    mobile=mobile,
                    contact_email=contact_email,
                    is_active=False,
                )
        except IntegrityError:
            # A concurrent sign-up with the same address won: behave as for an existing account.
            return
        _send_activation(user=user)


def user_resend_activation(*, user: User) -> bool:
    """Admin action: a new activation link for an account that was never activated."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.activated_at is not None:
            return False
        _send_activation(user=user)
    return True


def account_link_get(*, key: str, purposes: set[str]) -> AccountLink:
    """The link behind `key`, or LinkProblem saying why it cannot be used."""
    link = AccountLink.objects.by_key(key).select_related("user").filter(purpose__in=purposes).first()
    if link is None:
        raise LinkProblem("malformed")
    if link.used_at is not None:
        raise LinkProblem("used")
    if link.is_expired():
        raise LinkProblem("expired")
    return link


def account_link_set_password(*, key: str, purposes: set[str], password: str) -> User:
    """Finish an activation or a reset: the password is set, the link used, the account active. Other
    sessions of the user end (their session hash no longer matches). The user is not signed in."""
    with transaction.atomic():
        link = account_link_get(key=key, purposes=purposes)
        link = AccountLink.objects.select_for_update().select_related("user").get(pk=link.pk)
        if link.used_at is not None:
            raise LinkProblem("used")
        user = User.objects.select_for_update().get(pk=link.user_id)
        now = timezone.now()
        user.set_password(password)
        user.is_active = True
        user.activated_at = user.activated_at or now
        user.save(update_fields=["password", "is_active", "activated_at"])
        link.used_at = now
        link.save(update_fields=["used_at"])
        # Any other unused activation or reset link of this user is void now.
        AccountLink.objects.filter(user=user, used_at__isnull=True, purpose__in=purposes).update(used_at=now)
        # A new password, chosen because the old one may be known to someone else, ends every API token too.
        api_tokens_revoke_all(user=user)
    return user


def password_reset_request(*, email: str) -> None:
    """« Mot de passe oublié ? »: record the demand; a task handles it after commit (password_reset_process).

    The request does the same work whatever the address (one insert, one task queued), so neither its answer
    nor its timing tells whether the address has an account."""
    with transaction.atomic():
        demand = PasswordResetDemand.objects.create(email=email.strip().lower())
        transaction.on_commit(lambda: password_reset_dispatch(demand_id=demand.pk))


def password_reset_dispatch(*, demand_id: int) -> None:
    """Queue the demand's task. A broker failure is logged, never raised: the sweep handles the demand later."""
    from accounts.tasks import password_reset_process as task

    try:
        task.delay(demand_id)
    except Exception:
        logger.warning(
            "Password reset demand %s not queued (broker unreachable); the sweep will handle it.", demand_id
        )


def password_reset_process(*, demand_id: int) -> None:
    """A 60-minute link to the login address, or a new activation link for an account never activated. An
    unknown or deactivated address gets nothing. The demand is deleted either way."""
    with transaction.atomic():
        # skip_locked: the task and the sweep racing on one demand handle it once.
        demand = PasswordResetDemand.objects.select_for_update(skip_locked=True).filter(pk=demand_id).first()
        if demand is None:
            return
        user = User.objects.select_for_update().filter(email=demand.email).first()
        if user is not None and user.activated_at is None:
            _send_activation(user=user)
        elif user is not None and user.is_active:
            _mail_link(user=user, purpose=AccountLink.Purpose.PASSWORD_RESET, to=user.email)
        demand.delete()


def password_reset_sweep() -> int:
    """Handle the demands whose task never came (Redis down at commit time), oldest first."""
    threshold = timezone.now() - PASSWORD_RESET_SWEEP_AFTER
    stale = list(
        PasswordResetDemand.objects.filter(created_at__lt=threshold)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    for demand_id in stale:
        password_reset_process(demand_id=demand_id)
    return len(stale)


# Second factor: one cap on wrong answers per account, whatever the factor ----------------------------------

SECOND_FACTOR_EMAIL_CODE = "email_code"


def second_factor_pause_message(until: datetime) -> str:
    return (
        "Trop de codes erronés ont été saisis pour ce compte : la connexion est suspendue jusqu'à "
        f"{timezone.localtime(until):%H h %M}. Un courriel a été envoyé au titulaire du compte."
    )


class SecondFactorPaused(AccountError):
    def __init__(self, until: datetime):
        self.until = until
        super().__init__(second_factor_pause_message(until))


@dataclass(frozen=True)
class SecondFactorOutcome:
    """What second_factor_verify decided: accepted, or refused (and, once the cap is reached, paused until)."""

    accepted: bool
    paused_until: datetime | None = None


def second_factor_paused_until(*, user: User, now: datetime | None = None) -> datetime | None:
    """When the account's second factor opens again, or None when it is not paused: it is paused while the
    account has SECOND_FACTOR_MAX_FAILURES wrong answers within SECOND_FACTOR_FAILURE_WINDOW."""
    now = now or timezone.now()
    window, cap = settings.SECOND_FACTOR_FAILURE_WINDOW, settings.SECOND_FACTOR_MAX_FAILURES
    recent = list(
        SecondFactorFailure.objects.filter(user=user, created_at__gt=now - window)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:cap]
    )
    if len(recent) < cap:
        return None
    # No failure is recorded during the pause, so it ends when the oldest of these leaves the window.
    return recent[-1] + window


def second_factor_verify(*, user: User, factor: str, check: Callable[[], bool]) -> SecondFactorOutcome:
    """The one gate every second factor goes through (e-mailed code, authenticator app, backup code…).

    Refuses without calling `check` while the account is paused; otherwise calls `check()` (True when the
    answer is right) and records a wrong answer. Wrong answers count per account across codes and factors:
    SECOND_FACTOR_MAX_FAILURES within SECOND_FACTOR_FAILURE_WINDOW pause the account's second factor, and the
    owner is mailed once, when the pause starts. The user row is locked, so concurrent guesses cannot pass
    the cap: call this before locking a factor's own row (lock order: user, then device). The outcome is
    returned rather than raised, so a caller's transaction keeps the recorded failure.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        now = timezone.now()
        paused_until = second_factor_paused_until(user=user, now=now)
        if paused_until is not None:
            return SecondFactorOutcome(accepted=False, paused_until=paused_until)
        if check():
            return SecondFactorOutcome(accepted=True)
        SecondFactorFailure.objects.filter(
            user=user, created_at__lte=now - settings.SECOND_FACTOR_FAILURE_WINDOW
        ).delete()
        SecondFactorFailure.objects.create(user=user, factor=factor, created_at=now)
        paused_until = second_factor_paused_until(user=user, now=now)
        if paused_until is not None:
            mail_queue(
                to=[user.email],
                template="accounts/emails/second_factor_paused",
                context={
                    "user": user,
                    "failures": settings.SECOND_FACTOR_MAX_FAILURES,
                    "minutes": _minutes(settings.SECOND_FACTOR_FAILURE_WINDOW),
                    "until": timezone.localtime(paused_until),
                },
            )
        return SecondFactorOutcome(accepted=False, paused_until=paused_until)


# Sign-in code -----------------------------------------------------------------------------------------------


class CodeCooldown(AccountError):
    def __init__(self, seconds: int):
        self.seconds = seconds
        super().__init__(
            f"Un code vient de vous être envoyé. Vous pourrez en demander un nouveau dans {seconds} secondes."
        )


def _login_device(user: User) -> EmailDevice:
    device, _ = EmailDevice.objects.get_or_create(
        user=user, name=LOGIN_DEVICE_NAME, defaults={"confirmed": True}
    )
    return device


def login_code_send(*, user: User, template: str = "accounts/emails/login_code") -> EmailDevice:
    """Mail a new sign-in code; it voids any previous one. Refused during the cooldown after the last code,
    and while the account's second factor is paused (a code could not be used). `template` words the mail
    for another use of the same code (confirming a change to the authentication factors)."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        paused_until = second_factor_paused_until(user=user)
        if paused_until is not None:
            raise SecondFactorPaused(paused_until)
        device = EmailDevice.objects.select_for_update().get(pk=_login_device(user).pk)
        allowed, data = device.generate_is_allowed()
        if not allowed:
            wait = max(1, int((data["next_generation_at"] - timezone.now()).total_seconds()) + 1)
            raise CodeCooldown(wait)
        device.cooldown_set(commit=False)
        device.throttle_reset(commit=False)
        device.generate_token(valid_secs=settings.OTP_EMAIL_TOKEN_VALIDITY, commit=True)
        mail_queue(
            to=[user.email],
            template=template,
            context={"user": user, "code": device.token, "minutes": settings.OTP_EMAIL_TOKEN_VALIDITY // 60},
        )
    return device


def login_code_verify(*, user: User, code: str) -> EmailDevice:
    """Check a sign-in code: single use, valid OTP_EMAIL_TOKEN_VALIDITY seconds, void after
    LOGIN_CODE_MAX_ATTEMPTS wrong tries (a new code is then needed), and within the account's cap on wrong
    second-factor answers (second_factor_verify)."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        paused_until = second_factor_paused_until(user=user)
        device = EmailDevice.objects.select_for_update().filter(user=user, name=LOGIN_DEVICE_NAME).first()
        if paused_until is not None:
            error = second_factor_pause_message(paused_until)
        elif device is None or not device.token:
            error = "Ce code n'est plus valable. Demandez un nouveau code avec « Renvoyer un code »."
        elif device.valid_until and device.valid_until < timezone.now():
            error = "Ce code a expiré. Demandez un nouveau code avec « Renvoyer un code »."
        else:
            outcome = second_factor_verify(
                user=user, factor=SECOND_FACTOR_EMAIL_CODE, check=lambda: device.verify_token(code.strip())
            )
            if outcome.accepted:
                return device
            # verify_token counted the failure; it is committed with this block, then reported.
            device.refresh_from_db()
            left = settings.LOGIN_CODE_MAX_ATTEMPTS - device.throttling_failure_count
            if outcome.paused_until is not None or left <= 0:
                device.token = None
                device.save(update_fields=["token"])
            if outcome.paused_until is not None:
                error = second_factor_pause_message(outcome.paused_until)
            elif left <= 0:
                error = (
                    f"Vous avez saisi un code erroné {settings.LOGIN_CODE_MAX_ATTEMPTS} fois : ce code est annulé. "
                    "Demandez un nouveau code avec « Renvoyer un code »."
                )
            else:
                error = f"Ce code est incorrect. Il vous reste {left} essai{'s' if left > 1 else ''}."
    raise AccountError(error)


# Mon compte ------------------------------------------------------------------------------------------------


def user_profile_update(
    *, user: User, last_name: str, first_name: str, phone: str, mobile: str, contact_email: str
) -> User:
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.last_name, user.first_name = last_name, first_name
        user.phone, user.mobile, user.contact_email = phone, mobile, contact_email
        user.save(update_fields=["last_name", "first_name", "phone", "mobile", "contact_email"])
    return user


def user_password_change(*, user: User, password: str) -> User:
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(password)
        user.save(update_fields=["password"])
        mail_queue(to=[user.email], template="accounts/emails/password_changed", context={"user": user})
    return user


def email_change_request(*, user: User, new_email: str) -> None:
    """Send a confirmation link to the new address; the login address changes only once it is followed.
    If the new address already has an account, its owner is told instead (the requester sees no difference)."""
    new_email = new_email.strip().lower()
    with transaction.atomic():
        if User.objects.filter(email=new_email).exists():
            mail_queue(to=[new_email], template="accounts/emails/email_change_taken", context={})
            return
        _mail_link(user=user, purpose=AccountLink.Purpose.EMAIL_CHANGE, to=new_email, new_email=new_email)


def email_change_confirm(*, key: str) -> User:
    with transaction.atomic():
        link = account_link_get(key=key, purposes={AccountLink.Purpose.EMAIL_CHANGE})
        link = AccountLink.objects.select_for_update().get(pk=link.pk)
        if link.used_at is not None:
            raise LinkProblem("used")
        user = User.objects.select_for_update().get(pk=link.user_id)
        old_email = user.email
        if User.objects.filter(email=link.new_email).exclude(pk=user.pk).exists():
            raise AccountError(
                "Cette adresse est désormais utilisée par un autre compte : elle ne peut pas devenir la vôtre."
            )
        user.email = link.new_email
        user.save(update_fields=["email"])
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        mail_queue(
            to=[old_email],
            template="accounts/emails/email_changed_notice",
            context={"user": user, "old_email": old_email, "new_email": user.email},
        )
    return user


def user_deactivate(*, user: User) -> None:
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.is_active = False
        user.save(update_fields=["is_active"])
        # Every factor goes with the account: no authenticator secret or backup code outlives it.
        for device_model in (EmailDevice, TOTPDevice, StaticDevice):
            device_model.objects.filter(user=user).delete()
        api_tokens_revoke_all(user=user)
        mail_queue(to=[user.email], template="accounts/emails/deactivated", context={"user": user})

"""« Facteurs d'authentification »: the code by e-mail (always there, the default), an authenticator app
(django-otp's TOTP device) and single-use backup codes (django-otp's static device).

Every code checked here goes through accounts.services.second_factor_verify, so wrong answers count toward the
account's one cap, whatever the factor. Adding or removing a factor mails the account's owner (outbox). The
authenticator's secret is shown only while it is being enrolled, never once it is confirmed.
"""

import re
from base64 import b32encode
from dataclasses import dataclass

import segno
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.services import (
    AccountError,
    login_code_verify,
    second_factor_pause_message,
    second_factor_verify,
)
from chorus.outbox.services import mail_queue

TOTP = "totp"
BACKUP_CODES = "backup_codes"
EMAIL = "email"
TOTP_DEVICE_NAME = "Application d'authentification"
BACKUP_DEVICE_NAME = "Codes de secours"
BACKUP_CODE_COUNT = 10
LABELS = {
    EMAIL: "Code reçu par courriel",
    TOTP: "Application d'authentification",
    BACKUP_CODES: "Code de secours",
}
TOTP_CODE_RE = re.compile(r"[0-9]{6}")
BACKUP_CODE_RE = re.compile(r"[a-z2-7]{8}")


@dataclass(frozen=True)
class Factors:
    """The user's confirmed factors besides the e-mailed code."""

    totp: TOTPDevice | None
    backup: StaticDevice | None
    backup_codes_left: int

    @property
    def choices(self) -> list[str]:
        """The factors offered at sign-in, the e-mailed code first (the default)."""
        return [EMAIL] + ([TOTP] if self.totp else []) + ([BACKUP_CODES] if self.backup_codes_left else [])

    @property
    def confirmers(self) -> list[str]:
        """The factors that can confirm a change to the factors: the app and the backup codes first, and the
        e-mailed code, which signs in as well, so that a user who lost both phone and codes can still remove
        the old app and enrol a new one."""
        return ([TOTP] if self.totp else []) + ([BACKUP_CODES] if self.backup_codes_left else []) + [EMAIL]


def user_factors(*, user: User) -> Factors:
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    backup = StaticDevice.objects.filter(user=user, confirmed=True).first()
    left = StaticToken.objects.filter(device=backup).count() if backup else 0
    return Factors(totp=totp, backup=backup, backup_codes_left=left)


def normalise_backup_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


def format_backup_code(token: str) -> str:
    return f"{token[:4]}-{token[4:]}"


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret as authenticator apps ask for it when typed by hand: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG QR code, drawn on the server (no third-party image)."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, border=2, title="Code QR à scanner avec votre application d'authentification"
    )


# Enrolment -------------------------------------------------------------------------------------------------


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """The authenticator being enrolled (unconfirmed): a new secret the first time, the same one on reload
    so that a scanned code keeps working. Refused when an app is already confirmed."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise AccountError("Une application d'authentification est déjà associée à votre compte.")
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def _refused(outcome, wrong: str) -> AccountError:
    if outcome.paused_until is not None:
        return AccountError(second_factor_pause_message(outcome.paused_until))
    return AccountError(wrong)


def totp_enrolment_confirm(*, user: User, code: str) -> list[str]:
    """Confirm the app being enrolled with its first code; returns new backup codes (to show once) when the
    account has none. The owner is mailed. A wrong code is recorded (committed) before the error is raised."""
    with transaction.atomic():
        found: list[TOTPDevice] = []

        def check() -> bool:
            # Locked after the user row (second_factor_verify's lock order).
            device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
            if device is None:
                return False
            found.append(device)
            return bool(TOTP_CODE_RE.fullmatch(code.strip())) and device.verify_token(code.strip())

        outcome = second_factor_verify(user=user, factor=TOTP, check=check)
        codes: list[str] = []
        if outcome.accepted:
            device = found[0]
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            if not StaticDevice.objects.filter(user=user, confirmed=True).exists():
                codes = _new_backup_codes(user)
            _mail_factor(user=user, template="factor_added", factor=TOTP)
    if outcome.accepted:
        return codes
    if not found and outcome.paused_until is None:
        raise AccountError("Aucune application n'est en cours d'ajout : recommencez l'ajout.")
    raise _refused(
        outcome,
        "Ce code ne correspond pas. Saisissez le code à 6 chiffres affiché en ce moment par l'application.",
    )


def _new_backup_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    tokens = []
    while len(tokens) < BACKUP_CODE_COUNT:
        token = StaticToken.random_token()
        if token not in tokens:
            tokens.append(token)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=token) for token in tokens)
    return [format_backup_code(token) for token in tokens]


def _mail_factor(*, user: User, template: str, factor: str) -> None:
    mail_queue(
        to=[user.email],
        template=f"accounts/emails/{template}",
        context={"user": user, "factor": LABELS[factor], "when": timezone.localtime()},
    )


# Checking a code (sign-in, or confirming a change) ----------------------------------------------------------


def _check(device, factor: str, code: str) -> bool:
    if factor == TOTP:
        return bool(TOTP_CODE_RE.fullmatch(code.strip())) and device.verify_token(code.strip())
    normalised = normalise_backup_code(code)
    return bool(BACKUP_CODE_RE.fullmatch(normalised)) and device.verify_token(normalised)


def factor_verify(*, user: User, factor: str, code: str):
    """Check a code of the user's authenticator app or one of their backup codes (then used up). Returns the
    device (for django_otp.login), or raises AccountError with a French message. A replayed app code is
    refused (django-otp keeps the last accepted time step), and so is a code more than one step away."""
    model = {TOTP: TOTPDevice, BACKUP_CODES: StaticDevice}.get(factor)
    if model is None:
        raise AccountError("Choisissez un facteur d'authentification.")
    with transaction.atomic():
        found = []

        def check() -> bool:
            # Locked after the user row (second_factor_verify's lock order).
            device = model.objects.select_for_update().filter(user=user, confirmed=True).first()
            if device is None:
                return False
            found.append(device)
            return _check(device, factor, code)

        outcome = second_factor_verify(user=user, factor=factor, check=check)
        if outcome.accepted:
            return found[0]
    if factor == TOTP:
        wrong = (
            "Ce code est incorrect ou a déjà servi. Saisissez le code à 6 chiffres affiché en ce moment par "
            "votre application."
        )
    else:
        wrong = "Ce code de secours est incorrect ou a déjà servi."
    raise _refused(outcome, wrong)


# Changing factors: a current code of the app or a backup code confirms ---------------------------------------


CONFIRM_SEND_BUTTON = "« Recevoir un code par courriel »"


def _confirm_change(*, user: User, confirm_with: str, code: str) -> None:
    """Check the confirming code in its own transaction, so that a wrong one stays counted."""
    if confirm_with not in user_factors(user=user).confirmers:
        raise AccountError("Choisissez un facteur d'authentification pour confirmer.")
    if confirm_with != EMAIL:
        factor_verify(user=user, factor=confirm_with, code=code)
        return
    try:
        login_code_verify(user=user, code=code)
    except AccountError as exc:
        # Its messages name the sign-in page's button; the factor pages' button has another name.
        raise AccountError(str(exc).replace("« Renvoyer un code »", CONFIRM_SEND_BUTTON)) from None


def factor_remove(*, user: User, factor: str, confirm_with: str, code: str) -> None:
    """Remove the authenticator app or the backup codes, confirmed by a current code; the owner is mailed.
    The e-mailed code cannot be removed: it is the default factor."""
    if factor not in (TOTP, BACKUP_CODES):
        raise AccountError("Le code reçu par courriel ne peut pas être retiré : c'est le facteur par défaut.")
    _confirm_change(user=user, confirm_with=confirm_with, code=code)
    with transaction.atomic():
        model = TOTPDevice if factor == TOTP else StaticDevice
        deleted, _ = model.objects.filter(user=user).delete()
        if deleted:
            _mail_factor(user=user, template="factor_removed", factor=factor)


def backup_codes_regenerate(*, user: User, confirm_with: str, code: str) -> list[str]:
    """Replace every backup code by 10 new ones (to show once), confirmed by a current code; the old ones stop
    working and the owner is mailed."""
    _confirm_change(user=user, confirm_with=confirm_with, code=code)
    with transaction.atomic():
        codes = _new_backup_codes(user)
        _mail_factor(user=user, template="factor_added", factor=BACKUP_CODES)
    return codes

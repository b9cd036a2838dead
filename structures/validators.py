r"""Identifiers checked with python-stdnum: SIRET (La Poste's rule included), PACAGE, IBAN, BIC.

Each `normalize_*` gives the value that is both checked and stored, and the format checks are ASCII-only
(`[0-9]`, never `\d` or `str.isdigit()`, which accept any script's digits): what passes here always passes the
database's check constraints.
"""

import re

from django.core.exceptions import ValidationError
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siret as stdnum_siret

# Countries of the SEPA area (IBAN prefixes), for bank details that can receive a SEPA transfer.
SEPA_COUNTRIES = frozenset(
    [
        "AD",
        "AT",
        "BE",
        "BG",
        "CH",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GB",
        "GI",
        "GR",
        "HR",
        "HU",
        "IE",
        "IS",
        "IT",
        "LI",
        "LT",
        "LU",
        "LV",
        "MC",
        "MT",
        "NL",
        "NO",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "SM",
        "VA",
        "GF",
        "GP",
        "MQ",
        "RE",
        "YT",
        "PM",
        "BL",
        "MF",
        "NC",
        "PF",
        "WF",
    ]
)


def normalize_siret(value: str) -> str:
    """Accept spaces, dots and dashes as typed from a Kbis; keep the 14 digits."""
    return re.sub(r"[\s.\-]", "", value or "")


def is_ascii_digits(value: str, length: int) -> bool:
    return re.fullmatch(f"[0-9]{{{length}}}", value or "") is not None


def validate_siret(value: str) -> None:
    number = normalize_siret(value)
    if not is_ascii_digits(number, 14):
        raise ValidationError("Le numéro SIRET comporte 14 chiffres.", code="siret_format")
    try:
        stdnum_siret.validate(number)
    except StdnumError as exc:
        raise ValidationError(
            "Ce numéro SIRET n'est pas valide : vérifiez-le sur votre extrait Kbis ou avis de situation INSEE.",
            code="siret_checksum",
        ) from exc


def validate_pacage(value: str) -> None:
    """9 digits; the first three are the département: 001 to 095 (with 02A/02B written 020) in metropolitan
    France, 971 to 976 overseas."""
    if not is_ascii_digits(value, 9):
        raise ValidationError("Le numéro PACAGE comporte 9 chiffres.", code="pacage_format")
    department = int(value[:3])
    if not (1 <= department <= 95 or 971 <= department <= 976):
        raise ValidationError(
            "Les trois premiers chiffres du numéro PACAGE doivent être ceux du département (par exemple 035 pour "
            "l'Ille-et-Vilaine, 974 pour La Réunion).",
            code="pacage_department",
        )


def normalize_iban(value: str) -> str:
    """Without spaces, dots or dashes, in capitals, full-width characters made ASCII (python-stdnum)."""
    return stdnum_iban.compact(value or "")


def validate_iban(value: str) -> None:
    number = normalize_iban(value)
    try:
        stdnum_iban.validate(number)
    except StdnumError as exc:
        raise ValidationError("Cet IBAN n'est pas valide : vérifiez-le sur votre RIB.", code="iban") from exc
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", number):
        raise ValidationError("Cet IBAN n'est pas valide : vérifiez-le sur votre RIB.", code="iban")
    if number[:2] not in SEPA_COUNTRIES:
        raise ValidationError("L'IBAN doit être celui d'un compte de la zone SEPA.", code="iban_sepa")


def normalize_bic(value: str) -> str:
    """Without spaces or dashes, in capitals, full-width characters made ASCII: the form python-stdnum checks."""
    return stdnum_bic.compact(value or "")


def validate_bic(value: str) -> None:
    number = normalize_bic(value)
    try:
        stdnum_bic.validate(number)
        valid = re.fullmatch(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?", number) is not None
    except StdnumError:
        valid = False
    if not valid:
        raise ValidationError(
            "Ce BIC n'est pas valide : il comporte 8 ou 11 caractères (par exemple AGRIFRPP).", code="bic"
        )

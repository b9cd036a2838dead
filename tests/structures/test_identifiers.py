"""Tables of valid and invalid SIRETs (La Poste's rule included), PACAGEs, IBANs and BICs."""

import pytest
from django.core.exceptions import ValidationError

from structures.forms import SiretField
from structures.validators import validate_bic, validate_iban, validate_pacage, validate_siret
from tests.factories import valid_siret


@pytest.mark.parametrize(
    "value",
    [
        "73282932000074",  # a real-looking farm SIRET (Luhn)
        "732 829 320 00074",  # spaces, as printed on a Kbis
        "732.829.320.00074",  # dots
        "35600000000048",  # La Poste: Luhn fails, but the digit sum is a multiple of 5
        "35600000049837",  # another La Poste establishment
        valid_siret(123456),
    ],
)
def test_valid_siret_is_accepted(value):
    validate_siret(value)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "siret_format"),
        ("7328293200007", "siret_format"),  # 13 digits
        ("732829320000745", "siret_format"),  # 15 digits
        ("7328293200007A", "siret_format"),
        ("<script>1</script>", "siret_format"),
        ("73282932000075", "siret_checksum"),  # wrong key
        ("35600000000046", "siret_checksum"),  # La Poste prefix, digit sum not a multiple of 5
        ("12345678901234", "siret_checksum"),
    ],
)
def test_invalid_siret_is_refused_with_a_french_message(value, code):
    with pytest.raises(ValidationError) as raised:
        validate_siret(value)
    assert raised.value.code == code
    assert "SIRET" in raised.value.messages[0]


def test_siret_field_stores_fourteen_digits():
    assert SiretField().clean(" 732 829.320 00074 ") == "73282932000074"


@pytest.mark.parametrize("value", ["035123456", "001000001", "095999999", "971123456", "976000001"])
def test_valid_pacage_is_accepted(value):
    validate_pacage(value)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("03512345", "pacage_format"),
        ("0351234567", "pacage_format"),
        ("03512345A", "pacage_format"),
        ("000123456", "pacage_department"),
        ("096123456", "pacage_department"),
        ("970123456", "pacage_department"),
        ("977123456", "pacage_department"),
        ("351234567", "pacage_department"),  # no leading 0 in metropolitan France
    ],
)
def test_invalid_pacage_is_refused(value, code):
    with pytest.raises(ValidationError) as raised:
        validate_pacage(value)
    assert raised.value.code == code


@pytest.mark.parametrize(
    "value",
    [
        "FR7630006000011234567890189",
        "FR76 3000 6000 0112 3456 7890 189",
        "fr7630006000011234567890189",
        "DE89370400440532013000",
        "NL91ABNA0417164300",
    ],
)
def test_valid_sepa_iban_is_accepted(value):
    validate_iban(value)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("FR7630006000011234567890188", "iban"),  # wrong mod-97 key
        ("FR76300060000112345678901", "iban"),  # too short for France
        ("XX7630006000011234567890189", "iban"),
        ("", "iban"),
        ("BR1800360305000010009795493C1", "iban_sepa"),  # a valid Brazilian IBAN, outside SEPA
    ],
)
def test_invalid_iban_is_refused(value, code):
    with pytest.raises(ValidationError) as raised:
        validate_iban(value)
    assert raised.value.code == code


@pytest.mark.parametrize("value", ["AGRIFRPP", "AGRIFRPPXXX", "BNPAFRPP", "deutdeff", "DEUT DE FF 500"])
def test_valid_bic_is_accepted(value):
    validate_bic(value)


@pytest.mark.parametrize("value", ["AGRIFRP", "AGRIFRPPXX", "AGRI1RPP", "", "<b>AGRIFRPP</b>"])
def test_invalid_bic_is_refused(value):
    with pytest.raises(ValidationError) as raised:
        validate_bic(value)
    assert raised.value.code == "bic"

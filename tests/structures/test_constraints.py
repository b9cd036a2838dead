"""Invariants held by the database itself, whatever the code path."""

import pytest
from django.db import IntegrityError, transaction

from structures.models import Membership
from tests.factories import BankAccountFactory, MembershipFactory, StructureFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_database_refuses_a_second_active_main_manager():
    structure = StructureFactory()
    MembershipFactory(structure=structure, main_manager=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(structure=structure, main_manager=True)


def test_a_detached_main_manager_does_not_count():
    structure = StructureFactory()
    MembershipFactory(structure=structure, main_manager=True, detached=True)
    MembershipFactory(structure=structure, main_manager=True)
    assert structure.memberships.filter(role=Membership.Role.MAIN_MANAGER).count() == 2


def test_database_refuses_two_active_memberships_of_one_user_to_one_structure():
    membership = MembershipFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(user=membership.user, structure=membership.structure)


def test_a_user_may_be_attached_again_after_being_detached():
    membership = MembershipFactory(detached=True)
    MembershipFactory(user=membership.user, structure=membership.structure)
    assert membership.structure.memberships.count() == 2


def test_database_refuses_a_duplicate_siret():
    structure = StructureFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        StructureFactory(siret=structure.siret)


@pytest.mark.parametrize("siret", ["7328293200007", "7328293 000074", "7328293200007A"])
def test_database_refuses_a_siret_that_is_not_fourteen_digits(siret):
    with pytest.raises(IntegrityError), transaction.atomic():
        StructureFactory(siret=siret)


@pytest.mark.parametrize("pacage", ["03512345", "03512345A"])
def test_database_refuses_a_pacage_that_is_not_nine_digits(pacage):
    with pytest.raises(IntegrityError), transaction.atomic():
        StructureFactory(pacage=pacage)


def test_database_refuses_an_unknown_role():
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(role="owner", user=UserFactory())


@pytest.mark.parametrize(
    ("field", "value"), [("iban", "FR76 3000 6000 0112 3456 7890 189"), ("bic", "agrifrpp")]
)
def test_database_refuses_bank_details_not_stored_compact(field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        BankAccountFactory(**{field: value})


def test_masked_iban_shows_only_the_last_four_characters():
    account = BankAccountFactory(iban="FR7630006000011234567890189")
    assert account.masked_iban == "•••• 0189"
    assert "30006" not in str(account)

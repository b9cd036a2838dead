from datetime import date, timedelta
from decimal import Decimal

import pytest

from notifications.models import Kind, OptOut, Reminder
from reimbursements.models import Advance, AdvanceOffer, RefundRequest
from tests.factories import MembershipFactory, StructureFactory, UserFactory
from tests.notifications.conftest import recipients, refund_request

pytestmark = pytest.mark.django_db

# The 2024 advance (asked with 2023 requests) is regularised, as applied, by 31 December 2025.
DEADLINE = date(2025, 12, 31)


@pytest.fixture
def farm():
    structure = StructureFactory(name="GAEC des Tilleuls")
    MembershipFactory(structure=structure, user__email="gerant@example.fr", main_manager=True)
    MembershipFactory(structure=structure, user__email="associe@example.fr")
    return structure


@pytest.fixture
def advance(farm):
    offer = AdvanceOffer.objects.get(for_year=2024)
    assert offer.last_repayment_day() == DEADLINE
    return Advance.objects.create(
        request=refund_request(farm, 2023, RefundRequest.Status.IN_REVIEW),
        offer=offer,
        structure=farm,
        for_year=2024,
        requested_amount=Decimal("1200.00"),
        paid_amount=Decimal("1200.00"),
        paid_on=date(2024, 6, 1),
        recorded_by=UserFactory(staff=True),
    )


def advance_mails(mails):
    return [m for m in mails if "à régulariser" in m.subject]


def test_a_paid_advance_not_regularised_is_reminded_90_30_and_7_days_before_its_deadline(advance, run_on):
    sent_days = []
    day = DEADLINE - timedelta(days=92)
    while day <= DEADLINE + timedelta(days=1):
        if advance_mails(run_on(day)):
            sent_days.append((DEADLINE - day).days)
        day += timedelta(days=1)

    assert sent_days == [90, 30, 7]
    occasions = Reminder.objects.filter(kind=Kind.ADVANCE_TO_REGULARISE).values_list("occasion", flat=True)
    assert sorted(set(occasions)) == ["deadline-30", "deadline-7", "deadline-90"]


def test_advance_reminder_says_how_to_regularise(advance, run_on):
    mails = advance_mails(run_on(DEADLINE - timedelta(days=30)))

    assert recipients(mails) == ["associe@example.fr", "gerant@example.fr"]
    assert mails[0].subject == "Votre avance 2024 est à régulariser avant le 31 décembre 2025"
    body = mails[0].body
    assert "avance de 1\u00a0200,00\u00a0€ perçue au titre de 2024" in body
    assert "« Je n'ai pas de livraison à déclarer pour 2024 »" in body
    assert "dans 30 jours" in body


def test_no_advance_reminder_once_that_years_request_is_filed(advance, farm, run_on):
    refund_request(farm, 2024, RefundRequest.Status.FILED)
    assert advance_mails(run_on(DEADLINE - timedelta(days=30))) == []


def test_no_reminder_for_an_advance_asked_but_not_paid(advance, run_on):
    Advance.objects.filter(pk=advance.pk).update(paid_amount=None, paid_on=None, recorded_by=None)
    assert advance_mails(run_on(DEADLINE - timedelta(days=30))) == []


def test_no_advance_reminder_after_opting_out(advance, run_on):
    OptOut.objects.create(user=UserFactory(email="associe@example.fr"), kind=Kind.ADVANCE_TO_REGULARISE)
    assert recipients(advance_mails(run_on(DEADLINE - timedelta(days=7)))) == ["gerant@example.fr"]

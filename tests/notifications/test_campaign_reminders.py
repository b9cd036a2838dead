from datetime import date, timedelta

import pytest

from notifications.models import Kind, OptOut, Reminder
from reimbursements.models import RefundRequest
from structures.models import Membership
from tests.factories import MembershipFactory, StructureFactory, UserFactory
from tests.notifications.conftest import CLOSES, recipients, refund_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def farm():
    structure = StructureFactory(name="GAEC des Tilleuls")
    MembershipFactory(structure=structure, user__email="gerant@example.fr", main_manager=True)
    MembershipFactory(structure=structure, user__email="associe@example.fr")
    return structure


def test_closing_reminders_go_out_90_30_and_7_days_before_each_once(farm, run_on):
    sent_days = []
    day = CLOSES - timedelta(days=92)
    while day <= CLOSES + timedelta(days=1):
        if run_on(day):
            sent_days.append((CLOSES - day).days)
        day += timedelta(days=1)

    assert sent_days == [90, 30, 7]
    assert Reminder.objects.filter(kind=Kind.CAMPAIGN_CLOSING).count() == 6  # 3 occasions × 2 members
    assert set(Reminder.objects.values_list("occasion", flat=True)) == {"close-90", "close-30", "close-7"}


def test_closing_reminder_reaches_every_member_with_the_year_and_the_date(farm, run_on):
    mails = run_on(CLOSES - timedelta(days=30))

    assert recipients(mails) == ["associe@example.fr", "gerant@example.fr"]
    message = mails[0]
    assert message.subject == "Votre demande 2023 n'est pas déposée : clôture le 31 décembre 2026"
    assert "GAEC des Tilleuls" in message.body
    assert "aucune demande déposée pour 2023" in message.body
    assert "dans 30 jours" in message.body
    assert "/remboursements/nouvelle/" in message.body


def test_running_the_job_twice_on_the_same_day_sends_once(farm, run_on):
    day = CLOSES - timedelta(days=7)
    assert len(run_on(day)) == 2
    assert run_on(day) == []
    assert Reminder.objects.count() == 2


def test_a_missed_day_is_caught_up_the_next_day(farm, run_on):
    mails = run_on(CLOSES - timedelta(days=29))
    assert len(mails) == 2
    assert "dans 29 jours" in mails[0].body
    assert Reminder.objects.filter(occasion="close-30").count() == 2


def test_no_closing_reminder_for_a_structure_that_filed(farm, run_on):
    refund_request(farm, 2023, RefundRequest.Status.FILED)
    other = StructureFactory()
    MembershipFactory(structure=other, user__email="voisin@example.fr", main_manager=True)

    mails = run_on(CLOSES - timedelta(days=90))

    assert recipients(mails) == ["voisin@example.fr"]


def test_a_draft_is_not_filed_and_its_reminder_says_so(farm, run_on):
    draft = refund_request(farm, 2023, RefundRequest.Status.DRAFT)

    mails = run_on(CLOSES - timedelta(days=7))

    assert len(mails) == 2
    assert mails[0].subject == "Votre brouillon n'est pas déposé : clôture le 31 décembre 2026"
    assert "votre brouillon 2023 n'est pas déposé" in mails[0].body
    assert f"/remboursements/{draft.pk}/" in mails[0].body


def test_no_reminder_to_deactivated_accounts_or_detached_members(farm, run_on):
    User = Membership._meta.get_field("user").related_model
    User.objects.filter(email="associe@example.fr").update(is_active=False)
    MembershipFactory(structure=farm, user__email="ancien@example.fr", detached=True)

    mails = run_on(CLOSES - timedelta(days=90))

    assert recipients(mails) == ["gerant@example.fr"]


def test_no_reminder_after_the_account_opted_out(farm, run_on):
    manager = UserFactory(email="gerant@example.fr")
    OptOut.objects.create(user=manager, kind=Kind.CAMPAIGN_CLOSING)

    assert recipients(run_on(CLOSES - timedelta(days=90))) == ["associe@example.fr"]
    # Switching another kind off does not silence this one.
    OptOut.objects.filter(user=manager).update(kind=Kind.CAMPAIGN_OPEN)
    assert recipients(run_on(CLOSES - timedelta(days=30))) == ["associe@example.fr", "gerant@example.fr"]


def test_a_member_of_several_structures_gets_one_mail_listing_them(run_on):
    user = UserFactory(email="exploitant@example.fr")
    for name in ("EARL du Pré", "SCEA des Hauts"):
        MembershipFactory(user=user, structure=StructureFactory(name=name), main_manager=True)

    mails = run_on(CLOSES - timedelta(days=90))

    assert len(mails) == 1
    assert "EARL du Pré" in mails[0].body and "SCEA des Hauts" in mails[0].body


def test_opening_reminds_the_managers_of_structures_that_filed_the_year_before(farm, run_on):
    refund_request(farm, 2022, RefundRequest.Status.IN_REVIEW)
    never_filed = StructureFactory()
    MembershipFactory(structure=never_filed, user__email="nouveau@example.fr", main_manager=True)
    opens = date(2024, 2, 1)  # campaign 2023 opens

    assert run_on(opens - timedelta(days=1)) == []
    mails = run_on(opens)

    assert recipients(mails) == [
        "gerant@example.fr"
    ]  # a manager, not the member; not a structure that never filed
    assert mails[0].subject == "La campagne 2023 est ouverte : déposez votre demande de remboursement"
    assert run_on(opens + timedelta(days=1)) == []


def test_an_accounting_firms_own_structure_is_not_reminded_to_file(run_on):
    MembershipFactory(structure=StructureFactory(management_centre=True), user__email="cabinet@example.fr")
    assert run_on(CLOSES - timedelta(days=90)) == []

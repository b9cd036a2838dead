from datetime import date, datetime, time, timedelta

import pytest
import time_machine

from attachments.models import AttachmentRequest
from notifications.models import Kind, OptOut, Reminder
from reimbursements.models import RefundRequest
from reimbursements.services import refund_request_transition
from tests.factories import AttachmentRequestFactory, MembershipFactory, StructureFactory, UserFactory
from tests.notifications.conftest import PARIS, recipients, refund_request

pytestmark = pytest.mark.django_db

ASKED = date(2025, 3, 3)  # far from any campaign closing, so only these reminders are due


@pytest.fixture
def farm():
    structure = StructureFactory(name="GAEC des Tilleuls")
    MembershipFactory(structure=structure, user__email="gerant@example.fr", main_manager=True)
    MembershipFactory(structure=structure, user__email="co-gerant@example.fr", manager=True)
    MembershipFactory(structure=structure, user__email="associe@example.fr")
    return structure


def on(day, hour=15):
    return time_machine.travel(datetime.combine(day, time(hour, 30), tzinfo=PARIS), tick=False)


def sent_on(run_on, start, days):
    return [n for n in range(days) if run_on(start + timedelta(days=n))]


@pytest.fixture
def to_complete(farm):
    """A 2023 request filed by a member (not a manager), sent back « À compléter » on ASKED."""
    filer = UserFactory(email="associe@example.fr")
    refund = refund_request(farm, 2023, RefundRequest.Status.IN_REVIEW, by=filer)
    with on(ASKED):
        refund_request_transition(
            refund_request_id=refund.pk,
            actor=UserFactory(staff=True),
            to_status=RefundRequest.Status.TO_COMPLETE,
            comment="Joignez la facture de mars.",
        )
    return refund


def test_request_to_complete_reminds_its_filer_and_managers_after_7_and_21_days(to_complete, run_on):
    assert sent_on(run_on, ASKED, 30) == [7, 21]
    occasions = set(Reminder.objects.filter(kind=Kind.REQUEST_TO_COMPLETE).values_list("occasion", flat=True))
    assert occasions == {"2025-03-03/7", "2025-03-03/21"}


def test_request_to_complete_reminder_names_the_request(to_complete, run_on):
    mails = run_on(ASKED + timedelta(days=7))

    assert recipients(mails) == ["associe@example.fr", "co-gerant@example.fr", "gerant@example.fr"]
    assert mails[0].subject == f"La demande {to_complete.number} est toujours à compléter"
    assert "à compléter depuis le 3 mars 2025" in mails[0].body
    assert f"/remboursements/{to_complete.pk}/" in mails[0].body


def test_a_request_completed_in_time_is_not_reminded(to_complete, run_on):
    RefundRequest.objects.filter(pk=to_complete.pk).update(status=RefundRequest.Status.FILED)
    assert run_on(ASKED + timedelta(days=7)) == []


def test_a_request_sent_back_again_counts_its_days_again(to_complete, run_on):
    run_on(ASKED + timedelta(days=7))
    RefundRequest.objects.filter(pk=to_complete.pk).update(status=RefundRequest.Status.IN_REVIEW)
    again = ASKED + timedelta(days=10)
    with on(again):
        refund_request_transition(
            refund_request_id=to_complete.pk,
            actor=UserFactory(staff=True),
            to_status=RefundRequest.Status.TO_COMPLETE,
            comment="La facture jointe est illisible.",
        )
    assert run_on(again + timedelta(days=6)) == []
    assert len(run_on(again + timedelta(days=7))) == 3


@pytest.fixture
def pending(farm):
    with on(ASKED, hour=0):  # 00:30 in Paris is still the day before in UTC: days count in Paris
        return AttachmentRequestFactory(
            structure=farm,
            requester=UserFactory(email="cabinet@example.fr", first_name="Léa", last_name="Marin"),
        )


def test_attachment_request_pending_for_7_days_reminds_managers_and_requester_once(pending, run_on):
    assert sent_on(run_on, ASKED, 30) == [7]
    assert Reminder.objects.filter(kind=Kind.ATTACHMENT_PENDING).count() == 3


def test_attachment_reminder_tells_the_requester_who_the_main_manager_is(pending, farm, run_on):
    main_manager = farm.memberships.get(role="main_manager").user

    mails = {m.to[0]: m for m in run_on(ASKED + timedelta(days=7))}

    assert sorted(mails) == ["cabinet@example.fr", "co-gerant@example.fr", "gerant@example.fr"]
    to_requester = mails["cabinet@example.fr"]
    assert to_requester.subject == "Votre demande de rattachement est toujours en attente"
    assert (
        f"Le gestionnaire principal de cette structure est {main_manager.get_full_name()}"
        in to_requester.body
    )
    assert f"/rattachements/historique/{pending.pk}/" in to_requester.body
    to_manager = mails["gerant@example.fr"]
    assert to_manager.subject == "Une demande de rattachement attend votre décision"
    assert "Léa Marin demande depuis le 3 mars 2025" in to_manager.body
    assert f"/rattachements/approbations/{pending.pk}/" in to_manager.body


def test_a_decided_attachment_request_is_not_reminded(pending, run_on):
    AttachmentRequest.objects.filter(pk=pending.pk).update(status=AttachmentRequest.Status.CANCELLED)
    assert run_on(ASKED + timedelta(days=7)) == []


def test_a_requester_who_opted_out_is_not_reminded(pending, run_on):
    OptOut.objects.create(user=pending.requester, kind=Kind.ATTACHMENT_PENDING)
    assert "cabinet@example.fr" not in recipients(run_on(ASKED + timedelta(days=7)))


def test_a_reminder_waiting_for_its_mail_is_skipped_when_the_account_opts_out_meanwhile(pending, run_on):
    """A row inserted but not mailed yet (a firm's item held for tomorrow's digest) honours a later opt-out."""
    Reminder.objects.create(
        recipient=pending.requester,
        kind=Kind.ATTACHMENT_PENDING,
        structure=pending.structure,
        object_id=pending.pk,
        occasion="7d",
        batch="00000000-0000-0000-0000-000000000000",
    )
    OptOut.objects.create(user=pending.requester, kind=Kind.ATTACHMENT_PENDING)

    assert "cabinet@example.fr" not in recipients(run_on(ASKED + timedelta(days=7)))
    assert Reminder.objects.get(recipient=pending.requester).state == Reminder.State.SKIPPED

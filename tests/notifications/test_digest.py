from datetime import datetime, timedelta

import pytest

from attachments.models import AttachmentRequest
from notifications.models import Digest, Kind, OptOut, Reminder
from notifications.selectors import enabled_kinds
from tests.factories import AttachmentRequestFactory, MembershipFactory, StructureFactory, UserFactory
from tests.notifications.conftest import CLOSES, PARIS

pytestmark = pytest.mark.django_db


def attach(user, count, prefix="Client"):
    structures = []
    for n in range(count):
        structure = StructureFactory(name=f"{prefix} {n:02d}")
        MembershipFactory(user=user, structure=structure, manager=True)
        structures.append(structure)
    return structures


@pytest.fixture
def firm_user():
    return UserFactory(email="comptable@cabinet.fr")


def test_a_user_attached_to_more_than_5_structures_gets_one_daily_digest(firm_user, run_on):
    clients = attach(firm_user, 6)
    pending = AttachmentRequestFactory(structure=clients[0])
    day = CLOSES - timedelta(days=30)
    AttachmentRequest.objects.filter(pk=pending.pk).update(created_at=datetime(2026, 1, 5, 10, tzinfo=PARIS))

    mails = [m for m in run_on(day) if m.to == ["comptable@cabinet.fr"]]

    assert len(mails) == 1
    digest = mails[0]
    assert digest.subject == "Vos rappels Chorus Agri du 1 décembre 2026 (7)"
    body = digest.body
    assert "Clôture prochaine d'une campagne sans demande déposée (6)" in body
    assert "Demande de rattachement en attente (1)" in body
    for client in clients:
        assert client.name in body
    assert f"/rattachements/approbations/{pending.pk}/" in body
    assert Digest.objects.get(recipient=firm_user).day == day


def test_five_structures_is_not_a_firm_and_gets_regular_mails(firm_user, run_on):
    attach(firm_user, 5)

    mails = run_on(CLOSES - timedelta(days=30))

    assert len(mails) == 1
    assert mails[0].subject.startswith("Votre demande 2023 n'est pas déposée")
    assert Digest.objects.count() == 0


def test_items_due_after_todays_digest_wait_for_tomorrows(firm_user, run_on):
    clients = attach(firm_user, 6)
    day = CLOSES - timedelta(days=30)
    assert len(run_on(day)) == 1
    # Later the same day (a second beat, a retried task), a new structure is due: no second mail today.
    MembershipFactory(user=firm_user, structure=StructureFactory(name="Client tardif"), manager=True)
    assert run_on(day) == []
    held = Reminder.objects.get(structure__name="Client tardif")
    assert held.state == Reminder.State.PENDING

    tomorrow = run_on(day + timedelta(days=1))

    assert len(tomorrow) == 1
    assert "Client tardif" in tomorrow[0].body
    assert all(client.name not in tomorrow[0].body for client in clients)
    held.refresh_from_db()
    assert held.state == Reminder.State.SENT


def test_digest_unsubscribes_from_every_kind(firm_user, run_on, https_site, client):
    attach(firm_user, 6)
    digest = run_on(CLOSES - timedelta(days=30))[0]
    link = digest.extra_headers["List-Unsubscribe"].strip("<>")

    client.post(link.removeprefix(https_site), {"List-Unsubscribe": "One-Click"})

    assert enabled_kinds(user=firm_user) == set()
    assert OptOut.objects.filter(user=firm_user).count() == len(Kind.values)

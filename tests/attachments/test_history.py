import pytest
from django.urls import reverse

from tests.attachments.conftest import text
from tests.factories import AttachmentRequestFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

HISTORY_URL = reverse("attachments:history")


def detail_url(attachment_request):
    return reverse("attachments:history_detail", args=[attachment_request.pk])


def test_history_lists_my_requests_newest_first_with_their_status(client, accountant, farm):
    older = AttachmentRequestFactory(requester=accountant, refused=True)
    newer = AttachmentRequestFactory(requester=accountant, structure=farm)
    AttachmentRequestFactory()  # someone else's
    client.force_login(accountant)
    response = client.get(HISTORY_URL)
    assert list(response.context["page"]) == [newer, older]
    page = text(response)
    assert '<span class="fr-tag fr-tag--pending">En attente</span>' in page
    assert '<span class="fr-tag fr-tag--refused">Refusée</span>' in page


def test_pending_request_names_the_main_manager_as_approbateur(client, pending, accountant, farm):
    MembershipFactory(structure=farm, manager=True, user__first_name="Paul", user__last_name="Autre")
    client.force_login(accountant)
    page = text(client.get(detail_url(pending)))
    assert "<dt>Approbateur</dt> <dd> Jeanne Lebreton (gestionnaire principal de la structure) </dd>" in page
    assert "Annuler la demande" in page


def test_pending_request_of_a_structure_without_main_manager_says_so(client, accountant):
    orphan = AttachmentRequestFactory(requester=accountant)
    client.force_login(accountant)
    assert "Aucun gestionnaire principal désigné" in client.get(detail_url(orphan)).text


def test_decided_request_names_whoever_decided_and_the_reason(client, accountant, farm, manager):
    deputy = MembershipFactory(
        structure=farm, manager=True, user__first_name="Paul", user__last_name="Adjoint"
    ).user
    refused = AttachmentRequestFactory(
        requester=accountant, structure=farm, refused=True, decided_by=deputy, refusal_reason="Inconnu ici."
    )
    client.force_login(accountant)
    page = text(client.get(detail_url(refused)))
    assert "<dt>Approbateur</dt> <dd> Paul Adjoint </dd>" in page
    assert "<dt>Motif du refus</dt> <dd>Inconnu ici.</dd>" in page
    assert "Annuler la demande" not in page


def test_someone_elses_request_is_not_found(client, pending):
    client.force_login(UserFactory())
    assert client.get(detail_url(pending)).status_code == 404
    assert client.post(reverse("attachments:history_cancel", args=[pending.pk])).status_code == 404
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_requester_cancels_a_pending_request(client, pending, accountant, manager):
    client.force_login(accountant)
    response = client.post(reverse("attachments:history_cancel", args=[pending.pk]), follow=True)
    assert "Votre demande de rattachement a été annulée." in response.text
    pending.refresh_from_db()
    assert pending.status == "cancelled"
    client.force_login(manager)
    assert '<span class="fr-badge fr-badge--zero">0' in client.get(reverse("home")).text


def test_decided_request_cannot_be_cancelled(client, accountant):
    approved = AttachmentRequestFactory(requester=accountant, approved=True)
    client.force_login(accountant)
    response = client.post(reverse("attachments:history_cancel", args=[approved.pk]), follow=True)
    assert "Cette demande ne peut plus être annulée : elle est approuvée." in response.text
    approved.refresh_from_db()
    assert approved.status == "approved"


def test_cancel_only_accepts_post(client, pending, accountant):
    client.force_login(accountant)
    assert client.get(reverse("attachments:history_cancel", args=[pending.pk])).status_code == 405


def test_empty_history_says_so(client):
    client.force_login(UserFactory())
    assert "Vous n'avez fait aucune demande pour le moment." in client.get(HISTORY_URL).text


def test_cancelled_request_names_no_approver(client, accountant):
    cancelled = AttachmentRequestFactory(requester=accountant, cancelled=True)
    client.force_login(accountant)
    page = text(client.get(detail_url(cancelled)))
    assert "<dt>Approbateur</dt> <dd> Aucun : la demande a été annulée par son demandeur. </dd>" in page
    assert '<span class="fr-tag fr-tag--cancelled">Annulée</span>' in page

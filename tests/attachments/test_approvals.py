import pytest
from django.urls import reverse

from attachments.models import AttachmentRequest
from chorus.outbox.models import OutboxMail
from structures.models import Membership
from tests.attachments.conftest import text
from tests.factories import (
    AttachmentRequestFactory,
    MembershipFactory,
    ServiceFactory,
    StructureFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("attachments:approval_list")
BULK_URL = reverse("attachments:approval_bulk_approve")


def detail_url(attachment_request):
    return reverse("attachments:approval_detail", args=[attachment_request.pk])


def test_manager_sees_approbations_with_the_pending_count_in_the_header(client, pending, manager):
    AttachmentRequestFactory(structure=pending.structure)
    AttachmentRequestFactory(structure=pending.structure, refused=True)
    client.force_login(manager)
    page = text(client.get(reverse("home")))
    assert (
        'href="/rattachements/approbations/"> Approbations <span class="fr-badge">2'
        '<span class="fr-sr-only"> en attente</span></span>' in page
    )


def test_user_who_manages_nothing_has_no_approbations_menu(client, farm):
    member = MembershipFactory(structure=farm).user
    AttachmentRequestFactory(structure=farm)
    client.force_login(member)
    assert "Approbations" not in client.get(reverse("home")).text


def test_signed_in_menu_offers_mes_rattachements_and_historique_before_sign_out(client, accountant):
    client.force_login(accountant)
    page = client.get(reverse("home")).text
    assert (
        page.index("Mes rattachements")
        < page.index("Historique de mes demandes")
        < page.index("Se déconnecter")
    )


def test_list_shows_the_guide_columns_for_pending_requests(client, pending, manager, farm):
    service = ServiceFactory(structure=farm, name="Comptabilité")
    AttachmentRequestFactory(structure=farm, service=service)
    client.force_login(manager)
    response = client.get(LIST_URL)
    page = text(response)
    for column in ["État", "Description", "Demandeur", "Structure", "Service", "Date de demande"]:
        assert f'<th scope="col">{column}</th>' in page
    assert "<caption> Demandes à traiter (2) </caption>" in page
    assert "Demande de rattachement de Yann Morvan à GAEC des Trois Chênes" in page
    assert "yann@cabinet.example.fr" in page
    assert "Comptabilité" in page
    assert "Approuver la sélection" in page


def test_list_filters_pending_and_decided_requests(client, pending, manager, farm):
    decided = AttachmentRequestFactory(structure=farm, approved=True, decided_by=manager)
    AttachmentRequestFactory(structure=farm, cancelled=True)
    client.force_login(manager)
    todo = client.get(LIST_URL, {"etat": "a-traiter"})
    assert list(todo.context["page"]) == [pending]
    done = client.get(LIST_URL, {"etat": "traitees"})
    assert list(done.context["page"]) == [decided]
    assert "Approuver la sélection" not in done.text


def test_list_sorts_by_request_date(client, farm, manager):
    first, second, third = AttachmentRequestFactory.create_batch(3, structure=farm)
    client.force_login(manager)
    assert list(client.get(LIST_URL).context["page"]) == [third, second, first]
    assert list(client.get(LIST_URL, {"tri": "anciennes"}).context["page"]) == [first, second, third]


def test_list_ignores_unknown_filter_values(client, pending, manager):
    client.force_login(manager)
    response = client.get(LIST_URL, {"etat": "<script>", "tri": "x" * 500, "page": "abc"})
    assert response.status_code == 200
    assert list(response.context["page"]) == [pending]


def test_list_is_paginated_in_date_order_and_keeps_the_filters(client, farm, manager):
    requests = AttachmentRequestFactory.create_batch(25, structure=farm)
    client.force_login(manager)
    first = client.get(LIST_URL, {"tri": "anciennes"})
    assert list(first.context["page"]) == requests[:20]
    assert "Page 1 sur 2" in first.text
    assert 'href="?tri=anciennes&amp;page=2"' in first.text
    second = client.get(LIST_URL, {"tri": "anciennes", "page": 2})
    assert list(second.context["page"]) == requests[20:]
    newest = client.get(LIST_URL, {"page": 2})
    assert list(newest.context["page"]) == requests[:5][::-1]


def test_manager_sees_only_requests_of_structures_they_manage(client, pending, manager):
    elsewhere = AttachmentRequestFactory()
    client.force_login(manager)
    assert list(client.get(LIST_URL).context["page"]) == [pending]
    assert client.get(detail_url(elsewhere)).status_code == 404


def test_detail_shows_approver_comment_and_the_two_buttons(client, pending, manager):
    client.force_login(manager)
    page = text(client.get(detail_url(pending)))
    assert "<dt>Approbateur</dt> <dd> Jeanne Lebreton (vous-même) </dd>" in page
    assert "<dt>Commentaire</dt> <dd> Cabinet du Bocage. </dd>" in page
    assert "<dt>Demandeur</dt> <dd>Yann Morvan (yann@cabinet.example.fr)</dd>" in page
    assert 'value="approve" class="fr-btn">Approuver</button>' in page
    assert 'value="refuse" class="fr-btn fr-btn--danger">Refuser</button>' in page


def test_approval_attaches_the_requester_and_mails_them(
    client, pending, manager, accountant, farm, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(detail_url(pending), {"decision": "approve"})
    assert response.status_code == 302
    assert response.url == LIST_URL
    pending.refresh_from_db()
    assert pending.status == "approved"
    assert pending.decided_by == manager
    assert pending.decided_at is not None
    membership = Membership.objects.get(user=accountant, structure=farm)
    assert (membership.role, membership.is_active, membership.updated_by) == ("member", True, manager)
    assert [mail.to for mail in mailoutbox] == [[accountant.email]]
    assert mailoutbox[0].subject == "Votre rattachement à GAEC des Trois Chênes est approuvé"
    assert "Jeanne Lebreton" in mailoutbox[0].body
    assert "Demande approuvée" in client.get(response.url).text


def test_refusal_needs_a_reason(client, pending, manager):
    client.force_login(manager)
    response = client.post(detail_url(pending), {"decision": "refuse", "refusal_reason": "   "})
    assert response.status_code == 200
    assert "Indiquez le motif du refus : il est transmis au demandeur." in response.text
    assert 'aria-invalid="true"' in response.text
    pending.refresh_from_db()
    assert pending.status == "pending"
    assert not OutboxMail.objects.exists()


def test_too_long_refusal_reason_is_refused_and_kept(client, pending, manager):
    client.force_login(manager)
    response = client.post(detail_url(pending), {"decision": "refuse", "refusal_reason": "y" * 2001})
    assert response.status_code == 200
    assert "au plus 2000 caractères" in response.text
    assert "y" * 2001 in response.text
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_unknown_decision_changes_nothing(client, pending, manager):
    client.force_login(manager)
    response = client.post(detail_url(pending), {"decision": "<b>delete</b>"})
    assert response.status_code == 200
    assert "Choisissez « Approuver » ou « Refuser »." in response.text
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_refusal_records_the_reason_and_mails_it(
    client, pending, manager, accountant, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            detail_url(pending),
            {"decision": "refuse", "refusal_reason": "Nous ne connaissons pas ce cabinet."},
        )
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by, pending.refusal_reason) == (
        "refused",
        manager,
        "Nous ne connaissons pas ce cabinet.",
    )
    assert not Membership.objects.filter(user=accountant, structure=pending.structure).exists()
    assert [mail.to for mail in mailoutbox] == [[accountant.email]]
    assert "Nous ne connaissons pas ce cabinet." in mailoutbox[0].body
    assert mailoutbox[0].subject == "Votre demande de rattachement à GAEC des Trois Chênes est refusée"


def test_deciding_an_already_decided_request_says_so(client, pending, manager, farm):
    other_manager = MembershipFactory(structure=farm, manager=True, user__first_name="Paul").user
    client.force_login(other_manager)
    client.post(detail_url(pending), {"decision": "approve"})
    client.force_login(manager)
    response = client.post(detail_url(pending), {"decision": "refuse", "refusal_reason": "Non."}, follow=True)
    assert "Cette demande a déjà été traitée : approuvée par Paul" in response.text
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by) == ("approved", other_manager)
    assert Membership.objects.filter(user=pending.requester, structure=farm).count() == 1


def test_plain_member_cannot_open_or_decide_a_request(client, pending, farm):
    member = MembershipFactory(structure=farm).user
    client.force_login(member)
    assert client.get(detail_url(pending)).status_code == 404
    assert client.post(detail_url(pending), {"decision": "approve"}).status_code == 404
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_detached_manager_cannot_decide(client, pending, farm):
    former = MembershipFactory(structure=farm, manager=True, detached=True).user
    client.force_login(former)
    assert client.post(detail_url(pending), {"decision": "approve"}).status_code == 404


def test_requester_who_manages_the_structure_cannot_approve_their_own_request(client, farm, manager):
    """A request filed before its author became a manager stays out of their own inbox and decisions."""
    author = UserFactory()
    own = AttachmentRequestFactory(requester=author, structure=farm)
    MembershipFactory(user=author, structure=farm, manager=True)
    client.force_login(author)
    assert list(client.get(LIST_URL).context["page"]) == []
    assert client.post(detail_url(own), {"decision": "approve"}).status_code == 404
    own.refresh_from_db()
    assert own.status == "pending"


def test_bulk_approval_approves_each_selected_request(
    client, farm, manager, mailoutbox, django_capture_on_commit_callbacks
):
    requests = AttachmentRequestFactory.create_batch(3, structure=farm)
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(BULK_URL, {"requests": [r.pk for r in requests[:2]]}, follow=True)
    assert "2 demandes de rattachement approuvées." in response.text
    assert sorted(AttachmentRequest.objects.filter(status="approved").values_list("pk", flat=True)) == sorted(
        r.pk for r in requests[:2]
    )
    assert Membership.objects.filter(structure=farm, role="member").count() == 2
    assert len(mailoutbox) == 2


def test_bulk_approval_skips_decided_requests_and_says_why(client, farm, manager):
    fresh = AttachmentRequestFactory(structure=farm)
    cancelled = AttachmentRequestFactory(structure=farm, cancelled=True)
    client.force_login(manager)
    response = client.post(BULK_URL, {"requests": [fresh.pk, cancelled.pk]}, follow=True)
    assert "1 demande de rattachement approuvée." in response.text
    assert "Cette demande a été annulée par son demandeur." in response.text
    cancelled.refresh_from_db()
    assert cancelled.status == "cancelled"


def test_bulk_approval_of_another_structure_request_changes_nothing(client, pending, manager):
    elsewhere = AttachmentRequestFactory()
    client.force_login(manager)
    response = client.post(BULK_URL, {"requests": [pending.pk, elsewhere.pk]}, follow=True)
    assert "Une des demandes sélectionnées n&#x27;existe pas" in response.text
    assert not AttachmentRequest.objects.filter(status="approved").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Sélectionnez au moins une demande à approuver."),
        ({"requests": ["abc"]}, "Une des demandes sélectionnées n&#x27;existe pas"),
        ({"requests": ["<script>"]}, "Une des demandes sélectionnées n&#x27;existe pas"),
    ],
)
def test_bulk_approval_with_nothing_valid_selected_explains(client, pending, manager, data, message):
    client.force_login(manager)
    response = client.post(BULK_URL, data, follow=True)
    assert response.status_code == 200
    assert message in response.text
    assert "<script>" not in response.text.split("<main")[1]
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_bulk_approval_is_capped(client, farm, manager):
    requests = AttachmentRequestFactory.create_batch(101, structure=farm)
    client.force_login(manager)
    response = client.post(BULK_URL, {"requests": [r.pk for r in requests]}, follow=True)
    assert "Approuvez au plus 100 demandes à la fois." in response.text
    assert not AttachmentRequest.objects.filter(status="approved").exists()


def test_approval_of_a_user_attached_meanwhile_keeps_one_membership(
    client, pending, manager, farm, accountant
):
    MembershipFactory(user=accountant, structure=farm)
    client.force_login(manager)
    client.post(detail_url(pending), {"decision": "approve"})
    pending.refresh_from_db()
    assert pending.status == "approved"
    assert Membership.objects.filter(user=accountant, structure=farm, is_active=True).count() == 1


def test_several_users_of_one_firm_can_be_attached_to_the_same_client(client, farm, manager):
    firm = StructureFactory(management_centre=True)
    colleagues = [MembershipFactory(structure=firm).user for _ in range(2)]
    requests = [AttachmentRequestFactory(requester=user, structure=farm) for user in colleagues]
    client.force_login(manager)
    client.post(BULK_URL, {"requests": [r.pk for r in requests]})
    for user in colleagues:
        assert Membership.objects.filter(user=user, structure=farm, is_active=True).exists()


def test_only_get_and_post_are_accepted(client, pending, manager):
    client.force_login(manager)
    assert client.delete(detail_url(pending)).status_code == 405
    assert client.get(BULK_URL).status_code == 405

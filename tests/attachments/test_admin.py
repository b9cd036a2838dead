import pytest
from django.urls import reverse

from attachments.models import AttachmentRequest
from structures.models import Membership
from tests.conftest import verify_session
from tests.factories import AttachmentRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:attachments_attachmentrequest_changelist")


@pytest.fixture
def admin_client(client):
    """An administrator whose session passed the e-mailed code, as the admin requires."""
    return verify_session(
        client, UserFactory(staff=True, is_superuser=True, first_name="Alice", last_name="Admin")
    )


def test_admin_lists_filters_and_searches_requests(admin_client, pending):
    AttachmentRequestFactory(refused=True)
    response = admin_client.get(CHANGELIST, {"status__exact": "pending", "q": "yann@cabinet"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [pending]
    by_structure = admin_client.get(CHANGELIST, {"structure__id__exact": pending.structure_id})
    assert list(by_structure.context["cl"].result_list) == [pending]
    assert (
        admin_client.get(reverse("admin:attachments_attachmentrequest_change", args=[pending.pk])).status_code
        == 200
    )


def test_admin_approval_follows_the_same_rules_and_mail(
    admin_client, pending, mailoutbox, django_capture_on_commit_callbacks
):
    decided = AttachmentRequestFactory(refused=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST, {"action": "approve", "_selected_action": [pending.pk, decided.pk]}, follow=True
        )
    assert "1 demande(s) de rattachement approuvée(s)." in response.text
    assert "Cette demande a déjà été traitée : refusée" in response.text
    pending.refresh_from_db()
    assert pending.status == "approved"
    assert pending.decided_by.last_name == "Admin"
    assert Membership.objects.filter(
        user=pending.requester, structure=pending.structure, role="member"
    ).exists()
    assert [mail.to for mail in mailoutbox] == [[pending.requester.email]]


def test_admin_refusal_asks_for_a_reason_then_mails_it(
    admin_client, pending, mailoutbox, django_capture_on_commit_callbacks
):
    data = {"action": "refuse", "_selected_action": [pending.pk]}
    form_page = admin_client.post(CHANGELIST, data)
    assert form_page.status_code == 200
    assert "Motif du refus" in form_page.text
    empty = admin_client.post(CHANGELIST, {**data, "apply": "1", "refusal_reason": ""})
    assert "Ce champ est obligatoire." in empty.text
    pending.refresh_from_db()
    assert pending.status == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(CHANGELIST, {**data, "apply": "1", "refusal_reason": "Doublon."}, follow=True)
    pending.refresh_from_db()
    assert (pending.status, pending.refusal_reason) == ("refused", "Doublon.")
    assert "Doublon." in mailoutbox[0].body


def test_admin_cannot_add_edit_or_delete_requests_by_hand(admin_client, pending):
    assert admin_client.get(reverse("admin:attachments_attachmentrequest_add")).status_code == 403
    admin_client.post(
        reverse("admin:attachments_attachmentrequest_change", args=[pending.pk]), {"status": "approved"}
    )
    pending.refresh_from_db()
    assert pending.status == "pending"
    assert (
        admin_client.get(reverse("admin:attachments_attachmentrequest_delete", args=[pending.pk])).status_code
        == 403
    )
    assert AttachmentRequest.objects.count() == 1

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from support.models import SupportTicket
from support.services import SupportError, ticket_answer, ticket_claim, ticket_claim_token, ticket_create
from tests.conftest import verify_session
from tests.documents import valid_pdf
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def support_agent():
    agent = UserFactory(staff=True, email="support@chorus-agri.example")
    agent.groups.add(Group.objects.get(name="Support"))
    return agent


@pytest.fixture
def ticket():
    return ticket_create(
        user=None,
        email="jeanne@example.fr",
        situation="connection",
        subject="Pas de mail d'activation",
        message="Rien reçu.",
        attachment=valid_pdf("capture.pdf"),
    )


def change_url(ticket):
    return reverse("admin:support_supportticket_change", args=[ticket.pk])


def post_change(client, ticket, **data):
    return client.post(change_url(ticket), {"status": ticket.status, "reply": "", **data})


def test_answer_written_in_admin_is_mailed_and_shown_in_my_tickets(
    client, support_agent, ticket, mailoutbox, django_capture_on_commit_callbacks
):
    verify_session(client, support_agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_change(
            client, ticket, reply="Un nouveau lien vous a été envoyé.\nVérifiez vos spams. <script>x</script>"
        )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == SupportTicket.Status.IN_PROGRESS
    reply = ticket.replies.get()
    assert reply.author == support_agent
    assert [mail.to for mail in mailoutbox] == [["jeanne@example.fr"]]
    assert ticket.number in mailoutbox[0].subject
    assert "Un nouveau lien vous a été envoyé." in mailoutbox[0].body

    admin_page = client.get(change_url(ticket))
    assert "Un nouveau lien vous a été envoyé.<br>Vérifiez vos spams. &lt;script&gt;" in admin_page.text
    jeanne = UserFactory(email="jeanne@example.fr")
    ticket_claim(token=ticket_claim_token(ticket))  # from the link mailed with the acknowledgement
    client.force_login(jeanne)
    page = client.get(reverse("support:ticket_detail", args=[ticket.pk]))
    assert "Un nouveau lien vous a été envoyé.<br>Vérifiez vos spams." in page.text
    assert "En cours" in page.text


def test_statuses_go_new_then_in_progress_then_resolved(client, support_agent, ticket, mailoutbox):
    verify_session(client, support_agent)
    post_change(client, ticket, status="in_progress")
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    post_change(client, ticket, status="resolved", reply="Réglé.")
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    response = post_change(client, ticket, status="new")
    assert response.status_code == 200
    assert "ne peut pas revenir à « Nouveau »" in response.text
    assert "Réglé." in response.text
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_service_refuses_a_status_going_back(ticket, support_agent):
    ticket_answer(ticket_id=ticket.pk, author=support_agent, status="resolved")
    with pytest.raises(SupportError):
        ticket_answer(ticket_id=ticket.pk, author=support_agent, status="in_progress")


def test_saving_without_change_sends_no_mail(
    client, support_agent, ticket, mailoutbox, django_capture_on_commit_callbacks
):
    mailoutbox.clear()
    verify_session(client, support_agent)
    with django_capture_on_commit_callbacks(execute=True):
        post_change(client, ticket)
    assert mailoutbox == []
    assert not ticket.replies.exists()


def test_list_filters_and_search(client, support_agent, ticket):
    other = ticket_create(
        user=UserFactory(), email="paul@example.fr", situation="refund", subject="Montant", message="?"
    )
    verify_session(client, support_agent)
    url = reverse("admin:support_supportticket_changelist")
    response = client.get(url, {"situation__exact": "connection", "status__exact": "new"})
    assert ticket.number in response.text
    assert other.number not in response.text
    response = client.get(url, {"q": other.number})
    assert other.number in response.text
    assert ticket.number not in response.text


def test_support_agent_downloads_the_attachment_from_admin(client, support_agent, ticket):
    verify_session(client, support_agent)
    page = client.get(change_url(ticket))
    attachment_url = reverse("support:ticket_attachment", args=[ticket.pk])
    assert attachment_url in page.text
    response = client.get(attachment_url)
    assert response.status_code == 200
    response.close()


def test_staff_without_support_permissions_cannot_open_tickets(client, ticket):
    verify_session(client, UserFactory(staff=True))
    assert client.get(change_url(ticket)).status_code == 403
    assert client.get(reverse("support:ticket_attachment", args=[ticket.pk])).status_code == 404


def test_tickets_cannot_be_added_in_admin(client, support_agent):
    verify_session(client, support_agent)
    assert client.get(reverse("admin:support_supportticket_add")).status_code == 403


def test_support_agent_without_the_emailed_code_cannot_download_attachments(client, support_agent, ticket):
    client.force_login(support_agent)  # password only: the session has not passed the e-mailed code
    assert client.get(reverse("support:ticket_attachment", args=[ticket.pk])).status_code == 404


def test_too_long_answer_is_refused_with_a_message(client, support_agent, ticket, mailoutbox):
    mailoutbox.clear()
    verify_session(client, support_agent)
    response = post_change(client, ticket, reply="r" * 5001)
    assert response.status_code == 200
    assert "5000" in response.text
    assert not ticket.replies.exists()
    assert mailoutbox == []


def test_unknown_status_is_refused(client, support_agent, ticket):
    verify_session(client, support_agent)
    response = post_change(client, ticket, status="archive")
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == "new"

from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from support.models import SupportTicket
from support.services import ticket_answer, ticket_claim_token, ticket_create
from tests.documents import EXECUTABLE, pdf_with_action, png_bytes, upload, valid_pdf
from tests.factories import UserFactory
from tests.mails import mailed_path

pytestmark = pytest.mark.django_db

URL = "/aide/tickets/envoyer/"


def visitor_data(**overrides):
    return {
        "subject": "Lien d'activation introuvable",
        "message": "Je n'ai jamais reçu le courriel d'activation.",
        "email": "Jeanne.Martin@example.fr",
        "captcha_0": "clef",
        "captcha_1": "PASSED",
        **overrides,
    }


def member_data(**overrides):
    return {
        "situation": "bank_details",
        "subject": "RIB refusé",
        "message": "Mon RIB n'est pas accepté.",
        "email": "anne@example.fr",
        **overrides,
    }


def make_ticket(**fields):
    defaults = {
        "user": None,
        "email": "visiteur@example.fr",
        "situation": "connection",
        "subject": "Connexion impossible",
        "message": "Aide",
    }
    return ticket_create(**{**defaults, **fields})


def test_url_is_under_help():
    assert reverse("support:ticket_create") == URL


def test_contact_page_leads_to_the_ticket_form_and_the_assistant(client):
    response = client.get(reverse("contact"))
    assert "<h1>Nous contacter</h1>" in response.text
    assert f'href="{URL}"' in response.text
    assert "Envoyer un ticket" in response.text
    assert f'href="{reverse("support:assistant")}"' in response.text


def test_visitor_form_offers_only_a_connection_problem_behind_the_captcha(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert "Problème de connexion" in response.text
    assert 'name="situation"' not in response.text
    assert 'name="captcha_1"' in response.text


def test_visitor_sends_a_connection_ticket_and_gets_its_number_by_mail(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, visitor_data(situation="refund"))
    ticket = SupportTicket.objects.get()
    assert ticket.user is None
    assert ticket.situation == SupportTicket.Situation.CONNECTION
    assert ticket.status == SupportTicket.Status.NEW
    assert ticket.number == f"SUP-{timezone.localtime(ticket.created_at):%Y}-{ticket.pk:06d}"
    assert response["Location"] == reverse("contact")
    page = client.get(reverse("contact"))
    assert f"Votre ticket n° {ticket.number} a été envoyé" in page.text
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["Jeanne.Martin@example.fr"]
    assert ticket.number in mailoutbox[0].subject
    assert "Problème de connexion" in mailoutbox[0].body
    assert "/aide/tickets/rattacher/" in mailoutbox[0].body


def test_visitor_with_a_wrong_captcha_keeps_the_input_and_sends_nothing(client, mailoutbox):
    response = client.post(URL, visitor_data(captcha_1="faux"))
    assert response.status_code == 400
    assert "Les caractères saisis ne correspondent pas à l'image." in response.text.replace("&#x27;", "'")
    assert "Lien d&#x27;activation introuvable" in response.text
    assert not SupportTicket.objects.exists()
    assert mailoutbox == []


def test_member_form_has_no_address_field_and_names_the_login_address(client):
    user = UserFactory(email="anne@example.fr", contact_email="secretariat@example.fr")
    client.force_login(user)
    response = client.get(URL)
    assert 'name="email"' not in response.text
    assert "<strong>anne@example.fr</strong>" in response.text
    assert 'name="captcha_1"' not in response.text
    for label in [
        "Problème de connexion",
        "Rattachement à une structure",
        "Coordonnées bancaires",
        "Demande de remboursement",
        "Autre",
    ]:
        assert label in response.text


def test_member_ticket_goes_to_their_own_address_whatever_address_is_posted(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory(email="anne@example.fr", contact_email="secretariat@example.fr")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, member_data(email="victime@example.fr"))
    assert response.status_code == 302
    ticket = SupportTicket.objects.get()
    # The login address, verified at activation: the contact address is typed freely in « Mon compte ».
    assert ticket.email == "anne@example.fr"
    assert [message.to for message in mailoutbox] == [["anne@example.fr"]]


def test_member_sends_a_ticket_with_an_attachment(client, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory(email="anne@example.fr")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, member_data(attachment=valid_pdf("capture écran.pdf")))
    ticket = SupportTicket.objects.get()
    assert response["Location"] == reverse("support:ticket_detail", args=[ticket.pk])
    assert ticket.user == user
    assert ticket.situation == "bank_details"
    assert ticket.attachment_name == "capture écran.pdf"
    assert "capture" not in ticket.attachment.name
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["anne@example.fr"]
    assert reverse("support:ticket_detail", args=[ticket.pk]) in mailoutbox[0].body
    assert "/aide/tickets/rattacher/" not in mailoutbox[0].body
    detail = client.get(response["Location"])
    assert f"Votre ticket n° {ticket.number} a été envoyé" in detail.text
    download = client.get(reverse("support:ticket_attachment", args=[ticket.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    download.close()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("situation", "", "Sélectionnez la situation qui correspond à votre problème."),
        ("situation", "piratage", "Sélectionnez une situation de la liste."),
        ("subject", "", "Indiquez l'objet de votre demande."),
        ("subject", "   ", "Indiquez l'objet de votre demande."),
        ("subject", "x" * 151, "L'objet ne doit pas dépasser 150 caractères (vous en avez saisi 151)."),
        ("message", "", "Décrivez votre problème."),
        ("message", "m" * 5001, "Le message ne doit pas dépasser 5000 caractères"),
    ],
)
def test_bad_input_gets_a_message_beside_the_field(client, mailoutbox, field, value, message):
    client.force_login(UserFactory())
    response = client.post(URL, member_data(**{field: value}))
    assert response.status_code == 400
    assert message in response.text.replace("&#x27;", "'")
    assert f'aria-describedby="id_{field}_error' in response.text or f'id="id_{field}_error"' in response.text
    assert not SupportTicket.objects.exists()
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Indiquez l'adresse électronique à laquelle vous répondre."),
        ("pas-une-adresse", "Saisissez une adresse électronique valide"),
        ("<script>@x.fr", "Saisissez une adresse électronique valide"),
    ],
)
def test_visitor_with_a_bad_address_gets_a_message_beside_the_field(client, mailoutbox, value, message):
    response = client.post(URL, visitor_data(email=value))
    assert response.status_code == 400
    assert message in response.text.replace("&#x27;", "'")
    assert 'id="id_email_error"' in response.text or 'aria-describedby="id_email_error' in response.text
    assert "Lien d&#x27;activation introuvable" in response.text
    assert not SupportTicket.objects.exists()
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (upload("capture.pdf", EXECUTABLE), "Ce fichier n'est ni un PDF, ni une image PNG ou JPEG."),
        (upload("vide.pdf", b""), "Le fichier est vide."),
        (upload("tronque.pdf", b"%PDF-1.7\n1 0 obj"), "Ce fichier est endommagé ou incomplet"),
        (upload("capture.png", png_bytes(9000, 9000), "image/png"), "Cette image est trop grande"),
        (upload("capture.pdf", pdf_with_action("/JavaScript")), "Ce PDF contient du code qui s'exécute"),
    ],
    ids=["executable", "empty", "truncated", "pixel-bomb", "javascript"],
)
def test_bad_attachment_is_refused_and_nothing_is_stored(client, document, message):
    client.force_login(UserFactory())
    response = client.post(URL, member_data(attachment=document))
    assert response.status_code == 400
    assert message in response.text.replace("&#x27;", "'")
    assert not SupportTicket.objects.exists()


def test_html_in_a_ticket_is_shown_as_text(client):
    user = UserFactory()
    client.force_login(user)
    client.post(URL, member_data(subject="<b>gras</b>", message="<script>alert('x')</script>"))
    ticket = SupportTicket.objects.get()
    page = client.get(reverse("support:ticket_detail", args=[ticket.pk]))
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert" in page.text
    assert "&lt;b&gt;gras&lt;/b&gt;" in page.text


def test_tickets_from_one_address_are_rate_limited(client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            assert client.post(URL, visitor_data()).status_code == 302
        response = client.post(URL, visitor_data(email="JEANNE.martin@example.fr"))
    assert response.status_code == 429
    assert SupportTicket.objects.count() == 5
    assert len(mailoutbox) == 5


def test_tickets_from_one_ip_are_rate_limited(client):
    for index in range(20):
        client.post(URL, visitor_data(email=f"v{index}@example.fr"))
    assert client.post(URL, visitor_data(email="autre@example.fr")).status_code == 429
    assert SupportTicket.objects.count() == 20


def test_database_refuses_a_visitor_ticket_other_than_connection():
    with pytest.raises(IntegrityError):
        SupportTicket.objects.create(email="a@example.fr", situation="refund", subject="s", message="m")


def test_my_tickets_lists_mine_and_only_visitor_tickets_claimed_from_the_mailed_link(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory(email="anne@example.fr")
    mine = make_ticket(user=user, situation="other", subject="Le mien")
    with django_capture_on_commit_callbacks(execute=True):
        as_visitor = make_ticket(
            email="ANNE@example.fr", subject="Envoyé sans connexion", attachment=valid_pdf()
        )
    someone_else = make_ticket(email="paul@example.fr", subject="Celui de Paul")
    other_member = make_ticket(user=UserFactory(email="b@example.fr"), situation="other", subject="Compte B")
    client.force_login(user)
    response = client.get(reverse("support:ticket_list"))
    assert mine.number in response.text
    # Typing Anne's address is not enough to put a ticket, and its attachment, in her « Mes tickets ».
    assert as_visitor.number not in response.text
    assert client.get(reverse("support:ticket_attachment", args=[as_visitor.pk])).status_code == 404
    assert someone_else.number not in response.text
    assert other_member.number not in response.text
    assert "<caption>" in response.text

    client.post(mailed_path("/aide/tickets/rattacher/"))
    response = client.get(reverse("support:ticket_list"))
    assert as_visitor.number in response.text
    assert someone_else.number not in response.text


def test_someone_elses_ticket_and_attachment_are_404(client):
    owner = UserFactory()
    ticket = make_ticket(user=owner, situation="other", attachment=valid_pdf())
    client.force_login(UserFactory())
    assert client.get(reverse("support:ticket_detail", args=[ticket.pk])).status_code == 404
    assert client.get(reverse("support:ticket_attachment", args=[ticket.pk])).status_code == 404
    assert client.get(reverse("support:ticket_detail", args=[ticket.pk + 1000])).status_code == 404


def test_visitors_cannot_read_tickets_by_id(client):
    ticket = make_ticket(attachment=valid_pdf())
    for name in ["support:ticket_detail", "support:ticket_attachment"]:
        response = client.get(reverse(name, args=[ticket.pk]))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    assert client.get(reverse("support:ticket_list")).status_code == 302


@pytest.mark.parametrize("count", [3, 60])
def test_my_tickets_query_count_does_not_grow_with_tickets(client, django_assert_max_num_queries, count):
    user = UserFactory()
    for index in range(count):
        make_ticket(user=user, situation="other", subject=f"Ticket {index}")
    client.force_login(user)
    with django_assert_max_num_queries(4):
        response = client.get(reverse("support:ticket_list"))
    assert response.text.count("SUP-") == count


def test_ticket_number_takes_the_year_in_paris():
    with time_machine.travel("2026-12-31T23:30:00+00:00", tick=False):  # already 1 January in Paris
        ticket = make_ticket()
    assert ticket.number == f"SUP-2027-{ticket.pk:06d}"


# A visitor's ticket joins an account only from the link mailed to the address.

CLAIM = "/aide/tickets/rattacher/"


@pytest.fixture
def visitor_ticket(client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, visitor_data())
    return SupportTicket.objects.get()


def test_acknowledgements_never_repeat_what_the_sender_wrote(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    spam = {"subject": "Gagnez 1000 € sur arnaque.example", "message": "Cliquez sur http://arnaque.example"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, visitor_data(**spam))
        client.force_login(UserFactory())
        client.post(URL, member_data(**spam))
    assert len(mailoutbox) == 2
    for sent in mailoutbox:
        for text in [sent.subject, sent.body]:
            assert "arnaque" not in text
            assert "1000" not in text


def test_support_answer_mail_does_not_repeat_the_subject(
    visitor_ticket, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket_answer(
            ticket_id=visitor_ticket.pk, author=UserFactory(staff=True), body="Voici un nouveau lien."
        )
    assert "Voici un nouveau lien." in mailoutbox[-1].body
    assert visitor_ticket.subject not in mailoutbox[-1].body
    assert reverse("support:ticket_detail", args=[visitor_ticket.pk]) not in mailoutbox[-1].body


def test_opening_the_mailed_link_asks_before_attaching(client, visitor_ticket):
    owner = UserFactory(email="jeanne.martin@example.fr", is_active=False)  # activation mail never arrived
    path = mailed_path(CLAIM)
    page = client.get(path)
    assert page.status_code == 200
    assert "Rattacher le ticket à mon compte" in page.text
    assert visitor_ticket.number in page.text
    visitor_ticket.refresh_from_db()
    assert visitor_ticket.user is None  # a mail scanner opening the link attaches nothing

    response = client.post(path)
    assert response["Location"] == path
    visitor_ticket.refresh_from_db()
    assert visitor_ticket.user == owner
    page = client.get(path)
    assert f"Le ticket n° {visitor_ticket.number} est rattaché à votre compte." in page.text
    assert "Mes tickets" in page.text


def test_link_attaches_to_the_address_owner_even_when_someone_else_is_signed_in(client, visitor_ticket):
    owner = UserFactory(email="jeanne.martin@example.fr")
    client.force_login(UserFactory(email="intrus@example.fr"))
    client.post(mailed_path(CLAIM))
    visitor_ticket.refresh_from_db()
    assert visitor_ticket.user == owner


def test_link_for_an_address_without_account_attaches_nothing(client, visitor_ticket):
    path = mailed_path(CLAIM)
    client.post(path)
    visitor_ticket.refresh_from_db()
    assert visitor_ticket.user is None
    page = client.get(path)
    assert "Aucun compte Chorus Agri n&#x27;utilise l&#x27;adresse Jeanne.Martin@example.fr" in page.text


@pytest.mark.parametrize("tamper", ["expired", "modified", "other-ticket"])
def test_expired_or_modified_link_is_refused(client, visitor_ticket, tamper):
    UserFactory(email="jeanne.martin@example.fr")
    path = mailed_path(CLAIM)
    if tamper == "modified":
        path = path.replace(CLAIM, CLAIM + "x")
    elif tamper == "other-ticket":
        path = reverse(
            "support:ticket_claim", args=[ticket_claim_token(make_ticket(email="jeanne.martin@example.fr"))]
        )
        SupportTicket.objects.filter(email="jeanne.martin@example.fr").update(email="autre@example.fr")
    with time_machine.travel(timezone.now() + (timedelta(days=8) if tamper == "expired" else timedelta())):
        page = client.get(path)
        assert page.status_code == 404
        assert "Ce lien n&#x27;est pas valide ou a expiré." in page.text
        assert client.post(path).status_code == 404
    assert not SupportTicket.objects.filter(user__isnull=False).exists()


def test_claim_link_is_rate_limited(client, visitor_ticket):
    path = mailed_path(CLAIM)
    for _ in range(30):
        client.post(path)
    assert client.post(path).status_code == 429


def test_ticket_with_an_attachment_is_refused_and_nothing_kept_when_the_bucket_is_unreachable(
    client, mailoutbox, settings, unreachable_bucket
):
    client.force_login(UserFactory(email="anne@example.fr"))
    response = client.post(URL, member_data(attachment=valid_pdf("capture.pdf")))
    assert response.status_code == 400
    assert "Le dépôt des documents est momentanément indisponible" in response.text
    assert "RIB refusé" in response.text  # other input kept
    assert not SupportTicket.objects.exists()
    assert mailoutbox == []

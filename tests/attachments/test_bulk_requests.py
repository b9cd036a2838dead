"""« Demander un rattachement » for many structures: SIRETs pasted or in a CSV file, checked one by one in a
report, then « Soumettre » sends one request per structure and ONE mail per manager."""

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import strip_tags

from attachments.forms import BULK_MAX_SIRETS
from attachments.models import AttachmentRequest
from chorus.outbox.models import OutboxMail
from structures.models import Structure
from tests.factories import (
    AttachmentRequestFactory,
    MembershipFactory,
    StructureFactory,
    UserFactory,
    valid_siret,
)

pytestmark = pytest.mark.django_db

URL = reverse("attachments:request_bulk")


def text(response) -> str:
    """The page as a reader sees it: no tags, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


@pytest.fixture
def clients(manager):
    """Three client farms; Jeanne manages two of them, another manager the third."""
    farms = [StructureFactory(name=f"Client {n}") for n in range(3)]
    for farm in farms[:2]:
        MembershipFactory(user=manager, structure=farm, main_manager=True)
    MembershipFactory(structure=farms[2], main_manager=True)
    return farms


def check(client, sirets="", file=None, comment=""):
    data = {"sirets": sirets, "comment": comment, "action": "check"}
    if file is not None:
        data["file"] = file
    return client.post(URL, data)


def test_report_checks_each_siret_and_sends_nothing(client, accountant, clients, farm):
    already = clients[1]
    MembershipFactory(user=accountant, structure=already)
    AttachmentRequestFactory(requester=accountant, structure=farm)
    unknown = valid_siret(990001)
    client.force_login(accountant)
    pasted = "\n".join(
        [
            clients[0].siret,
            f"{clients[2].siret[:9]} {clients[2].siret[9:]}",
            already.siret,
            farm.siret,
            unknown,
            "12345678901234",
            clients[0].siret,
            "  ",
        ]
    )
    response = check(client, pasted)
    page = text(response)
    assert response.status_code == 200
    assert "7 numéros vérifiés : 2 demandes prêtes à être envoyées" in page
    for message in [
        "Numéro SIRET invalide",
        "Aucune structure n'est enregistrée sur le portail avec ce SIRET.",
        "Vous êtes déjà rattaché à cette structure.",
        "Une demande de rattachement est déjà en attente pour cette structure.",
        "En double dans la liste",
    ]:
        assert message in page
    assert response.context["submit"].initial["sirets"] == f"{clients[0].siret} {clients[2].siret}"
    assert AttachmentRequest.objects.count() == 1


def test_soumettre_creates_one_request_per_structure_and_one_mail_per_manager(
    client, accountant, clients, manager, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(accountant)
    sirets = " ".join(farm.siret for farm in clients)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"action": "submit", "sirets": sirets, "comment": "Cabinet du Bocage."})
    assert response.status_code == 302 and response.url == reverse("attachments:history")
    assert set(AttachmentRequest.objects.values_list("structure__name", flat=True)) == {
        "Client 0",
        "Client 1",
        "Client 2",
    }
    assert len(mailoutbox) == 2
    jeanne = next(mail for mail in mailoutbox if mail.to == [manager.email])
    assert jeanne.subject == "2 demandes de rattachement à vos structures"
    assert "Client 0" in jeanne.body and "Client 1" in jeanne.body and "Client 2" not in jeanne.body
    assert "Cabinet du Bocage." in jeanne.body
    assert OutboxMail.objects.count() == 2
    follow = client.get(response.url)
    assert "3 demandes de rattachement transmises" in text(follow)


def test_soumettre_checks_again_and_skips_what_changed_meanwhile(client, accountant, clients, mailoutbox):
    MembershipFactory(user=accountant, structure=clients[0])
    AttachmentRequestFactory(requester=accountant, structure=clients[1])
    client.force_login(accountant)
    client.post(URL, {"action": "submit", "sirets": " ".join(f.siret for f in clients)})
    assert list(
        AttachmentRequest.objects.filter(status="pending")
        .order_by("structure__name")
        .values_list("structure__name", flat=True)
    ) == ["Client 1", "Client 2"]


@pytest.mark.parametrize("sirets", ["<script>", "1" * 14 + " abc", ""])
def test_tampered_submission_is_refused_and_nothing_is_written(client, accountant, sirets):
    client.force_login(accountant)
    response = client.post(URL, {"action": "submit", "sirets": sirets}, follow=True)
    assert "La liste à envoyer est invalide" in text(response)
    assert not AttachmentRequest.objects.exists()


def test_csv_file_is_read_by_content_french_style(client, accountant, clients):
    client.force_login(accountant)
    body = "SIRET;Nom\r\n" + "".join(f"{farm.siret};{farm.name}\r\n" for farm in clients)
    upload = SimpleUploadedFile("clients.csv", ("\ufeff" + body).encode("utf-8"), content_type="text/csv")
    response = check(client, file=upload)
    assert "3 numéros vérifiés : 3 demandes prêtes" in text(response)
    latin = SimpleUploadedFile(
        "clients.csv", f"Numéro;Société\n{clients[0].siret};Élevage\n".encode("cp1252")
    )
    assert "1 numéro vérifié : 1 demande prête" in text(check(client, file=latin))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("clients.csv", b"PK\x03\x04" + b"\x00" * 100, "n'est pas un fichier CSV"),
        ("clients.csv", b"%PDF-1.7\n", "n'est pas un fichier CSV"),
        ("clients.csv", b"1" * (600 * 1024), "dépasse 500 Ko"),
    ],
)
def test_bad_files_get_a_french_message_next_to_the_field(client, accountant, name, content, message):
    client.force_login(accountant)
    response = check(client, sirets="garde ce texte", file=SimpleUploadedFile(name, content))
    assert message in text(response)
    assert 'id="id_file_error"' in response.content.decode()
    assert "garde ce texte" in response.content.decode()


def test_empty_or_oversized_lists_are_refused(client, accountant):
    client.force_login(accountant)
    assert "Indiquez au moins un numéro SIRET" in text(check(client, " \n ;"))
    too_many = "\n".join(valid_siret(500000 + n) for n in range(BULK_MAX_SIRETS + 1))
    assert f"Envoyez au plus {BULK_MAX_SIRETS} numéros SIRET à la fois" in text(check(client, too_many))
    assert "Collez au plus" in text(check(client, "x" * (BULK_MAX_SIRETS * 40 + 1)))


@pytest.mark.parametrize("count", [20, 2000])
def test_checking_costs_the_same_queries_at_20_and_2000_sirets(
    client, accountant, count, django_assert_max_num_queries
):
    creator = UserFactory()
    Structure.objects.bulk_create(
        Structure(
            siret=valid_siret(600000 + n),
            name=f"Ferme {n}",
            street="1",
            postcode="35000",
            city="Rennes",
            created_by=creator,
        )
        for n in range(count)
    )
    client.force_login(accountant)
    pasted = "\n".join(valid_siret(600000 + n) for n in range(count))
    with django_assert_max_num_queries(10):
        response = check(client, pasted)
    assert response.context["counts"] == {"ok": count}


def test_bulk_checks_are_rate_limited(client, accountant, settings):
    client.force_login(accountant)
    statuses = [check(client, "12345678901234").status_code for _ in range(21)]
    assert statuses[:20] == [200] * 20 and statuses[20] == 429


def test_attachment_form_links_to_the_bulk_form(client, accountant):
    client.force_login(accountant)
    assert f'href="{URL}"' in client.get(reverse("attachments:request_create")).content.decode()

import pytest
from django.urls import reverse

from attachments.models import AttachmentRequest
from tests.attachments.conftest import text
from tests.factories import (
    AttachmentRequestFactory,
    MembershipFactory,
    ServiceFactory,
    StructureFactory,
    UserFactory,
    valid_siret,
)

pytestmark = pytest.mark.django_db

URL = reverse("attachments:request_create")


def submit(client, **data):
    return client.post(URL, {"siret": "", "service": "", "comment": "", **data})


def test_request_form_shows_the_guide_labels_and_soumettre(client, accountant):
    client.force_login(accountant)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.text
    assert "<h1>Demande de rattachement à une structure</h1>" in html
    assert "Libellé de la structure" in html
    assert ">Soumettre</button>" in html
    assert 'class="fr-btns-group fr-btns-group--right"' in html


def test_user_without_structure_sees_the_notice_to_attach_to_their_firm_first(client):
    client.force_login(UserFactory())
    response = client.get(URL)
    assert "rattachez-vous en premier lieu à la structure de votre entreprise" in text(response)


def test_user_with_a_structure_does_not_see_the_firm_first_notice(client, accountant):
    client.force_login(accountant)
    response = client.get(URL)
    assert "rattachez-vous en premier lieu" not in response.text


def test_request_is_filed_and_every_manager_gets_a_mail(
    client, farm, manager, accountant, mailoutbox, django_capture_on_commit_callbacks
):
    second_manager = MembershipFactory(structure=farm, manager=True).user
    MembershipFactory(structure=farm)  # a plain member is not asked
    client.force_login(accountant)
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(
            client, siret=farm.siret[:3] + " " + farm.siret[3:], comment="Cabinet du Bocage, vos comptes."
        )
    assert response.status_code == 302
    assert response.url == reverse("attachments:membership_list")
    request = AttachmentRequest.objects.get()
    assert (request.requester, request.structure, request.status) == (accountant, farm, "pending")
    assert request.comment == "Cabinet du Bocage, vos comptes."
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted([manager.email, second_manager.email])
    mail = mailoutbox[0]
    assert mail.subject == "Demande de rattachement à GAEC des Trois Chênes"
    assert "Yann Morvan" in mail.body
    assert "Cabinet du Bocage, vos comptes." in mail.body
    assert f"/rattachements/approbations/{request.pk}/" in mail.body
    followed = client.get(response.url)
    assert "a été transmise au gestionnaire de la structure" in followed.text


def test_request_may_target_a_service_of_the_structure(client, farm, manager, accountant):
    service = ServiceFactory(structure=farm, name="Comptabilité")
    client.force_login(accountant)
    lookup = submit(client, siret=farm.siret, action="services")
    assert lookup.status_code == 200
    assert "Structure trouvée" in lookup.text
    assert f'<option value="{service.pk}">Comptabilité' in lookup.text
    assert not AttachmentRequest.objects.exists()
    response = submit(client, siret=farm.siret, service=str(service.pk))
    assert response.status_code == 302
    assert AttachmentRequest.objects.get().service == service


def test_service_of_another_structure_is_refused(client, farm, manager, accountant):
    other_service = ServiceFactory()
    client.force_login(accountant)
    response = submit(client, siret=farm.siret, service=str(other_service.pk), comment="Bonjour")
    assert response.status_code == 200
    assert "Ce service n&#x27;appartient pas à la structure indiquée." in response.text
    assert "Bonjour" in response.text  # the user's input is kept
    assert not AttachmentRequest.objects.exists()


@pytest.mark.parametrize(
    ("siret", "message"),
    [
        ("", "Ce champ est obligatoire."),
        ("1234", "Le numéro SIRET comporte 14 chiffres."),
        ("732829320000AB", "Le numéro SIRET comporte 14 chiffres."),
        ("73282932000075", "Ce numéro SIRET n&#x27;est pas valide"),
        ("7" * 31, "Assurez-vous que cette valeur comporte au plus 30 caractères"),
        ("<script>alert(1)</script>", "Le numéro SIRET comporte 14 chiffres."),
    ],
)
def test_invalid_siret_is_explained_next_to_the_field(client, accountant, siret, message):
    client.force_login(accountant)
    response = submit(client, siret=siret, comment="Mon commentaire")
    assert response.status_code == 200
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert "Mon commentaire" in response.text
    assert "<script>alert(1)</script>" not in response.text
    assert not AttachmentRequest.objects.exists()


def test_unknown_siret_offers_to_create_the_structure(client, accountant):
    client.force_login(accountant)
    response = submit(client, siret=valid_siret(987654))
    assert response.status_code == 200
    assert "Aucune structure n&#x27;est enregistrée avec ce numéro SIRET" in response.text
    assert (
        f'<a class="fr-link" href="{reverse("structures:create")}">Créer une structure</a>' in response.text
    )
    assert not AttachmentRequest.objects.exists()


def test_too_long_comment_is_refused_and_kept(client, farm, manager, accountant):
    client.force_login(accountant)
    response = submit(client, siret=farm.siret, comment="x" * 2001)
    assert response.status_code == 200
    assert "Assurez-vous que cette valeur comporte au plus 2000 caractères" in response.text
    assert not AttachmentRequest.objects.exists()


def test_comment_with_html_is_stored_as_text_and_escaped_for_the_manager(client, farm, manager, accountant):
    client.force_login(accountant)
    submit(client, siret=farm.siret, comment='<script>alert("x")</script>')
    request = AttachmentRequest.objects.get()
    assert request.comment == '<script>alert("x")</script>'
    client.force_login(manager)
    response = client.get(reverse("attachments:approval_detail", args=[request.pk]))
    assert "&lt;script&gt;" in response.text
    assert '<script>alert("x")' not in response.text


def test_second_pending_request_for_the_same_structure_is_refused(client, pending, accountant, farm):
    client.force_login(accountant)
    response = submit(client, siret=farm.siret)
    assert response.status_code == 200
    assert "Vous avez déjà une demande de rattachement en attente pour la structure" in response.text
    assert AttachmentRequest.objects.count() == 1


def test_existing_member_cannot_ask_again(client, farm, manager):
    client.force_login(manager)
    response = submit(client, siret=farm.siret)
    assert response.status_code == 200
    assert "Vous êtes déjà rattaché à la structure GAEC des Trois Chênes." in response.text
    assert not AttachmentRequest.objects.exists()


def test_a_refused_request_can_be_filed_again(client, farm, manager, accountant):
    AttachmentRequestFactory(requester=accountant, structure=farm, refused=True)
    client.force_login(accountant)
    assert submit(client, siret=farm.siret).status_code == 302
    assert AttachmentRequest.objects.filter(status="pending").count() == 1


def test_accounting_firm_user_files_one_request_per_client_siret(client, accountant):
    clients = StructureFactory.create_batch(3)
    for structure in clients:
        MembershipFactory(structure=structure, main_manager=True)
    client.force_login(accountant)
    for structure in clients:
        assert submit(client, siret=structure.siret).status_code == 302
    assert set(AttachmentRequest.objects.values_list("structure", flat=True)) == {s.pk for s in clients}


def test_database_allows_one_pending_request_per_user_and_structure(pending):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        AttachmentRequestFactory(requester=pending.requester, structure=pending.structure)


def test_submissions_are_rate_limited(client, accountant):
    client.force_login(accountant)
    for _ in range(60):
        submit(client, siret="1")
    response = submit(client, siret="1")
    assert response.status_code == 429


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_siret_can_be_prefilled_from_the_link(client, accountant, farm):
    client.force_login(accountant)
    response = client.get(URL, {"siret": farm.siret})
    assert f'value="{farm.siret}"' in response.text
    escaped = client.get(URL, {"siret": '"><script>x</script>'})
    assert "<script>x</script>" not in escaped.text

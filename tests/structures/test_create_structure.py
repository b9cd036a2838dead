import threading

import pytest
from django.db import connection
from django.urls import reverse

from structures import services
from structures.models import Membership, Structure
from tests.factories import MembershipFactory, StructureFactory, UserFactory, valid_siret

pytestmark = pytest.mark.django_db

URL = reverse("structures:create")


@pytest.fixture
def user(client):
    user = UserFactory()
    client.force_login(user)
    return user


def details(siret, **overrides):
    return {
        "step": "details",
        "siret": siret,
        "name": "EARL des Pommiers",
        "street": "4 chemin du Verger",
        "postcode": "35500",
        "city": "Vitré",
        "country": "France",
        **overrides,
    }


def test_siret_step_accepts_spaces_and_asks_for_name_and_address(client, user):
    response = client.post(URL, {"step": "siret", "siret": "732 829 320 00074"})
    assert response.status_code == 200
    assert "Étape 2 sur 2" in response.text
    assert "73282932000074" in response.text
    assert 'name="name"' in response.text


@pytest.mark.parametrize(
    ("siret", "message"),
    [
        ("", "Indiquez le numéro SIRET de la structure."),
        ("1234", "Le numéro SIRET comporte 14 chiffres."),
        ("73282932000075", "Ce numéro SIRET n&#x27;est pas valide"),
        ("<script>alert(1)</script>", "au plus 20 caractères"),
        ("<b>1</b>", "Le numéro SIRET comporte 14 chiffres."),
        ("7" * 300, "Assurez-vous que cette valeur comporte au plus 20 caractères"),
        ("７３２８２９３２０００７４", "Le numéro SIRET comporte 14 chiffres."),  # full-width digits
    ],
)
def test_siret_step_shows_a_french_error_next_to_the_field(client, user, siret, message):
    response = client.post(URL, {"step": "siret", "siret": siret})
    assert response.status_code == 200
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert "<script>alert(1)</script>" not in response.text
    assert not Structure.objects.exists()


def test_known_siret_says_so_and_offers_an_attachment_request(client, user):
    structure = StructureFactory()
    response = client.post(URL, {"step": "siret", "siret": structure.siret})
    assert "Une structure existe déjà avec ce numéro SIRET" in response.text
    request_url = f"{reverse('attachments:request_create')}?siret={structure.siret}"
    assert request_url in response.text
    assert f'value="{structure.siret}"' in client.get(request_url).text  # the request form is pre-filled
    assert Structure.objects.count() == 1


def test_creator_becomes_main_manager_attached_at_once(client, user):
    siret = valid_siret(424242)
    response = client.post(URL, details(siret))
    structure = Structure.objects.get(siret=siret)
    assert response.status_code == 302
    assert response.url == reverse("structures:update", args=[structure.pk])
    assert structure.created_by == user
    membership = Membership.objects.get(structure=structure)
    assert (membership.user, membership.role, membership.is_active) == (user, "main_manager", True)
    page = client.get(response.url)
    assert "Vous en êtes le gestionnaire principal" in page.text


@pytest.mark.parametrize(
    ("overrides", "field_error"),
    [
        ({"name": ""}, "Indiquez la raison sociale de la structure."),
        ({"street": "   "}, "Indiquez l&#x27;adresse de la structure."),
        ({"postcode": "1" * 11}, "au plus 10 caractères"),
        ({"name": "x" * 201}, "au plus 200 caractères"),
    ],
)
def test_details_step_keeps_input_and_saves_nothing_on_error(client, user, overrides, field_error):
    data = details(valid_siret(5151), **overrides)
    response = client.post(URL, data)
    assert response.status_code == 200
    assert field_error in response.text
    assert "4 chemin du Verger" in response.text or overrides.get("street")
    assert not Structure.objects.exists()
    assert not Membership.objects.exists()


def test_html_in_name_is_stored_as_text_and_escaped(client, user):
    siret = valid_siret(777)
    client.post(URL, details(siret, name="<b>EARL</b>"))
    structure = Structure.objects.get(siret=siret)
    assert structure.name == "<b>EARL</b>"
    page = client.get(reverse("structures:update", args=[structure.pk]))
    assert "&lt;b&gt;EARL&lt;/b&gt;" in page.text


def test_tampered_siret_at_details_step_goes_back_to_the_siret_step(client, user):
    response = client.post(URL, details("73282932000075"))
    assert "Étape 1 sur 2" in response.text
    assert "n&#x27;est pas valide" in response.text
    assert not Structure.objects.exists()


def test_siret_taken_between_the_two_steps_is_not_duplicated(client, user):
    siret = valid_siret(31337)
    StructureFactory(siret=siret)
    response = client.post(URL, details(siret))
    assert response.status_code == 200
    assert "Une structure existe déjà avec ce numéro SIRET" in response.text
    assert Structure.objects.filter(siret=siret).count() == 1
    assert not Membership.objects.filter(user=user).exists()


@pytest.mark.parametrize("step", ["siret", "details"])
def test_siret_checks_are_rate_limited_at_both_steps(client, user, step):
    for _ in range(30):
        client.post(URL, {"step": "siret", "siret": "1234"})
    response = client.post(URL, details(valid_siret(4040), step=step))
    assert response.status_code == 429
    assert not Structure.objects.exists()


def test_an_attached_user_may_create_another_structure(client, user):
    MembershipFactory(user=user)
    client.post(URL, details(valid_siret(98765)))
    assert Membership.objects.filter(user=user, is_active=True).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_users_creating_the_same_siret_at_once_make_one_structure():
    """Two real PostgreSQL connections in two threads: one wins, the other gets « already exists »."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row-level blocking on the unique index")
    users = [UserFactory(), UserFactory()]
    siret = valid_siret(606060)
    barrier = threading.Barrier(2)
    outcomes = {}

    def create(user):
        try:
            barrier.wait()
            services.structure_create(
                siret=siret,
                name=f"GAEC de {user.last_name}",
                street="1 rue Haute",
                postcode="35000",
                city="Rennes",
                country="France",
                created_by=user,
            )
            outcomes[user.pk] = "created"
        except services.StructureAlreadyExists as exc:
            outcomes[user.pk] = exc.message
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values(), key=len) == [
        "created",
        services.StructureAlreadyExists().message,
    ]
    assert Structure.objects.filter(siret=siret).count() == 1
    winner = next(pk for pk, outcome in outcomes.items() if outcome == "created")
    assert list(Membership.objects.values_list("user_id", "role")) == [(winner, "main_manager")]


def test_full_width_siret_at_the_details_step_is_refused_without_error(client, user):
    response = client.post(URL, details("７３２８２９３２０００７４"))
    assert response.status_code == 200
    assert "Le numéro SIRET comporte 14 chiffres." in response.text
    assert not Structure.objects.exists()

import pytest
from django.urls import reverse

from structures.models import Service
from tests.factories import MembershipFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client):
    membership = MembershipFactory(manager=True)
    client.force_login(membership.user)
    return membership


def url(structure):
    return reverse("structures:service_list", args=[structure.pk])


def test_manager_adds_a_service_with_an_upper_case_code(client, manager):
    response = client.post(url(manager.structure), {"name": "Comptabilité", "code": " compta "}, follow=True)
    assert "Le service « Comptabilité » est ajouté." in response.text
    service = Service.objects.get()
    assert (service.structure, service.name, service.code) == (manager.structure, "Comptabilité", "COMPTA")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "code": "A"}, "Indiquez le nom du service."),
        ({"name": "Compta", "code": ""}, "Indiquez le code du service."),
        ({"name": "x" * 151, "code": "A"}, "150 caractères au plus."),
        ({"name": "Compta", "code": "<script>"}, "Le code ne contient que des lettres"),
        ({"name": "Compta", "code": "EXISTANT"}, "Ce code de service existe déjà pour cette structure."),
    ],
)
def test_invalid_service_is_refused_next_to_the_field_and_input_kept(client, manager, data, message):
    ServiceFactory(structure=manager.structure, code="EXISTANT", name="Déjà là")
    response = client.post(url(manager.structure), data)
    assert response.status_code == 200
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert "<script>" not in response.text.split("<main", 1)[1].split("</main>")[0]
    assert Service.objects.count() == 1


def test_manager_withdraws_a_service_which_is_kept(client, manager):
    service = ServiceFactory(structure=manager.structure, name="Atelier")
    toggle = reverse("structures:service_toggle", args=[manager.structure.pk, service.pk])
    response = client.post(toggle, follow=True)
    assert "n&#x27;est plus proposé" in response.text or "n'est plus proposé" in response.text
    service.refresh_from_db()
    assert service.is_active is False
    client.post(toggle)
    service.refresh_from_db()
    assert service.is_active is True


@pytest.mark.parametrize("method", ["get", "post"])
def test_plain_member_and_stranger_get_404_on_services(client, method):
    service = ServiceFactory()
    member = MembershipFactory(structure=service.structure)
    for user in [member.user, MembershipFactory(main_manager=True).user]:
        client.force_login(user)
        assert getattr(client, method)(url(service.structure), {"name": "X", "code": "X"}).status_code == 404
        toggle = reverse("structures:service_toggle", args=[service.structure.pk, service.pk])
        assert client.post(toggle).status_code == 404
    assert Service.objects.get().is_active
    assert Service.objects.count() == 1

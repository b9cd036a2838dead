import pytest
from django.urls import reverse

from tests.attachments.conftest import text
from tests.factories import MembershipFactory, StructureFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("attachments:membership_list")


def test_mes_rattachements_lists_every_structure_with_role_and_date(client, accountant):
    client_farm = StructureFactory(name="EARL des Pommiers")
    MembershipFactory(user=accountant, structure=client_farm)
    MembershipFactory(user=accountant, structure=StructureFactory(name="Ancien client"), detached=True)
    client.force_login(accountant)
    response = client.get(URL)
    page = text(response)
    assert "<h1>Mes rattachements</h1>" in page
    assert "EARL des Pommiers" in page
    assert "Ancien client" not in page
    assert "<td>Gestionnaire principal</td>" in page
    assert "<td>Utilisateur</td>" in page
    assert f'href="{reverse("attachments:request_create")}">Demander un rattachement</a>' in page
    assert "(2)" in page


def test_user_without_structure_is_told_and_offered_the_request(client):
    client.force_login(UserFactory())
    page = text(client.get(URL))
    assert "Votre compte n'est rattaché à aucune structure pour le moment." in page
    assert "Demander un rattachement" in page


def test_many_attachments_are_paginated(client):
    user = UserFactory()
    for structure in StructureFactory.create_batch(55):
        MembershipFactory(user=user, structure=structure)
    client.force_login(user)
    first = client.get(URL)
    assert len(first.context["page"]) == 50
    assert "Page 1 sur 2" in first.text
    assert len(client.get(URL, {"page": 2}).context["page"]) == 5

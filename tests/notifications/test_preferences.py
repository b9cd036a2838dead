import html

import pytest
from django.urls import reverse

from notifications.models import Kind, OptOut
from tests.conftest import verify_session
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("notifications:preferences")


@pytest.fixture
def farmer(client):
    user = UserFactory(email="exploitant@example.fr")
    verify_session(client, user)
    return user


def test_page_requires_signing_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_every_kind_is_on_by_default(farmer, client):
    response = client.get(URL)

    assert response.status_code == 200
    for kind in Kind:
        assert kind.label in html.unescape(response.text)
    assert response.text.count("checked") == len(Kind.values)
    assert 'aria-current="page">Notifications</a>' in response.text


def test_switching_kinds_off_and_on_again(farmer, client):
    kept = {Kind.CAMPAIGN_CLOSING: "on", Kind.ATTACHMENT_PENDING: "on"}

    response = client.post(URL, kept, follow=True)

    assert "Vos choix de notifications sont enregistrés." in response.text
    assert set(OptOut.objects.filter(user=farmer).values_list("kind", flat=True)) == {
        Kind.CAMPAIGN_OPEN,
        Kind.REQUEST_TO_COMPLETE,
        Kind.ADVANCE_TO_REGULARISE,
    }
    client.post(URL, dict.fromkeys(Kind.values, "on"))
    assert not OptOut.objects.filter(user=farmer).exists()


def test_unknown_fields_and_odd_values_are_ignored(farmer, client):
    response = client.post(URL, {"campaign_open": "<script>", "is_staff": "on", "user": "1"})

    assert response.status_code == 302
    assert OptOut.objects.filter(user=farmer).count() == len(Kind.values) - 1


def test_saving_changes_only_the_signed_in_account(farmer, client):
    other = UserFactory(email="voisin@example.fr")
    client.post(URL, {})
    assert not OptOut.objects.filter(user=other).exists()

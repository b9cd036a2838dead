import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def has_launcher(text):
    return f'href="{reverse("support:assistant")}"' in text and "data-assistant-open" in text


@pytest.mark.parametrize("url", ["/", "/nous-contacter/", "/compte/connexion/", "/page-inconnue/"])
def test_assistant_icon_is_on_every_page_for_visitors(client, url):
    response = client.get(url)
    assert has_launcher(response.text)
    assert 'aria-labelledby="claudia-title"' in response.text
    assert "/static/js/assistant.js" in response.text


def test_signed_in_menu_offers_my_tickets_before_signing_out(client):
    client.force_login(UserFactory())
    text = client.get(reverse("home")).text
    assert has_launcher(text)
    assert f'href="{reverse("support:ticket_list")}">Mes tickets</a>' in text
    assert text.index("Mes tickets") < text.index("Se déconnecter")


def test_visitors_do_not_see_my_tickets(client):
    assert "Mes tickets" not in client.get(reverse("home")).text
    assert "Mes tickets" not in client.get(reverse("contact")).text

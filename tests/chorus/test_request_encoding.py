"""Defect 5 of issue 12: a body declared in another charset than UTF-8 answered 500 on every POST URL."""

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

POST_URLS = [
    "/compte/connexion/",
    "/compte/mot-de-passe-oublie/",
    "/compte/creer/",
    "/aide/tickets/envoyer/",
    "/organisation/structures/creer/",
]


def post_with_charset(client, url, charset, body=b"username=a%40b.fr&password=x"):
    return client.generic(
        "POST", url, body, content_type=f"application/x-www-form-urlencoded; charset={charset}"
    )


@pytest.mark.parametrize("url", POST_URLS)
@pytest.mark.parametrize("charset", ["utf-16", "utf-32", "latin-1", "utf8", "no-such-charset"])
def test_a_body_in_another_charset_than_utf8_gets_a_400_everywhere(url, charset):
    client = Client(enforce_csrf_checks=True)
    response = post_with_charset(client, url, charset)
    assert response.status_code == 400
    assert "UTF-8" in response.content.decode()


def test_a_signed_in_user_gets_the_400_page_with_the_site_header(client):
    client.force_login(UserFactory())
    response = client.generic(
        "POST",
        "/compte/mon-compte/",
        b"last_name=x",
        content_type="multipart/form-data; boundary=x; charset=utf-16",
    )
    assert response.status_code == 400
    assert "Requête incorrecte" in response.content.decode()


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", '"utf-8"'])
def test_utf8_bodies_go_through(client, charset):
    response = post_with_charset(client, "/compte/connexion/", charset)
    assert response.status_code == 200
    assert "Adresse électronique ou mot de passe incorrect" in response.content.decode()

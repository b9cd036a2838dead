import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("structures:welcome")


def test_sign_in_lands_on_the_first_login_choice():
    assert reverse(settings.LOGIN_REDIRECT_URL) == URL


def test_user_without_structure_sees_the_two_choices_and_the_warning(client):
    client.force_login(UserFactory())
    response = client.get(URL)
    assert response.status_code == 200
    text = response.text
    assert "<dialog" in text and "data-modal-on-load" in text
    assert 'aria-labelledby="first-login-choice-title"' in text
    assert text.count(f'href="{reverse("structures:create")}"') == 2
    assert f'href="{reverse("attachments:request_create")}"' in text
    assert "rattachez-vous en premier lieu à la structure de votre entreprise" in text
    assert "js/first-login.js" in text
    assert "<script>" not in text  # no inline script under the CSP


def test_detached_user_is_offered_the_choice_again(client):
    membership = MembershipFactory(detached=True)
    client.force_login(membership.user)
    assert "<dialog" in client.get(URL).text


def test_attached_user_goes_straight_to_home(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_visitor_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_attachment_choice_is_not_a_dead_link(client):
    client.force_login(UserFactory())
    assert client.get(reverse("attachments:request_create")).status_code == 200


def test_header_offers_organisation_to_signed_in_users(client):
    client.force_login(UserFactory())
    response = client.get(reverse("home"))
    assert f'href="{reverse("structures:index")}">Organisation</a>' in response.text

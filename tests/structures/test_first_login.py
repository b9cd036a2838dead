import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import reverse

from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("home")


def test_sign_in_lands_on_the_page_that_offers_the_first_login_choice(client):
    client.force_login(UserFactory())
    assert "<dialog" in client.get(resolve_url(settings.LOGIN_REDIRECT_URL)).text


def test_user_without_structure_sees_the_two_choices_and_the_warning(client):
    client.force_login(UserFactory())
    response = client.get(URL)
    assert response.status_code == 200
    text = response.text
    assert "<dialog" in text and "data-modal-on-load" in text
    assert 'aria-labelledby="first-login-choice-title"' in text
    assert f'href="{reverse("structures:create")}"' in text
    assert f'href="{reverse("attachments:request_create")}"' in text
    assert "rattachez-vous en premier lieu à la structure de votre entreprise" in text
    assert "js/first-login.js" in text
    assert "<script>" not in text  # no inline script under the CSP


def test_window_opens_once_per_sign_in_then_the_home_page_shows_a_notice(client):
    user = UserFactory()
    client.force_login(user)
    assert "first-login-choice" in client.get(URL).text

    again = client.get(URL).text
    assert "first-login-choice" not in again and "js/first-login.js" not in again
    assert 'aria-labelledby="first-login-notice-title"' in again
    assert f'href="{reverse("structures:create")}"' in again
    assert f'href="{reverse("attachments:request_create")}"' in again

    # Another page does not use up the window; a new sign-in (a new session) opens it again.
    client.logout()
    client.force_login(user)
    client.get(reverse("accessibility"))
    assert "first-login-choice" in client.get(URL).text


def test_attached_user_sees_neither_window_nor_notice_on_later_visits(client):
    client.force_login(MembershipFactory().user)
    for _ in range(2):
        text = client.get(URL).text
        assert "first-login-choice" not in text and "first-login-notice" not in text


def test_detached_user_is_offered_the_choice_again(client):
    membership = MembershipFactory(detached=True)
    client.force_login(membership.user)
    assert "first-login-choice" in client.get(URL).text


def test_attached_user_sees_no_window(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    response = client.get(URL)
    assert response.status_code == 200
    assert "<dialog" not in response.text or "first-login-choice" not in response.text


def test_visitor_sees_no_window(client):
    response = client.get(URL)
    assert "first-login-choice" not in response.text


def test_other_pages_do_not_query_for_the_window(client, django_assert_num_queries):
    client.force_login(MembershipFactory().user)
    with django_assert_num_queries(3):  # session, user and the « Approbations » badge (attachments)
        client.get(reverse("accessibility"))


def test_attachment_choice_is_not_a_dead_link(client):
    client.force_login(UserFactory())
    assert client.get(reverse("attachments:request_create")).status_code == 200


def test_header_offers_organisation_to_signed_in_users(client):
    client.force_login(UserFactory())
    response = client.get(reverse("home"))
    assert f'href="{reverse("structures:index")}">Organisation</a>' in response.text

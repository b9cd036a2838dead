"""Defence in depth on every response: signed-in pages are never stored by a browser or a proxy (the back
button of a shared computer must not show someone's bank details after sign-out), and the browser features
the portal never uses are switched off for every page and anything injected into it."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from chorus.headers import PrivatePagesNotStoredMiddleware
from tests.factories import BankAccountFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_signed_in_pages_are_not_stored(client):
    membership = MembershipFactory(main_manager=True)
    BankAccountFactory(structure=membership.structure)
    client.force_login(membership.user)
    for url in [reverse("home"), reverse("structures:bank_account_list"), reverse("support:ticket_list")]:
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url


def test_visitor_pages_keep_their_own_caching(client):
    response = client.get(reverse("legal_notice"))
    assert "no-store" not in response.get("Cache-Control", "")


def test_a_page_that_chose_its_caching_keeps_it():
    request = RequestFactory().get("/")
    request.user = UserFactory.build()
    middleware = PrivatePagesNotStoredMiddleware(lambda request: _cached_response())
    assert middleware(request)["Cache-Control"] == "max-age=60"


def _cached_response():
    response = HttpResponse("ok")
    response["Cache-Control"] = "max-age=60"
    return response


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_page_denies_unused_browser_features(client, signed_in):
    if signed_in:
        client.force_login(UserFactory())
    policy = client.get(reverse("home"))["Permissions-Policy"]
    for feature in ["camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"]:
        assert feature in policy

import html
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from notifications.models import Kind, OptOut
from notifications.services import unsubscribe_token, unsubscribe_url
from tests.conftest import verify_session
from tests.factories import MembershipFactory, StructureFactory, UserFactory
from tests.notifications.conftest import CLOSES

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    user = UserFactory(email="associe@example.fr")
    MembershipFactory(user=user, structure=StructureFactory(name="GAEC des Tilleuls"))
    return user


@pytest.fixture
def reminder(member, run_on, https_site):
    (message,) = run_on(CLOSES - timedelta(days=90))
    return message


def path_of(url, site):
    assert url.startswith(site + "/")
    return url.removeprefix(site)


def test_reminder_carries_one_click_unsubscribe_headers_and_a_visible_link(reminder, https_site):
    header = reminder.extra_headers["List-Unsubscribe"]
    assert header.startswith("<https://chorus-agri.example/notifications/desabonnement/")
    assert header.endswith("/>")
    assert reminder.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert header.strip("<>") in reminder.body
    assert (
        "Ne plus recevoir les rappels « Clôture prochaine d'une campagne sans demande déposée »"
        in reminder.body
    )
    assert https_site + reverse("notifications:preferences") in reminder.body
    # What the SMTP server gets, not only the message object.
    raw = reminder.message().as_string()
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw


def test_get_shows_a_confirmation_page_and_changes_nothing(reminder, member, https_site, client):
    path = path_of(reminder.extra_headers["List-Unsubscribe"].strip("<>"), https_site)

    response = client.get(path)

    assert response.status_code == 200
    assert "Se désabonner des rappels" in response.text
    assert "Clôture prochaine d'une campagne sans demande déposée" in html.unescape(response.text)
    assert not OptOut.objects.exists()


def test_one_click_post_unsubscribes_without_signing_in_and_without_csrf(reminder, member, https_site):
    path = path_of(reminder.extra_headers["List-Unsubscribe"].strip("<>"), https_site)
    mail_provider = Client(enforce_csrf_checks=True)

    response = mail_provider.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert "Désabonnement enregistré" in response.text
    assert list(OptOut.objects.values_list("user", "kind")) == [(member.pk, Kind.CAMPAIGN_CLOSING)]
    # Posting again (mail clients retry) is harmless.
    assert mail_provider.post(path).status_code == 200
    assert OptOut.objects.count() == 1


def test_unsubscribed_member_gets_no_further_reminder_of_that_kind(
    reminder, member, https_site, client, run_on
):
    client.post(path_of(reminder.extra_headers["List-Unsubscribe"].strip("<>"), https_site))
    assert run_on(CLOSES - timedelta(days=30)) == []


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"), id="signature altered"
        ),
        pytest.param(lambda token: token + "x", id="signature extended"),
        pytest.param(lambda token: "bm90LWEtdG9rZW4", id="not a token"),
    ],
)
def test_forged_links_are_refused(member, client, forge):
    token = forge(unsubscribe_token(user_id=member.pk, kind=Kind.CAMPAIGN_CLOSING))

    for method in (client.get, client.post):
        response = method(reverse("notifications:unsubscribe", kwargs={"token": token}))
        assert response.status_code == 400
        assert "Ce lien de désabonnement ne peut pas être utilisé" in response.text
    assert not OptOut.objects.exists()


def test_a_link_cannot_be_rewritten_for_another_user_or_kind(member, client):
    other = UserFactory(email="voisin@example.fr")
    token = unsubscribe_token(user_id=member.pk, kind=Kind.CAMPAIGN_CLOSING)
    signature = token.partition(":")[2]
    for forged_payload in (
        signing.b64_encode(f'[{other.pk},"campaign_closing"]'.encode()).decode(),
        signing.b64_encode(f'[{member.pk},"all"]'.encode()).decode(),
    ):
        forged = f"{forged_payload}:{signature}"
        response = client.post(reverse("notifications:unsubscribe", kwargs={"token": forged}))
        assert response.status_code == 400
    # A value signed for another purpose (another salt) is not an unsubscribe link either.
    foreign = signing.dumps([other.pk, "campaign_closing"])
    assert client.post(reverse("notifications:unsubscribe", kwargs={"token": foreign})).status_code == 400
    assert not OptOut.objects.exists()


def test_signed_in_as_someone_else_the_link_still_only_concerns_its_own_account(member, client):
    other = UserFactory(email="voisin@example.fr")
    verify_session(client, other)
    url = unsubscribe_url(user_id=member.pk, kind=Kind.CAMPAIGN_OPEN)

    client.post(url.removeprefix("http://127.0.0.1:8000"))

    assert list(OptOut.objects.values_list("user", "kind")) == [(member.pk, Kind.CAMPAIGN_OPEN)]


def test_unsubscribe_links_are_rate_limited_per_address(member, client):
    url = reverse("notifications:unsubscribe", kwargs={"token": "forged"})
    statuses = [client.get(url).status_code for _ in range(61)]
    assert statuses[:60] == [400] * 60
    assert statuses[60] == 429

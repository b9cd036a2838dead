import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

# Pages a visitor may open without signing in; every other page redirects to « Se connecter ».
PUBLIC_VIEWS = {
    "home",
    "accessibility",
    "legal_notice",
    "contact",
    "terms",
    "accounts:signup",
    "accounts:signup_done",
    "accounts:activate",
    "accounts:login",
    "accounts:login_factor",
    "accounts:login_code",
    "accounts:password_reset",
    "accounts:reset_confirm",
    "accounts:email_change_confirm",
    "support:assistant",
    "support:assistant_node",
    "support:assistant_feedback",
    "support:ticket_create",
    "support:ticket_claim",
    # One-click unsubscribe from a reminder mail (RFC 8058): the signed link is the credential.
    "notifications:unsubscribe",
    "captcha-image",
    "captcha-image-2x",
    "captcha-audio",
    "captcha-refresh",
    "health_live",
    "health_ready",
    # Not public: 404 unless the scraper sends the METRICS_TOKEN (tests/chorus/test_observability.py).
    "metrics",
}


def iter_patterns(resolver, namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue  # the admin has its own staff login
            if entry.namespace == "api-v1":
                continue  # the API authenticates by token, never by session: tests/api/test_endpoints.py
            yield from iter_patterns(
                entry, f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            )
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}", entry.callback


def test_only_listed_pages_are_public():
    public = {
        name for name, view in iter_patterns(get_resolver()) if not getattr(view, "login_required", True)
    }
    assert public == PUBLIC_VIEWS


@pytest.mark.parametrize(
    "name", ["home", "accessibility", "legal_notice", "terms", "contact", "accounts:login", "accounts:signup"]
)
def test_public_pages_answer_in_french(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert '<html lang="fr">' in response.text
    assert "Aller au contenu" in response.text


def test_security_headers_are_sent(client):
    response = client.get(reverse("home"))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_visitor_sees_sign_in_and_member_sees_sign_out(client, django_user_model):
    response = client.get(reverse("home"))
    assert "Se connecter" in response.text
    assert "Se déconnecter" not in response.text

    user = django_user_model.objects.create_user(
        "anne@example.fr", "x", last_name="Martin", first_name="Anne"
    )
    client.force_login(user)
    response = client.get(reverse("home"))
    assert "Anne Martin" in response.text
    assert "Se déconnecter" in response.text


def test_sign_out_is_a_post_and_ends_the_session(client, django_user_model):
    user = django_user_model.objects.create_user("paul@example.fr", "x", last_name="Petit", first_name="Paul")
    client.force_login(user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_unknown_page_is_a_french_404(client):
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    assert "Page introuvable" in response.text

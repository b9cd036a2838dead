import socket

import pytest
from django.db.migrations.recorder import MigrationRecorder

from chorus import health
from tests.chorus.test_settings import PRODUCTION_ENV, run_manage

pytestmark = pytest.mark.django_db

LIVE = "/sante/vivant"
READY = "/sante/pret"


@pytest.fixture(autouse=True)
def _fresh_probe_state():
    health._state.update(migrations_applied=False, redis=None)
    yield
    health._state.update(migrations_applied=False, redis=None)


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_live_answers_without_touching_the_database_or_a_session(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(LIVE)
    assert response.status_code == 200
    assert response.json() == {"statut": "vivant"}
    assert "sessionid" not in response.cookies
    assert "no-cache" in response["Cache-Control"]


def test_ready_checks_every_part_and_says_ready(client, django_assert_max_num_queries):
    response = client.get(READY)
    assert response.status_code == 200
    body = response.json()
    assert body["statut"] == "pret"
    for part in ("base_de_donnees", "redis", "stockage", "migrations"):
        assert body["composants"][part] == "ok"
    # Polled every second: once the migrations are known applied, one SELECT 1 is all the database sees.
    with django_assert_max_num_queries(1):
        assert client.get(READY).status_code == 200


def test_probes_are_public_and_not_rate_limited(client):
    for _ in range(40):
        assert client.get(LIVE).status_code == 200
        assert client.get(READY).status_code == 200


def test_ready_names_redis_when_it_is_down_and_leaks_nothing(client, settings):
    settings.REDIS_URL = f"redis://:s3cr3t-password@127.0.0.1:{closed_port()}/0"
    response = client.get(READY)
    assert response.status_code == 503
    body = response.json()
    assert body["en_panne"] == ["redis"]
    assert body["composants"]["base_de_donnees"] == "ok"
    assert "s3cr3t" not in response.text and "127.0.0.1" not in response.text


def test_ready_names_the_storage_when_the_bucket_is_unreachable(client, unreachable_bucket):
    response = client.get(READY)
    assert response.status_code == 503
    assert response.json()["en_panne"] == ["stockage"]
    assert "chorus-unreachable" not in response.text


def test_ready_names_migrations_not_yet_applied(client):
    # A real unapplied migration: forget the record of the last one (the test's transaction restores it).
    MigrationRecorder.Migration.objects.filter(app="support").order_by("-id").first().delete()
    response = client.get(READY)
    assert response.status_code == 503
    assert response.json()["en_panne"] == ["migrations"]


def test_probes_only_answer_reads(client):
    assert client.post(READY).status_code == 405
    assert client.head(LIVE).status_code == 200


def test_probes_are_not_redirected_to_https_in_production(settings, client):
    shown = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECURE_REDIRECT_EXEMPT)",
        **PRODUCTION_ENV,
    )
    assert shown.stdout.strip().splitlines()[-1] == "['^sante/', '^metriques$']", shown.stderr
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = ["^sante/"]
    assert client.get(READY).status_code == 200
    assert client.get("/").status_code == 301

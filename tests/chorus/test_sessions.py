"""Sessions: the backend is a setting (SESSION_BACKEND, measured by bench/load.py); with Redis in front of
PostgreSQL (cached_db), a Redis outage must not sign anyone out nor break a page."""

import socket

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.chorus.test_settings import run_manage
from tests.conftest import verify_session
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_signed_in_pages_are_served_from_the_database_when_redis_is_down(client, settings):
    settings.SESSION_ENGINE = "chorus.sessions"
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    membership = MembershipFactory()
    verify_session(client, membership.user)
    assert Session.objects.exists()  # written to PostgreSQL even though Redis refused it
    response = client.get(reverse("structures:bank_account_list"))
    assert response.status_code == 200
    assert "Coordonnées bancaires" in response.text
    client.post(reverse("accounts:logout"))
    assert not Session.objects.exists()  # signing out works too


def test_cached_db_sessions_are_read_from_redis_when_it_is_up(client, settings):
    from django.core.cache import cache

    settings.SESSION_ENGINE = "chorus.sessions"
    membership = MembershipFactory()
    verify_session(client, membership.user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert cache.get(f"django.contrib.sessions.cached_db{key}") is not None


def test_session_backend_is_checked():
    result = run_manage("check", SESSION_BACKEND="files")
    assert result.returncode != 0
    assert "SESSION_BACKEND must be db, cached_db or cache" in result.stderr


def test_cached_db_sessions_spare_the_database_one_query_per_signed_in_page(settings):
    membership = MembershipFactory()
    url = reverse("structures:bank_account_list")
    counts = {}
    for engine in ("django.contrib.sessions.backends.db", "chorus.sessions"):
        settings.SESSION_ENGINE = engine
        client = Client()  # the session middleware picks its engine when the client's handler starts
        verify_session(client, membership.user)
        client.get(url)  # fills the cache
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts[engine] = len(queries)
    assert counts["chorus.sessions"] == counts["django.contrib.sessions.backends.db"] - 1

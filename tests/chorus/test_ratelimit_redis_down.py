"""Defect 1 of issue 12: with Redis unreachable, rate-limited POSTs must not answer 500. The limits fall back
to a per-process local-memory counter (never to no limit), and the outage is logged."""

import logging
import os
import socket

import pytest
from django.utils import timezone

from chorus import ratelimit as ratelimit_module
from chorus.ratelimit import FallbackRedisCache
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def active_user():
    return UserFactory(email="luc.roux@example.fr", activated_at=timezone.now())


@pytest.fixture
def redis_down(settings, monkeypatch):
    """Every Redis-backed cache, configured as in production, pointing at a port nobody listens on."""
    monkeypatch.setattr(FallbackRedisCache, "_redis_down_until", 0.0)  # no outage left by another test
    url = f"redis://127.0.0.1:{closed_port()}/0"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url},
        "ratelimit": {"BACKEND": "chorus.ratelimit.FallbackRedisCache", "LOCATION": url},
    }


def test_sign_in_reset_and_ticket_keep_working_when_redis_is_down(
    client, redis_down, active_user, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.WARNING, logger="chorus.ratelimit")
    wrong = client.post("/compte/connexion/", {"username": active_user.email, "password": "Faux-2024!"})
    assert wrong.status_code == 200
    assert "Adresse électronique ou mot de passe incorrect" in wrong.text
    with django_capture_on_commit_callbacks(execute=True):
        right = client.post("/compte/connexion/", {"username": active_user.email, "password": TEST_PASSWORD})
    assert right["Location"] == "/compte/connexion/code/"
    assert client.post("/compte/connexion/code/", {"action": "verify", "code": "000000"}).status_code == 200
    assert client.post("/compte/mot-de-passe-oublie/", {"email": active_user.email}).status_code == 302
    ticket = {
        "subject": "Connexion impossible",
        "message": "Je n'ai pas reçu le code.",
        "email": "jeanne.martin@example.fr",
        "captcha_0": "clef",
        "captcha_1": "PASSED",
    }
    assert client.post("/aide/tickets/envoyer/", ticket).status_code == 302
    assert any("Redis" in record.getMessage() and "local" in record.getMessage() for record in caplog.records)


def test_limits_still_hold_in_each_process_when_redis_is_down(client, redis_down, active_user):
    for _ in range(60):
        client.post("/compte/connexion/", {"username": "x@example.fr", "password": "y"})
    response = client.post("/compte/connexion/", {"username": active_user.email, "password": "y"})
    assert response.status_code == 429


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set: no Redis to come back to")
def test_counting_goes_back_to_redis_once_the_retry_delay_is_over(monkeypatch):
    from django.core.cache.backends.redis import RedisCache

    monkeypatch.setattr(FallbackRedisCache, "_redis_down_until", 0.0)
    clock = [1000.0]
    monkeypatch.setattr(ratelimit_module.time, "monotonic", lambda: clock[0])
    down = FallbackRedisCache(f"redis://127.0.0.1:{closed_port()}/0", {})
    assert down.add("rl-probe", 1, 60) is True  # counted locally, outage noted
    up = FallbackRedisCache(os.environ["REDIS_URL"], {})
    real = RedisCache(os.environ["REDIS_URL"], {})
    real.delete("rl-probe")
    assert up.add("rl-probe", 1, 60) is False  # still within the retry delay: the local counter answers
    assert real.get("rl-probe") is None
    clock[0] += ratelimit_module.REDIS_RETRY_SECONDS
    assert up.add("rl-probe", 1, 60) is True  # Redis again
    assert real.get("rl-probe") == 1
    real.delete("rl-probe")

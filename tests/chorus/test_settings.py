import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "chorus-agri.example",
    "SITE_URL": "https://chorus-agri.example",
    "DATABASE_URL": "postgres://chorus@db.invalid:5432/chorus",
    "REDIS_URL": "redis://redis.invalid:6379/0",
}


def run_manage(*args, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "CAPTCHA_TEST_MODE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**base, "DJANGO_SETTINGS_MODULE": "chorus.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_pass_check_deploy_without_warning():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"REDIS_URL": ""}, "REDIS_URL"),
        ({"CAPTCHA_TEST_MODE": "true"}, "CAPTCHA_TEST_MODE"),
        ({"DJANGO_ENV": "staging"}, "DJANGO_ENV"),
    ],
)
def test_production_refuses_unsafe_configuration(override, message):
    result = run_manage("check", **{**PRODUCTION_ENV, **override})
    assert result.returncode != 0
    assert message in result.stderr


def test_production_rate_limits_fall_back_to_local_memory_when_redis_is_down():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CACHES[settings.RATELIMIT_USE_CACHE])",
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stderr
    assert "chorus.ratelimit.FallbackRedisCache" in result.stdout
    assert "redis://redis.invalid:6379/0" in result.stdout


def test_seed_demo_is_refused_in_production():
    result = run_manage("seed_demo", **PRODUCTION_ENV)
    assert result.returncode != 0
    assert "refused" in result.stderr


def test_french_locale_and_paris_time():
    assert settings.LANGUAGE_CODE == "fr"
    assert settings.TIME_ZONE == "Europe/Paris"
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0


@pytest.mark.django_db
def test_private_uploads_are_never_served_by_url(client):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    name = default_storage.save("rib/secret.pdf", ContentFile(b"%PDF-1.4 private"))
    media_root = os.path.realpath(settings.MEDIA_ROOT)
    assert not media_root.startswith(os.path.realpath(settings.STATIC_ROOT))
    assert all(not media_root.startswith(os.path.realpath(d)) for d in settings.STATICFILES_DIRS)
    for url in (f"/{name}", f"/static/{name}", f"/media/{name}"):
        assert client.get(url).status_code in {302, 404}

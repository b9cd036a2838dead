import inspect
import os
from pathlib import Path

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in the test thread; Django's live_server and the ORM are safe to
# use from it in tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PROJECT_DIR = Path(settings.BASE_DIR).resolve()

# Concurrency tests need row locks and concurrent writers: PostgreSQL (CI always runs them there).
requires_postgresql = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="needs PostgreSQL (set DATABASE_URL): SQLite has neither row locks nor concurrent writers",
)


class FailOnUnknownVariable(str):
    """`string_if_invalid` that fails on unknown variables in our own templates (Django admin and other
    libraries rely on empty unknown variables, so theirs are left alone)."""

    def __mod__(self, name):
        for frame_info in inspect.stack()[1:]:
            context = frame_info.frame.f_locals.get("context")
            template = getattr(context, "template", None)
            origin = getattr(getattr(template, "origin", None), "name", None)
            if origin:
                path = Path(str(origin)).resolve()
                if path.is_relative_to(PROJECT_DIR) and ".venv" not in path.parts:
                    pytest.fail(f"Unknown template variable {name!r} in {path.relative_to(PROJECT_DIR)}")
                return ""
        return ""

    def __bool__(self):
        return True


def pytest_configure(config):
    settings.TEMPLATES[0]["OPTIONS"]["string_if_invalid"] = FailOnUnknownVariable("%s")


def pytest_collection_modifyitems(config, items):
    """Transactional tests (browser journeys, concurrency) empty every table when they end, data migrations'
    rows included (beneficiary categories, products and rates, groups). Serialized rollback restores them."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and "serialized_rollback" not in marker.kwargs:
            item.add_marker(
                pytest.mark.django_db(*marker.args, **marker.kwargs, serialized_rollback=True), append=False
            )


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
    yield


def verify_session(client, user):
    """Sign `user` in on a test client as the portal does: password and e-mailed code (django-otp verified)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_email.models import EmailDevice

    from accounts.services import LOGIN_DEVICE_NAME

    client.force_login(user)
    device, _ = EmailDevice.objects.get_or_create(
        user=user, name=LOGIN_DEVICE_NAME, defaults={"confirmed": True}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def admin_client(client, admin_user):
    """Django admin needs a session verified by the e-mailed code."""
    return verify_session(client, admin_user)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Serialized rollback (see pytest_collection_modifyitems) reads the database's initial contents from the
    connection wrapper, but browser journeys can run with another wrapper than the one that created the
    database (Playwright's event loop); keep the contents on the wrapper class so every wrapper finds them."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        contents = getattr(connection, "_test_serialized_contents", None)
        if contents is not None:
            type(connection)._test_serialized_contents = contents

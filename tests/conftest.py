import inspect
import os
import socket
import uuid
from pathlib import Path

import pytest
from botocore.config import Config as BotoConfig
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
    _skip_or_require_s3(items)
    _serialized_rollback(items)


def _skip_or_require_s3(items):
    needing = [item for item in items if item.get_closest_marker("s3")]
    if not needing or S3_CONFIGURED:
        return
    reason = "OBJECT STORAGE TESTS SKIPPED: S3_BUCKET is not set (bash .ci/run starts moto's S3 server)."
    if os.environ.get("S3_REQUIRED") == "1":
        raise pytest.UsageError(reason + " S3_REQUIRED=1 forbids skipping them.")
    for item in needing:
        item.add_marker(pytest.mark.skip(reason=reason))


def _serialized_rollback(items):
    """Transactional tests (browser journeys, concurrency) empty every table when they end, data migrations'
    rows included (beneficiary categories, products and rates, groups). Serialized rollback restores them."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and "serialized_rollback" not in marker.kwargs:
            item.add_marker(
                pytest.mark.django_db(*marker.args, **marker.kwargs, serialized_rollback=True), append=False
            )


# Object storage (S3_BUCKET set, as CI does with moto's server): storage tests run against it, and so does the
# whole suite. Without it they are skipped with a loud reason, unless S3_REQUIRED=1 (CI), where they fail.
S3_CONFIGURED = bool(settings.S3_BUCKET)
requires_s3 = pytest.mark.s3


@pytest.fixture(scope="session", autouse=True)
def _s3_bucket():
    """moto's server starts empty: create the bucket once (a real bucket already exists, and is kept)."""
    if not S3_CONFIGURED:
        return
    from django.core.files.storage import default_storage

    client = default_storage.connection.meta.client
    try:
        client.head_bucket(Bucket=settings.S3_BUCKET)
    except client.exceptions.ClientError:
        client.create_bucket(Bucket=settings.S3_BUCKET)


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Each test gets its own private folder, and, with object storage, its own prefix in the bucket."""
    settings.MEDIA_ROOT = tmp_path / "private"
    if S3_CONFIGURED:
        default = settings.STORAGES["default"]
        options = {**default["OPTIONS"], "location": f"tests/{uuid.uuid4().hex}"}
        settings.STORAGES = {**settings.STORAGES, "default": {**default, "OPTIONS": options}}


def local_files(settings):
    """Every file under the test's local private folder (it must stay empty when a bucket is configured)."""
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _bucket_storage(settings, endpoint: str, timeout: float):
    """Point the default storage at an S3 endpoint of our choosing, with a short timeout and no retry."""
    settings.S3_BUCKET = "chorus-unreachable"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "chorus-unreachable",
                "endpoint_url": endpoint,
                "access_key": "test",
                "secret_key": "test-secret",
                "region_name": "us-east-1",
                "default_acl": None,
                "file_overwrite": False,
                "client_config": BotoConfig(
                    connect_timeout=timeout,
                    read_timeout=timeout,
                    retries={"max_attempts": 1, "mode": "standard"},
                    s3={"addressing_style": "path"},
                ),
            },
        },
    }


@pytest.fixture(params=["down", "slow"])
def unreachable_bucket(request, settings):
    """A bucket that refuses connections (nothing listens on the port) or accepts them and never answers
    (a listening socket nobody reads: the read times out). Real sockets, no mock."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    if request.param == "down":
        sock.close()
    else:
        sock.listen(16)
    _bucket_storage(settings, f"http://127.0.0.1:{port}", timeout=0.5)
    yield request.param
    if request.param == "slow":
        sock.close()


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

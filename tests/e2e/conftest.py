"""Browser journeys on Debian's Chromium. No browser is ever downloaded: `playwright install` cannot run here.

Without Chromium the journeys are skipped with a loud reason, unless E2E_REQUIRED=1 (CI), where they fail.
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--no-sandbox",
]


E2E_DIR = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    journeys = [item for item in items if item.path.is_relative_to(E2E_DIR)]
    for item in journeys:
        item.add_marker(pytest.mark.e2e)
    if not journeys or os.path.exists(CHROMIUM):
        return
    reason = f"BROWSER TESTS SKIPPED: Chromium not found at {CHROMIUM} (apt-get install chromium)."
    if os.environ.get("E2E_REQUIRED") == "1":
        raise pytest.UsageError(reason + " E2E_REQUIRED=1 forbids skipping them.")
    for item in journeys:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session", autouse=True)
def _serialized_rows_for_every_connection(django_db_setup):
    """Playwright's sync API marks an event loop as running in the test thread; Django then keeps database
    connections per async context, so a journey's connection is a new object, without the rows serialized
    when the test database was created, and serialized rollback silently restores nothing (a journey that
    runs after a transactional test found no beneficiary categories). Share those rows with every
    connection of the same class."""
    from django.db import connections

    for alias in connections:
        connection = connections[alias]
        if hasattr(connection, "_test_serialized_contents"):
            type(connection)._test_serialized_contents = connection._test_serialized_contents


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "fr-FR", "timezone_id": "Europe/Paris"}


@pytest.fixture
def page(page):
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def sign_in(live_server, context):
    """Put an authenticated session in the browser for journeys that are not about signing in
    (the sign-in journey itself goes through the real form and e-mailed code)."""
    from django.conf import settings
    from django.test import Client

    from tests.conftest import verify_session

    def _sign_in(user, browser_context=None):
        client = verify_session(Client(), user)
        (browser_context or context).add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        return user

    return _sign_in

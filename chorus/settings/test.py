"""Settings for the test suite: the base settings, with what a test run needs on top.

Importing this module imports the base package first, so the overrides are plain assignments: DJANGO_ENV=test,
the captcha's test mode (« passed » is accepted), tasks run inline (the real-worker test switches that off
itself), a fast password hasher and the tests' own mail templates.
"""

from chorus.settings import *  # noqa: F403
from chorus.settings import BASE_DIR, PASSWORD_HASHERS, TEMPLATES

DJANGO_ENV = "test"
CAPTCHA_TEST_MODE = True
CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "tests" / "templates"]
MEDIA_ROOT = BASE_DIR / "var" / "test-private"

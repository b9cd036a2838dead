"""Settings for the test suite: the base settings, with the environment of a test run.

Only what tests need differs: DJANGO_ENV=test, the captcha's test mode, tasks run inline (the real-worker
test switches that off itself) and a fast password hasher.
"""

import os

os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("CAPTCHA_TEST_MODE", "true")

from chorus.settings import *  # noqa: F403
from chorus.settings import BASE_DIR, PASSWORD_HASHERS, TEMPLATES

CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "tests" / "templates"]
MEDIA_ROOT = BASE_DIR / "var" / "test-private"

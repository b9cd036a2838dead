"""Settings of the gunicorn run in bench/firm.py: the portal's own settings, without debug, plus a bare page."""

from chorus.settings import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["127.0.0.1"]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

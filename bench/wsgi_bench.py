"""WSGI entry point of bench/firm.py's gunicorn run (the portal plus the bare yardstick view)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_bench")
application = get_wsgi_application()

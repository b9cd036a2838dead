from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class ChorusConfig(AppConfig):
    name = "chorus"
    verbose_name = "Chorus Agri"

    def ready(self):
        from django.conf import settings

        # Connects the Celery signals that carry the request id into tasks (web and worker processes).
        from chorus import observability

        if settings.SENTRY_DSN:
            observability.sentry_init(settings.SENTRY_DSN, environment=settings.DJANGO_ENV)


class ChorusAdminConfig(AdminConfig):
    """Django admin, on a site that requires the e-mailed sign-in code (chorus/admin_site.py)."""

    default_site = "chorus.admin_site.ChorusAdminSite"

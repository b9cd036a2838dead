from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class ChorusConfig(AppConfig):
    name = "chorus"
    verbose_name = "Chorus Agri"


class ChorusAdminConfig(AdminConfig):
    """Django admin, on a site that requires the e-mailed sign-in code (chorus/admin_site.py)."""

    default_site = "chorus.admin_site.ChorusAdminSite"

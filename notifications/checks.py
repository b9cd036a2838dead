from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility)
def unsubscribe_links_use_https(app_configs, **kwargs):
    """Mail providers honour one-click unsubscribe (RFC 8058) only for https links."""
    if settings.IS_PRODUCTION and not settings.SITE_URL.startswith("https://"):
        return [
            checks.Warning(
                "SITE_URL is not https: the List-Unsubscribe links of reminder mails will be ignored.",
                id="notifications.W001",
            )
        ]
    return []

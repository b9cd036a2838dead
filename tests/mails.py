"""Read what the portal mailed, as a user reading their inbox would."""

import re

from django.core import mail


def mailed_path(pattern: str) -> str:
    """The path of the newest mailed link matching `pattern` (e.g. "/compte/activer/")."""
    for message in reversed(mail.outbox):
        found = re.search(r"https?://[^/\s]+(" + pattern + r"[^\s]*)", message.body)
        if found:
            return found.group(1)
    raise AssertionError(f"no mail links to {pattern}: {[m.subject for m in mail.outbox]}")


def mailed_code() -> str:
    """The newest sign-in code mailed."""
    for message in reversed(mail.outbox):
        found = re.search(r"Votre code de connexion est : (\d{6})", message.body)
        if found:
            return found.group(1)
    raise AssertionError("no sign-in code mailed")

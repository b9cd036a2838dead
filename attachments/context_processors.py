from django.utils.functional import SimpleLazyObject

from attachments.selectors import approvals_summary


def approvals(request):
    """`approvals.manages_structures` and `approvals.pending_count` for the « Approbations » menu entry,
    computed at most once per page and only when a template reads them (one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"approvals": None}
    return {"approvals": SimpleLazyObject(lambda: approvals_summary(user=user))}

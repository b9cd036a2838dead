from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from chorus.ratelimit import exceeded, too_many_requests
from notifications import selectors, services
from notifications.forms import NotificationPreferencesForm
from notifications.models import Kind


@require_http_methods(["GET", "POST"])
def preferences(request):
    form = NotificationPreferencesForm(
        request.POST if request.method == "POST" else None,
        enabled=selectors.enabled_kinds(user=request.user),
    )
    if request.method == "POST" and form.is_valid():
        services.notification_preferences_update(user=request.user, enabled=form.enabled_kinds())
        messages.success(request, "Vos choix de notifications sont enregistrés.")
        return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {"form": form, "digest_above": settings.NOTIFICATIONS_DIGEST_ABOVE},
    )


# The link comes from a mail: no session, no CSRF token. A mail provider POSTs it with the body
# « List-Unsubscribe=One-Click » (RFC 8058); the signed token is the only credential, and it can only switch
# off reminders for the account it names.
@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    if exceeded(request, "unsubscribe", {"ip": ("ip", "60/h")}):
        return too_many_requests(request)
    try:
        user, kinds = services.unsubscribe_token_read(token)
    except services.InvalidUnsubscribeLink:
        return render(request, "notifications/unsubscribe_invalid.html", status=400)
    context = {"labels": [Kind(kind).label for kind in kinds], "all_kinds": len(kinds) == len(Kind.values)}
    if request.method == "POST":
        services.notifications_opt_out(user=user, kinds=kinds)
        return render(request, "notifications/unsubscribe_done.html", context)
    return render(request, "notifications/unsubscribe.html", context)

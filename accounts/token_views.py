"""« Mon compte » → « Accès API »: thin views over accounts.api_tokens."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import api_tokens
from accounts.models import ApiToken
from accounts.token_forms import ApiTokenForm
from chorus.ratelimit import exceeded, too_many_requests, value_key

NEW_SECRET_SESSION_KEY = "api_token_secret_to_show"  # noqa: S105 — a session key name
CREATIONS_PER_HOUR = "20/h"  # each creation sends a mail


@require_http_methods(["GET", "POST"])
def token_list(request):
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST":
        if exceeded(request, "api-token", {"account": (value_key(str(request.user.pk)), CREATIONS_PER_HOUR)}):
            return too_many_requests(request)
        if form.is_valid():
            try:
                token, secret = api_tokens.api_token_create(user=request.user, **form.cleaned_data)
            except api_tokens.ApiTokenError as exc:
                form.add_error(exc.field, str(exc))
            else:
                request.session[NEW_SECRET_SESSION_KEY] = {"id": token.pk, "secret": secret}
                return redirect("accounts:api_token_created")
    tokens = ApiToken.objects.filter(user=request.user).order_by("revoked_at", "-created_at")[:100]
    return render(request, "accounts/api_tokens.html", {"form": form, "tokens": tokens})


@require_safe
def token_created(request):
    """The secret, shown once: it leaves the session as soon as this page is shown."""
    shown = request.session.pop(NEW_SECRET_SESSION_KEY, None)
    if not shown:
        return redirect("accounts:api_tokens")
    token = ApiToken.objects.filter(user=request.user, pk=shown["id"]).first()
    if token is None:
        raise Http404
    return render(request, "accounts/api_token_created.html", {"token": token, "secret": shown["secret"]})


@require_POST
def token_revoke(request, pk):
    try:
        token = api_tokens.api_token_revoke(user=request.user, token_id=pk)
    except ApiToken.DoesNotExist:
        raise Http404 from None
    messages.success(request, f"Le jeton « {token.name} » est révoqué : il ne permet plus d'accéder à l'API.")
    return redirect("accounts:api_tokens")

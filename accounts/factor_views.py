"""« Mon compte » → « Facteurs d'authentification »: thin views over accounts.factors."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from accounts import factors, services
from accounts.factor_forms import ConfirmChangeForm, FactorCodeForm
from accounts.services import AccountError
from accounts.views import _code_send_limited
from chorus.ratelimit import exceeded, too_many_requests, value_key

BACKUP_CODES_SESSION_KEY = "backup_codes_to_show"
# Wrong codes are capped per account by accounts.services.second_factor_verify; this bounds the requests.
FACTOR_POST_RATE = "30/h"
# URL slugs of the removable factors.
REMOVABLE = {"application": factors.TOTP, "codes-de-secours": factors.BACKUP_CODES}


def _limited(request) -> bool:
    return exceeded(request, "factors", {"account": (value_key(str(request.user.pk)), FACTOR_POST_RATE)})


@require_safe
def factor_list(request):
    return render(
        request,
        "accounts/factors.html",
        {"factors": factors.user_factors(user=request.user), "email": request.user.email},
    )


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def totp_add(request):
    try:
        device = factors.totp_enrolment_start(user=request.user)
    except AccountError as exc:
        messages.info(request, str(exc))
        return redirect("accounts:factors")
    form = FactorCodeForm(
        request.POST if request.method == "POST" else None,
        factor=factors.TOTP,
        label="Code à 6 chiffres affiché par l'application",
    )
    if request.method == "POST":
        if _limited(request):
            return too_many_requests(request)
        if form.is_valid():
            try:
                codes = factors.totp_enrolment_confirm(user=request.user, code=form.cleaned_data["code"])
            except AccountError as exc:
                form.add_error("code", str(exc))
            else:
                messages.success(request, "L'application d'authentification est ajoutée à votre compte.")
                if codes:
                    request.session[BACKUP_CODES_SESSION_KEY] = codes
                    return redirect("accounts:backup_codes_show")
                return redirect("accounts:factors")
    return render(
        request,
        "accounts/totp_add.html",
        {"form": form, "qr_svg": factors.totp_qr_svg(device), "secret": factors.totp_secret_text(device)},
    )


@require_safe
def backup_codes_show(request):
    """The new backup codes, once: they leave the session as this page is rendered."""
    codes = request.session.pop(BACKUP_CODES_SESSION_KEY, None)
    if not codes:
        return redirect("accounts:factors")
    return render(request, "accounts/backup_codes.html", {"codes": codes})


def _send_confirmation_code(request):
    """« Recevoir un code par courriel » on a confirmation page: the sign-in code's device and limits."""
    user = request.user
    if _code_send_limited(request, user, increment=False):
        return too_many_requests(request)
    try:
        services.login_code_send(user=user, template="accounts/emails/factor_change_code")
    except AccountError as exc:
        messages.warning(request, str(exc))
    else:
        _code_send_limited(request, user, increment=True)
        messages.success(
            request,
            f"Un code a été envoyé à {user.email}. Choisissez « Code reçu par courriel » et saisissez-le.",
        )
    return redirect(request.path)


def _confirm_form(request, user_factors):
    return ConfirmChangeForm(
        request.POST if request.method == "POST" else None, choices=user_factors.confirmers
    )


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def factor_remove(request, slug):
    factor = REMOVABLE.get(slug)
    if factor is None:
        raise Http404
    user_factors = factors.user_factors(user=request.user)
    present = user_factors.totp if factor == factors.TOTP else user_factors.backup
    if present is None:
        return redirect("accounts:factors")
    if request.method == "POST" and request.POST.get("action") == "send_code":
        return _send_confirmation_code(request)
    form = _confirm_form(request, user_factors)
    if request.method == "POST":
        if _limited(request):
            return too_many_requests(request)
        if form.is_valid():
            try:
                factors.factor_remove(
                    user=request.user,
                    factor=factor,
                    confirm_with=form.cleaned_data["confirm_with"],
                    code=form.cleaned_data["code"],
                )
            except AccountError as exc:
                form.add_error("code", str(exc))
            else:
                messages.success(request, f"« {factors.LABELS[factor]} » est retiré de votre compte.")
                return redirect("accounts:factors")
    return render(
        request,
        "accounts/factor_remove.html",
        {"form": form, "label": factors.LABELS[factor], "factor": factor},
    )


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def backup_codes_regenerate(request):
    user_factors = factors.user_factors(user=request.user)
    if not (user_factors.totp or user_factors.backup):
        # Nothing but the e-mailed code: the first codes come with the authenticator app.
        return redirect("accounts:factors")
    if request.method == "POST" and request.POST.get("action") == "send_code":
        return _send_confirmation_code(request)
    form = _confirm_form(request, user_factors)
    if request.method == "POST":
        if _limited(request):
            return too_many_requests(request)
        if form.is_valid():
            try:
                codes = factors.backup_codes_regenerate(
                    user=request.user,
                    confirm_with=form.cleaned_data["confirm_with"],
                    code=form.cleaned_data["code"],
                )
            except AccountError as exc:
                form.add_error("code", str(exc))
            else:
                messages.success(request, "Vos nouveaux codes de secours remplacent les anciens.")
                request.session[BACKUP_CODES_SESSION_KEY] = codes
                return redirect("accounts:backup_codes_show")
    return render(request, "accounts/backup_codes_regenerate.html", {"form": form})

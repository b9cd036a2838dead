import io
from datetime import timedelta

from captcha.models import CaptchaStore
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe
from django_otp import login as otp_login
from ranged_response import RangedFileResponse

from accounts import captcha_audio as audio
from accounts import factors, services
from accounts.factor_forms import FactorCodeForm, LoginFactorForm
from accounts.forms import (
    CaptchaForm,
    ChangePasswordForm,
    ChoosePasswordForm,
    DeactivateForm,
    EmailChangeForm,
    LoginCodeForm,
    LoginForm,
    PasswordResetRequestForm,
    PersonalInformationForm,
    SignupForm,
)
from accounts.models import AccountLink, User
from accounts.password_validation import RULES
from chorus.ratelimit import client_ip, exceeded, too_many_requests, value_key

CAPTCHA_SESSION_KEY = "signup_captcha_passed_at"
CAPTCHA_PASS_VALIDITY = timedelta(minutes=15)
PENDING_SESSION_KEY = "login_pending"

SIGNUP_LIMITS = {"ip": ("ip", "10/h")}
CAPTCHA_LIMITS = {"ip": ("ip", "60/h")}
# Each listen runs a speech synthesiser: a few per captcha is plenty for a person.
CAPTCHA_AUDIO_LIMITS = {"ip": ("ip", "30/h")}
SIGNIN_IP_LIMITS = {"ip": ("ip", "60/h")}
# OWASP (Authentication and Credential Stuffing cheat sheets): wrong passwords are throttled per (account, IP)
# and per IP, never per account alone, or anyone could lock a known account. Per account, many failures only
# add a captcha: its owner still signs in, and still has to pass the e-mailed code. Failure counters are read
# before trying and bumped after a failure; django-ratelimit refuses once the count is *above* the rate,
# hence N - 1.
SIGNIN_FAILURES_PER_ACCOUNT_AND_IP = 10
SIGNIN_PAIR_RATE = f"{SIGNIN_FAILURES_PER_ACCOUNT_AND_IP - 1}/h"
SIGNIN_FAILURES_BEFORE_CAPTCHA = 5
SIGNIN_CAPTCHA_RATE = f"{SIGNIN_FAILURES_BEFORE_CAPTCHA - 1}/h"
# Codes mailed per account an hour, by « Renvoyer un code » or by signing in again (peeked before sending, hence
# 10 - 1 as above).
CODES_PER_HOUR = 10
CODE_SEND_RATE = f"{CODES_PER_HOUR - 1}/h"
CODE_CHECK_LIMITS = {"ip": ("ip", "60/h")}
RESET_IP_LIMITS = {"ip": ("ip", "20/h")}
RESET_EMAIL_RATE = "5/h"


def _posted(request):
    """The POST data to bind a form to (even when empty), or None on GET."""
    return request.POST if request.method == "POST" else None


def _captcha_passed(request) -> bool:
    passed_at = request.session.get(CAPTCHA_SESSION_KEY)
    return bool(passed_at) and timezone.now().timestamp() - passed_at < CAPTCHA_PASS_VALIDITY.total_seconds()


def _typed_values(request) -> dict:
    """What the user typed, to show again untouched (never the captcha answer)."""
    return {k: v for k, v in request.POST.items() if k in SignupForm.base_fields}


@login_not_required
@require_http_methods(["GET", "POST"])
def signup(request):
    captcha_passed = _captcha_passed(request)
    form = SignupForm()
    captcha_form = CaptchaForm()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "captcha":
            if exceeded(request, "captcha", CAPTCHA_LIMITS):
                return too_many_requests(request)
            form = SignupForm(initial=_typed_values(request))
            captcha_form = CaptchaForm(request.POST)
            if captcha_form.is_valid():
                request.session[CAPTCHA_SESSION_KEY] = timezone.now().timestamp()
                captcha_passed = True
        elif action == "new_image":
            form = SignupForm(initial=_typed_values(request))
        else:
            form = SignupForm(request.POST)
            if not captcha_passed:
                captcha_form = CaptchaForm(request.POST)
                captcha_passed = captcha_form.is_valid()
            if form.is_valid() and captcha_passed:
                email = form.cleaned_data["email"]
                if exceeded(request, "signup", {**SIGNUP_LIMITS, "email": (value_key(email), "3/h")}):
                    return too_many_requests(request)
                services.user_signup(
                    email=email, **{f: form.cleaned_data[f] for f in PersonalInformationForm.Meta.fields}
                )
                request.session.pop(CAPTCHA_SESSION_KEY, None)
                request.session["signup_email"] = email
                return redirect("accounts:signup_done")
            if not captcha_passed and not captcha_form.errors:
                captcha_form.add_error(
                    "captcha", "Recopiez les caractères de l'image puis cliquez sur « Valider le Captcha »."
                )
    return render(
        request,
        "accounts/signup.html",
        {"form": form, "captcha_form": captcha_form, "captcha_passed": captcha_passed},
    )


@login_not_required
@require_safe
def captcha_audio(request, key):
    """The captcha's letters read in French (see accounts/captcha_audio.py), under the URL name
    django-simple-captcha's widget links to."""
    if not audio.is_available():
        raise Http404
    if exceeded(request, "captcha-audio", CAPTCHA_AUDIO_LIMITS):
        return too_many_requests(request)
    store = CaptchaStore.objects.filter(hashkey=key, expiration__gt=timezone.now()).first()
    if store is None:
        return HttpResponse(status=410)  # gone, as the library answers: crawlers forget the address
    try:
        wav, _engine = audio.challenge_wav(store.challenge)
    except audio.AudioUnavailable:
        raise Http404 from None
    # Ranges let browsers' audio players seek and replay.
    response = RangedFileResponse(request, io.BytesIO(wav), content_type="audio/wav")
    response["Content-Disposition"] = 'attachment; filename="captcha.wav"'
    return response


@login_not_required
@require_safe
def signup_done(request):
    email = request.session.get("signup_email")
    if not email:
        return redirect("accounts:signup")
    return render(
        request,
        "accounts/signup_done.html",
        {"email": email, "minutes": int(settings.ACCOUNT_LINK_VALIDITY.total_seconds() // 60)},
    )


def _link_problem(request, reason: str, purpose: str):
    return render(
        request,
        "accounts/link_problem.html",
        {
            "reason": reason,
            "purpose": purpose,
            "minutes": int(settings.ACCOUNT_LINK_VALIDITY.total_seconds() // 60),
        },
        status=410 if reason in {"expired", "used"} else 404,
    )


def _choose_password(request, key: str, purposes: set[str], purpose: str):
    try:
        link = services.account_link_get(key=key, purposes=purposes)
    except services.LinkProblem as problem:
        return _link_problem(request, problem.reason, purpose)
    form = ChoosePasswordForm(link.user, _posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.account_link_set_password(
                key=key, purposes=purposes, password=form.cleaned_data["new_password1"]
            )
        except services.LinkProblem as problem:
            return _link_problem(request, problem.reason, purpose)
        messages.success(
            request,
            "Votre compte est activé. Vous pouvez maintenant vous connecter."
            if purpose == "activation"
            else "Votre mot de passe est modifié. Vous pouvez maintenant vous connecter.",
        )
        return redirect("accounts:login")
    return render(
        request,
        "accounts/choose_password.html",
        {"form": form, "rules": RULES, "purpose": purpose, "account_email": link.user.email},
    )


@login_not_required
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def activate(request, key):
    # A reset link of a never-activated account is an activation link too (the guide's restart path).
    return _choose_password(request, key, {AccountLink.Purpose.ACTIVATION}, "activation")


@login_not_required
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def reset_confirm(request, key):
    return _choose_password(request, key, {AccountLink.Purpose.PASSWORD_RESET}, "reset")


def _safe_next(request, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, request.is_secure()):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@login_not_required
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request, data=_posted(request))
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    captcha_form = None
    if request.method == "POST":
        email = (request.POST.get("username") or "").strip().lower()
        pair_key = {"account-ip": (value_key(f"{email} {client_ip(request)}"), SIGNIN_PAIR_RATE)}
        account_key = {"account": (value_key(email), SIGNIN_CAPTCHA_RATE)}
        if exceeded(request, "signin", SIGNIN_IP_LIMITS) or exceeded(
            request, "signin-failures", pair_key, increment=False
        ):
            return too_many_requests(request)
        if exceeded(request, "signin-failures", account_key, increment=False):
            captcha_form = CaptchaForm(request.POST)
            if not captcha_form.is_valid():
                # The password is not tried without the captcha: the answer says nothing about it.
                form = LoginForm(request, initial={"username": request.POST.get("username", "")})
                if "captcha_1" not in request.POST:
                    captcha_form = CaptchaForm()
                    messages.warning(
                        request,
                        "Pour protéger ce compte, plusieurs essais de mot de passe ayant échoué, recopiez les "
                        "caractères de l'image puis saisissez de nouveau votre mot de passe.",
                    )
                return render(
                    request,
                    "accounts/login.html",
                    {"form": form, "next": next_url, "captcha_form": captcha_form},
                )
        if form.is_valid():
            user = form.get_user()
            # With an authenticator app or backup codes, the user first picks a factor (nothing is mailed
            # unless they pick the e-mailed code); otherwise the code is mailed at once, as before.
            several = len(factors.user_factors(user=user).choices) > 1
            if not several:
                _send_code_at_sign_in(request, user)
            request.session.cycle_key()
            request.session[PENDING_SESSION_KEY] = {
                "user_id": user.pk,
                "backend": user.backend,
                "next": _safe_next(request, next_url),
                "started": timezone.now().timestamp(),
                "factor": None if several else factors.EMAIL,
            }
            return redirect("accounts:login_factor" if several else "accounts:login_code")
        exceeded(request, "signin-failures", {**pair_key, **account_key})
        if exceeded(request, "signin-failures", account_key, increment=False):
            captcha_form = CaptchaForm()  # asked from the next try on (a solved captcha is used up)
    return render(
        request, "accounts/login.html", {"form": form, "next": next_url, "captcha_form": captcha_form}
    )


def _code_send_limited(request, user: User, *, increment: bool) -> bool:
    """Every code mailed to an account counts, whether asked by « Renvoyer un code » or by signing in again."""
    return exceeded(
        request, "code-send", {"account": (value_key(str(user.pk)), CODE_SEND_RATE)}, increment=increment
    )


def _send_code_at_sign_in(request, user: User) -> None:
    """After the right password: mail a code unless one went out moments ago (the user types that one), the
    hourly limit of codes is reached, or the account's second factor is paused (the code page says so)."""
    if _code_send_limited(request, user, increment=False):
        messages.warning(
            request,
            "Trop de codes ont été envoyés à cette adresse en une heure : saisissez le dernier code reçu, "
            "ou réessayez plus tard.",
        )
        return
    try:
        services.login_code_send(user=user)
    except (services.CodeCooldown, services.SecondFactorPaused):
        return
    _code_send_limited(request, user, increment=True)


def _pending_user(request) -> tuple[User | None, dict]:
    pending = request.session.get(PENDING_SESSION_KEY) or {}
    started = pending.get("started", 0)
    if not pending or timezone.now().timestamp() - started > settings.OTP_EMAIL_TOKEN_VALIDITY * 3:
        return None, {}
    user = User.objects.filter(pk=pending["user_id"], is_active=True).first()
    return user, pending


def _sign_in_expired(request):
    request.session.pop(PENDING_SESSION_KEY, None)
    messages.info(
        request, "Votre connexion a expiré. Saisissez de nouveau votre adresse et votre mot de passe."
    )
    return redirect("accounts:login")


def _finish_sign_in(request, user: User, pending: dict, device):
    request.session.pop(PENDING_SESSION_KEY, None)
    login(request, user, backend=pending["backend"])  # cycles the session key again
    otp_login(request, device)
    return redirect(pending["next"])


@login_not_required
@require_http_methods(["GET", "POST"])
def login_factor(request):
    """After the password, for an account with several factors: which one confirms this sign-in."""
    user, pending = _pending_user(request)
    if user is None:
        return _sign_in_expired(request)
    choices = factors.user_factors(user=user).choices
    form = LoginFactorForm(_posted(request), choices=choices)
    if request.method == "POST" and form.is_valid():
        factor = form.cleaned_data["factor"]
        if factor == factors.EMAIL:
            _send_code_at_sign_in(request, user)
        request.session[PENDING_SESSION_KEY] = {**pending, "factor": factor}
        return redirect("accounts:login_code")
    return render(request, "accounts/login_factor.html", {"form": form})


def _login_other_factor(request, user: User, pending: dict, factor: str):
    """The sign-in code of the authenticator app or a backup code."""
    form = FactorCodeForm(_posted(request), factor=factor)
    if request.method == "POST":
        if exceeded(request, "code-check", CODE_CHECK_LIMITS):
            return too_many_requests(request)
        if form.is_valid():
            try:
                device = factors.factor_verify(user=user, factor=factor, code=form.cleaned_data["code"])
            except services.AccountError as exc:
                form.add_error("code", str(exc))
            else:
                return _finish_sign_in(request, user, pending, device)
    return render(request, "accounts/login_code.html", {"form": form, "factor": factor, "several": True})


@login_not_required
@require_http_methods(["GET", "POST"])
def login_code(request):
    user, pending = _pending_user(request)
    if user is None:
        return _sign_in_expired(request)
    factor = pending.get("factor", factors.EMAIL)
    if factor is None:
        return redirect("accounts:login_factor")
    if factor != factors.EMAIL:
        if factor not in factors.user_factors(user=user).choices:
            return redirect("accounts:login_factor")
        return _login_other_factor(request, user, pending, factor)
    form = LoginCodeForm()
    paused_until = services.second_factor_paused_until(user=user)
    if request.method == "GET" and paused_until is not None:
        messages.error(request, services.second_factor_pause_message(paused_until))
    if request.method == "POST":
        if request.POST.get("action") == "resend":
            if _code_send_limited(request, user, increment=False):
                return too_many_requests(request)
            try:
                services.login_code_send(user=user)
            except services.AccountError as exc:
                messages.warning(request, str(exc))
            else:
                _code_send_limited(request, user, increment=True)
                messages.success(
                    request, f"Un nouveau code a été envoyé à {user.email}. L'ancien code n'est plus valable."
                )
            return redirect("accounts:login_code")
        if exceeded(request, "code-check", CODE_CHECK_LIMITS):
            return too_many_requests(request)
        form = LoginCodeForm(request.POST)
        if form.is_valid():
            try:
                device = services.login_code_verify(user=user, code=form.cleaned_data["code"])
            except services.AccountError as exc:
                form.add_error("code", str(exc))
            else:
                return _finish_sign_in(request, user, pending, device)
    return render(
        request,
        "accounts/login_code.html",
        {
            "form": form,
            "factor": factors.EMAIL,
            "several": len(factors.user_factors(user=user).choices) > 1,
            "email": user.email,
            "minutes": settings.OTP_EMAIL_TOKEN_VALIDITY // 60,
        },
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def password_reset(request):
    form = PasswordResetRequestForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        if exceeded(request, "reset", {**RESET_IP_LIMITS, "email": (value_key(email), RESET_EMAIL_RATE)}):
            return too_many_requests(request)
        services.password_reset_request(email=email)
        messages.success(
            request,
            "Si un compte existe avec cette adresse, un courriel vient d'y être envoyé avec un lien valable "
            f"{int(settings.ACCOUNT_LINK_VALIDITY.total_seconds() // 60)} minutes pour choisir un nouveau mot de passe. "
            "Pensez à vérifier vos courriers indésirables.",
        )
        return redirect("home")
    return render(request, "accounts/password_reset.html", {"form": form})


@require_http_methods(["GET", "POST"])
def profile(request):
    form = PersonalInformationForm(_posted(request), instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_profile_update(user=request.user, **form.cleaned_data)
        messages.success(request, "Vos informations personnelles sont enregistrées.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def password_change(request):
    form = ChangePasswordForm(request.user, _posted(request))
    if request.method == "POST":
        if exceeded(request, "password-change", {"account": (value_key(str(request.user.pk)), "20/h")}):
            return too_many_requests(request)
        if form.is_valid():
            user = services.user_password_change(
                user=request.user, password=form.cleaned_data["new_password1"]
            )
            update_session_auth_hash(request, user)
            messages.success(request, "Votre mot de passe est modifié.")
            return redirect("accounts:profile")
    return render(request, "accounts/password_change.html", {"form": form, "rules": RULES})


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def email_change(request):
    form = EmailChangeForm(request.user, _posted(request))
    if request.method == "POST":
        if exceeded(request, "email-change", {"account": (value_key(str(request.user.pk)), "5/h")}):
            return too_many_requests(request)
        if form.is_valid():
            services.email_change_request(user=request.user, new_email=form.cleaned_data["new_email"])
            messages.success(
                request,
                f"Un lien de confirmation a été envoyé à {form.cleaned_data['new_email']}. Votre adresse de connexion "
                "changera lorsque vous l'aurez suivi.",
            )
            return redirect("accounts:profile")
    return render(request, "accounts/email_change.html", {"form": form})


@login_not_required
@require_http_methods(["GET", "POST"])
def email_change_confirm(request, key):
    try:
        services.account_link_get(key=key, purposes={AccountLink.Purpose.EMAIL_CHANGE})
    except services.LinkProblem as problem:
        return _link_problem(request, problem.reason, "email_change")
    if request.method == "POST":
        try:
            user = services.email_change_confirm(key=key)
        except services.LinkProblem as problem:
            return _link_problem(request, problem.reason, "email_change")
        except services.AccountError as exc:
            messages.error(request, str(exc))
            return redirect("home")
        if request.user.is_authenticated and request.user.pk == user.pk:
            messages.success(request, f"Votre adresse de connexion est désormais {user.email}.")
            return redirect("accounts:profile")
        messages.success(
            request, f"Votre adresse de connexion est désormais {user.email}. Connectez-vous avec elle."
        )
        return redirect("accounts:login")
    return render(request, "accounts/email_change_confirm.html")


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def deactivate(request):
    form = DeactivateForm(request.user, _posted(request))
    if request.method == "POST":
        if exceeded(request, "deactivate", {"account": (value_key(str(request.user.pk)), "10/h")}):
            return too_many_requests(request)
        if form.is_valid():
            services.user_deactivate(user=request.user)
            logout(request)
            messages.success(
                request, "Votre compte est désactivé. Un courriel de confirmation vous a été envoyé."
            )
            return redirect("home")
    return render(request, "accounts/deactivate.html", {"form": form})

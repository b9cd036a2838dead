import re

from captcha.fields import CaptchaField, CaptchaTextInput
from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm
from django.urls import reverse
from django.utils.html import format_html

from accounts import captcha_audio
from accounts.models import User

NAME_RE = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿŒœ][A-Za-zÀ-ÖØ-öø-ÿŒœ' .\-]*$")
PHONE_RE = re.compile(r"^\+?[0-9 .\-()]{6,20}$")


def clean_name(value: str, label: str) -> str:
    value = " ".join(value.split())
    if not NAME_RE.fullmatch(value):
        raise forms.ValidationError(
            f"Le {label} ne peut contenir que des lettres, des espaces, des tirets et des apostrophes."
        )
    return value


def clean_phone(value: str) -> str:
    value = value.strip()
    if value and not PHONE_RE.fullmatch(value):
        raise forms.ValidationError(
            "Saisissez un numéro de téléphone, par exemple 02 99 00 00 00 ou +33 6 00 00 00 00."
        )
    return value


class PersonalInformationForm(forms.ModelForm):
    """« Informations personnelles »: shared by « Créer un compte » and « Mon compte »."""

    class Meta:
        model = User
        fields = ["last_name", "first_name", "phone", "mobile", "contact_email"]
        labels = {
            "last_name": "Nom",
            "first_name": "Prénom",
            "phone": "Téléphone",
            "mobile": "Mobile",
            "contact_email": "Adresse électronique de contact",
        }
        help_texts = {
            "phone": "Par exemple : 02 99 00 00 00",
            "mobile": "Par exemple : 06 00 00 00 00",
            "contact_email": "Si elle est vide, votre adresse de connexion sert aussi d'adresse de contact.",
        }
        widgets = {
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "mobile": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "contact_email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }
        error_messages = {
            "last_name": {"required": "Saisissez votre nom."},
            "first_name": {"required": "Saisissez votre prénom."},
            "contact_email": {
                "invalid": "Saisissez une adresse électronique valide, par exemple nom@exemple.fr."
            },
        }

    def clean_last_name(self):
        return clean_name(self.cleaned_data["last_name"], "nom")

    def clean_first_name(self):
        return clean_name(self.cleaned_data["first_name"], "prénom")

    def clean_phone(self):
        return clean_phone(self.cleaned_data["phone"])

    def clean_mobile(self):
        return clean_phone(self.cleaned_data["mobile"])


class SignupForm(PersonalInformationForm):
    email = forms.EmailField(
        label="Adresse électronique de connexion",
        max_length=254,
        help_text="Elle vous servira à vous connecter. Format attendu : nom@exemple.fr",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": "Saisissez votre adresse électronique de connexion.",
            "invalid": "Saisissez une adresse électronique valide, par exemple nom@exemple.fr.",
        },
    )
    accept_terms = forms.BooleanField(
        label="J'accepte les conditions générales d'utilisation",
        error_messages={
            "required": "Vous devez accepter les conditions générales d'utilisation pour créer un compte."
        },
    )

    field_order = ["email", "last_name", "first_name", "phone", "mobile", "contact_email", "accept_terms"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accept_terms"].label = format_html(
            "J'accepte les <a href=\"{}\">conditions générales d'utilisation</a>", reverse("terms")
        )

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class AccessibleCaptchaInput(CaptchaTextInput):
    """The typed answer gets a real <label> (a fieldset legend would leave the text box unlabelled). The
    audio link is offered whenever a speech synthesiser is installed (the library asks for flite only)."""

    template_name = "captcha/widgets/captcha.html"
    use_fieldset = False

    def audio_url(self):
        return reverse("captcha-audio", kwargs={"key": self._key}) if captcha_audio.is_available() else None


class CaptchaForm(forms.Form):
    captcha = CaptchaField(
        label="Recopiez les caractères de l'image",
        widget=AccessibleCaptchaInput,
        error_messages={
            "invalid": "Les caractères saisis ne correspondent pas à l'image. Une nouvelle image vous est proposée.",
            "required": "Recopiez les caractères de l'image.",
        },
    )


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Adresse électronique de connexion",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
        error_messages={"invalid": "Saisissez une adresse électronique valide, par exemple nom@exemple.fr."},
    )
    error_messages = {
        "invalid_login": (
            "Adresse électronique ou mot de passe incorrect. Si vous venez de créer votre compte, activez-le "
            "d'abord avec le lien reçu par courriel ; sinon, utilisez « Mot de passe oublié ? »."
        ),
        "inactive": "Adresse électronique ou mot de passe incorrect.",
    }


class LoginCodeForm(forms.Form):
    code = forms.CharField(
        label="Code reçu par courriel",
        max_length=6,
        min_length=6,
        help_text="6 chiffres",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        error_messages={
            "required": "Saisissez le code reçu par courriel.",
            "min_length": "Le code comporte 6 chiffres.",
            "max_length": "Le code comporte 6 chiffres.",
        },
    )

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if not re.fullmatch(r"[0-9]{6}", code):
            raise forms.ValidationError("Le code comporte 6 chiffres.")
        return code


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label="Adresse électronique de connexion",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
        error_messages={
            "required": "Saisissez votre adresse électronique de connexion.",
            "invalid": "Saisissez une adresse électronique valide, par exemple nom@exemple.fr.",
        },
    )


class ChoosePasswordForm(auth_forms.SetPasswordForm):
    """« Choisissez votre mot de passe »: the rules are shown before typing and checked on the server."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields["new_password1"].label = "Mot de passe"
        self.fields["new_password1"].help_text = ""
        self.fields["new_password1"].widget.attrs.update({"aria-describedby": "password-rules"})
        self.fields["new_password2"].label = "Confirmation du mot de passe"


class ChangePasswordForm(auth_forms.PasswordChangeForm):
    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields["new_password1"].help_text = ""
        self.fields["new_password1"].widget.attrs.update({"aria-describedby": "password-rules"})


class EmailChangeForm(forms.Form):
    new_email = forms.EmailField(
        label="Nouvelle adresse électronique de connexion",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": "Saisissez la nouvelle adresse.",
            "invalid": "Saisissez une adresse électronique valide, par exemple nom@exemple.fr.",
        },
    )
    password = forms.CharField(
        label="Mot de passe actuel",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Saisissez votre mot de passe actuel."},
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_new_email(self):
        email = self.cleaned_data["new_email"].strip().lower()
        if email == self.user.email:
            raise forms.ValidationError("C'est déjà votre adresse de connexion.")
        return email

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("Mot de passe incorrect.")
        return password


class DeactivateForm(forms.Form):
    password = forms.CharField(
        label="Mot de passe actuel",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Saisissez votre mot de passe pour confirmer."},
    )
    confirm = forms.BooleanField(
        label="Je comprends que je ne pourrai plus me connecter avec ce compte",
        error_messages={"required": "Cochez la case pour confirmer la désactivation."},
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("Mot de passe incorrect.")
        return password


class AdminUserCreationForm(auth_forms.AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "last_name", "first_name")


class AdminUserChangeForm(auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

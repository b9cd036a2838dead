"""Forms of « Facteurs d'authentification » and of the factor choice at sign-in."""

from django import forms

from accounts import factors

CODE_HELP = {
    factors.TOTP: "Les 6 chiffres affichés en ce moment par votre application",
    factors.BACKUP_CODES: "Un de vos codes de secours, par exemple abcd-efgh ; chacun ne sert qu'une fois",
}
CODE_FORMAT_ERROR = {
    factors.EMAIL: "Le code reçu par courriel comporte 6 chiffres.",
    factors.TOTP: "Le code de l'application comporte 6 chiffres.",
    factors.BACKUP_CODES: "Un code de secours comporte 8 caractères (lettres et chiffres de 2 à 7).",
}


def clean_factor_code(factor: str, raw: str) -> str:
    """Only ASCII digits for the app and the e-mailed code (never other scripts' digits), the backup codes'
    own alphabet."""
    if factor in (factors.TOTP, factors.EMAIL):
        code = "".join(raw.split())
        if not factors.TOTP_CODE_RE.fullmatch(code):
            raise forms.ValidationError(CODE_FORMAT_ERROR[factor])
        return code
    code = factors.normalise_backup_code(raw)
    if not factors.BACKUP_CODE_RE.fullmatch(code):
        raise forms.ValidationError(CODE_FORMAT_ERROR[factor])
    return code


def code_field(factor: str, *, label: str, autofocus: bool = False) -> forms.CharField:
    attrs = {"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"}
    if factor == factors.TOTP:
        attrs["inputmode"] = "numeric"
    if autofocus:
        attrs["autofocus"] = True
    return forms.CharField(
        label=label,
        max_length=20,
        help_text=CODE_HELP[factor],
        widget=forms.TextInput(attrs=attrs),
        error_messages={
            "required": "Saisissez le code.",
            "max_length": CODE_FORMAT_ERROR[factor],
        },
    )


class FactorCodeForm(forms.Form):
    """One code of a known factor: the app's first code at enrolment, or a code at sign-in."""

    def __init__(self, *args, factor: str, label: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.factor = factor
        self.fields["code"] = code_field(factor, label=label or factors.LABELS[factor], autofocus=True)

    def clean_code(self):
        return clean_factor_code(self.factor, self.cleaned_data["code"])


class LoginFactorForm(forms.Form):
    factor = forms.ChoiceField(
        label="Comment souhaitez-vous confirmer votre connexion ?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choisissez un facteur d'authentification.",
            "invalid_choice": "Choisissez un des facteurs proposés.",
        },
    )

    def __init__(self, *args, choices: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["factor"].choices = [(choice, factors.LABELS[choice]) for choice in choices]
        self.fields["factor"].initial = factors.EMAIL


class ConfirmChangeForm(forms.Form):
    """A change to the factors is confirmed by a current code of the app or a backup code."""

    confirm_with = forms.ChoiceField(
        label="Confirmer avec",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choisissez avec quel facteur confirmer.",
            "invalid_choice": "Choisissez un des facteurs proposés.",
        },
    )
    code = forms.CharField(
        label="Code actuel",
        max_length=20,
        help_text="Les 6 chiffres affichés par votre application ou reçus par courriel, ou un de vos codes de secours",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
        error_messages={"required": "Saisissez un code actuel pour confirmer."},
    )

    def __init__(self, *args, choices: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confirm_with"].choices = [(choice, factors.LABELS[choice]) for choice in choices]
        if choices:
            self.fields["confirm_with"].initial = choices[0]

    def clean(self):
        cleaned = super().clean()
        factor, raw = cleaned.get("confirm_with"), cleaned.get("code")
        if factor and raw:
            try:
                cleaned["code"] = clean_factor_code(factor, raw)
            except forms.ValidationError as error:
                self.add_error("code", error)
        return cleaned

"""Password rules (CNIL délibération 2022-100): at least 12 characters mixing upper case, lower case, digit
and special character, not containing the e-mail or the names, not a common password.

RULES is also what the password pages show before the user types, ticked live by static/js/password-rules.js.
"""

import re

from django.core.exceptions import ValidationError

RULES = [
    ("length", "12 caractères au minimum"),
    ("upper", "une lettre majuscule"),
    ("lower", "une lettre minuscule"),
    ("digit", "un chiffre"),
    ("special", "un caractère spécial (par exemple ! ? % & * @ #)"),
]

CHECKS = {
    "upper": re.compile(r"[A-ZÀ-ÖØ-Þ]"),
    "lower": re.compile(r"[a-zß-öø-ÿ]"),
    "digit": re.compile(r"[0-9]"),
    "special": re.compile(r"[^\w\s]|_"),
}


class ComplexityValidator:
    def validate(self, password, user=None):
        missing = [label for code, label in RULES if code in CHECKS and not CHECKS[code].search(password)]
        if missing:
            raise ValidationError(
                "Le mot de passe doit contenir au moins " + ", ".join(missing) + ".",
                code="password_complexity",
            )

    def get_help_text(self):
        return "Le mot de passe mélange majuscules, minuscules, chiffres et caractères spéciaux."


class PersonalDataValidator:
    """Refuses a password that contains the login or contact address (its part before @) or a name."""

    min_part = 3

    def validate(self, password, user=None):
        if user is None:
            return
        lowered = password.lower()
        parts = []
        for address in (getattr(user, "email", ""), getattr(user, "contact_email", "")):
            if address:
                parts += [address.lower(), address.split("@")[0].lower()]
        for name in (getattr(user, "last_name", ""), getattr(user, "first_name", "")):
            parts += [piece.lower() for piece in re.split(r"[\s\-']+", name or "")]
        if any(len(part) >= self.min_part and part in lowered for part in parts):
            raise ValidationError(
                "Le mot de passe ne doit contenir ni votre adresse électronique, ni votre nom, ni votre prénom.",
                code="password_personal_data",
            )

    def get_help_text(self):
        return "Le mot de passe ne contient ni votre adresse électronique, ni votre nom, ni votre prénom."

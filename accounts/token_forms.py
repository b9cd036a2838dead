"""The form of « Accès API » → « Créer un jeton »."""

from django import forms
from django.utils import timezone

from accounts.api_tokens import api_token_expiry_bounds
from accounts.models import ApiToken


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Nom du jeton",
        max_length=80,
        help_text="Pour le reconnaître, par exemple le nom de votre logiciel comptable",
    )
    scope = forms.ChoiceField(
        label="Droits",
        choices=ApiToken.Scope.choices,
        widget=forms.RadioSelect,
        help_text="« Lecture » ne permet que de consulter ; « Lecture et écriture » permet aussi de saisir et déposer",
    )
    expires_on = forms.DateField(
        label="Date d'expiration",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Un an au plus",
        error_messages={"invalid": "Saisissez une date valide, par exemple 31/12/2027."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        first, last = api_token_expiry_bounds(timezone.localdate())
        self.fields["expires_on"].widget.attrs.update({"min": first.isoformat(), "max": last.isoformat()})
        self.fields["expires_on"].input_formats = ["%Y-%m-%d", "%d/%m/%Y"]
        if not self.is_bound:
            self.initial.setdefault("expires_on", last)
            self.initial.setdefault("scope", ApiToken.Scope.READ)

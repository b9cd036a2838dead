from captcha.fields import CaptchaField
from django import forms

from accounts.forms import AccessibleCaptchaInput
from chorus.uploads import DocumentField
from support.models import SupportTicket


class TicketForm(forms.Form):
    """« Envoyer un ticket ». Visitors (who may be unable to sign in) can only report a connection
    problem, and prove they are human with the captcha."""

    situation = forms.ChoiceField(
        label="Situation",
        choices=[("", "Sélectionnez la situation"), *SupportTicket.Situation.choices],
        error_messages={
            "required": "Sélectionnez la situation qui correspond à votre problème.",
            "invalid_choice": "Sélectionnez une situation de la liste.",
        },
    )
    subject = forms.CharField(
        label="Objet",
        max_length=150,
        error_messages={
            "required": "Indiquez l'objet de votre demande.",
            "max_length": "L'objet ne doit pas dépasser %(limit_value)d caractères (vous en avez saisi %(show_value)d).",
        },
    )
    message = forms.CharField(
        label="Message",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Décrivez votre problème : ce que vous avez fait, ce qui s'est affiché. 5 000 caractères au plus.",
        error_messages={
            "required": "Décrivez votre problème.",
            "max_length": "Le message ne doit pas dépasser %(limit_value)d caractères (vous en avez saisi %(show_value)d).",
        },
    )
    attachment = DocumentField(
        label="Pièce jointe (facultative)",
        max_mb=5,
        required=False,
        help_text="Une capture d'écran ou un document : PDF, PNG ou JPEG, 5 Mo au plus.",
    )
    email = forms.EmailField(
        label="Adresse électronique de contact",
        max_length=254,
        help_text="La réponse du support vous sera envoyée à cette adresse. Format attendu : nom@domaine.fr",
        error_messages={
            "required": "Indiquez l'adresse électronique à laquelle vous répondre.",
            "invalid": "Saisissez une adresse électronique valide, par exemple nom@domaine.fr.",
            "max_length": "L'adresse ne doit pas dépasser %(limit_value)d caractères.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    captcha = CaptchaField(
        label="Recopiez les caractères de l'image",
        widget=AccessibleCaptchaInput,
        error_messages={
            "invalid": "Les caractères saisis ne correspondent pas à l'image. Recopiez les nouveaux caractères.",
            "required": "Recopiez les caractères de l'image.",
        },
    )

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        if user is not None:
            # A signed-in user's ticket is answered at their own login address, never at a typed one.
            del self.fields["captcha"]
            del self.fields["email"]
        else:
            # The only situation a visitor may report; the page says so.
            del self.fields["situation"]
            self.fields["email"].help_text = (
                "La réponse du support vous sera envoyée à cette adresse. Si c'est l'adresse de connexion de "
                "votre compte, le courriel d'accusé de réception vous proposera d'y rattacher le ticket, pour le "
                "retrouver dans « Mes tickets ». Format attendu : nom@domaine.fr"
            )

    @property
    def chosen_situation(self) -> str:
        if self.user is None:
            return SupportTicket.Situation.CONNECTION
        return self.cleaned_data["situation"]

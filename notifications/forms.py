from django import forms

from notifications.models import Kind


class NotificationPreferencesForm(forms.Form):
    """One box per kind of reminder; a ticked box means the mails are sent."""

    def __init__(self, *args, enabled: set[str], **kwargs):
        super().__init__(*args, **kwargs)
        for kind in Kind:
            self.fields[kind.value] = forms.BooleanField(
                label=kind.label, required=False, initial=kind.value in enabled
            )

    def enabled_kinds(self) -> set[str]:
        return {kind for kind in Kind.values if self.cleaned_data.get(kind)}

"""Forms of the pages for users with many clients: « Mes clients » and « Importer des lignes »."""

from django import forms

from reimbursements import portfolio


class PortfolioFilterForm(forms.Form):
    q = forms.CharField(
        label="Rechercher un client",
        required=False,
        max_length=100,
        help_text="Raison sociale ou début du SIRET",
    )
    year = forms.TypedChoiceField(label="Année", coerce=int, required=False, empty_value=None)
    state = forms.ChoiceField(
        label="État de la demande",
        required=False,
        choices=[("", "Tous"), *portfolio.STATE_LABELS.items()],
    )
    to_do = forms.BooleanField(
        label="À faire", required=False, help_text="Demandes à saisir, à compléter ou à déposer"
    )
    sort = forms.ChoiceField(label="Trier par", required=False, choices=list(portfolio.SORT_LABELS.items()))

    def __init__(self, *args, years, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", "Toutes les campagnes ouvertes"), *((y, str(y)) for y in years)]

    def filters(self) -> portfolio.Filters:
        if not self.is_valid():
            return portfolio.Filters()
        data = self.cleaned_data
        return portfolio.Filters(
            year=data["year"],
            to_do=data["to_do"],
            state=data["state"],
            search=data["q"],
            sort=data["sort"] or "name",
        )

"""Forms of the pages for users with many clients: « Mes clients » and « Importer des lignes »."""

from django import forms

from reimbursements import import_files, portfolio


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


class _ReadFile(forms.FileField):
    """A file field whose size is checked before anything reads it."""

    def __init__(self, *, max_bytes: int, **kwargs):
        self.max_bytes = max_bytes
        super().__init__(**kwargs)
        self.error_messages = {
            **self.error_messages,
            "empty": "Le fichier est vide.",
            "invalid": "Le fichier n'a pas pu être lu. Joignez-le de nouveau.",
            "missing": "Aucun fichier n'a été reçu. Joignez-le de nouveau.",
        }

    def clean(self, data, initial=None):
        uploaded = super().clean(data, initial)
        if uploaded and uploaded.size > self.max_bytes:
            raise forms.ValidationError(
                f"Le fichier dépasse la taille maximale de {self.max_bytes // import_files.MB} Mo.",
                code="too_big",
            )
        return uploaded


class ImportUploadForm(forms.Form):
    """The two files of « Importer des lignes », checked by content here (so a bad file is refused next to
    its field and nothing is stored); the rows themselves are judged by the worker."""

    lines_file = _ReadFile(
        label="Fichier des lignes (CSV ou XLSX)",
        max_bytes=import_files.LINES_MAX_BYTES,
        help_text="Colonnes : SIRET ; Année ; Numéro de facture ; Date de livraison ; Produit ; Quantité ; "
        "Fichier de la facture. CSV séparé par des points-virgules, UTF-8 ou Windows-1252. "
        "Taille maximale : 10 Mo.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )
    archive = _ReadFile(
        label="Archive ZIP des copies de factures",
        max_bytes=import_files.ARCHIVE_MAX_BYTES,
        help_text="Une archive .zip des factures (PDF, PNG ou JPEG), chaque ligne nommant son fichier. "
        "Taille maximale : 250 Mo.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines_file"].error_messages["required"] = "Joignez le fichier des lignes."
        self.fields["archive"].error_messages["required"] = "Joignez l'archive ZIP des copies de factures."

    def clean_lines_file(self):
        uploaded = self.cleaned_data["lines_file"]
        uploaded.seek(0)
        try:
            self.row_count = len(import_files.read_lines(uploaded.read()))
        except import_files.ImportFileError as exc:
            raise forms.ValidationError(str(exc), code="bad_file") from exc
        uploaded.seek(0)
        return uploaded

    def clean_archive(self):
        uploaded = self.cleaned_data["archive"]
        uploaded.seek(0)
        try:
            import_files.InvoiceArchive(uploaded).close()
        except import_files.ImportFileError as exc:
            raise forms.ValidationError(str(exc), code="bad_archive") from exc
        uploaded.seek(0)
        return uploaded


class ImportConfirmForm(forms.Form):
    not_in_difficulty = forms.BooleanField(
        label="Je déclare sur l'honneur que les bénéficiaires des demandes créées par cet import ne sont pas "
        "des entreprises en difficulté au sens du règlement (UE) n° 651/2014 de la Commission.",
        required=False,
        help_text="Sans cette déclaration, les brouillons créés ne pourront pas être déposés avant que vous "
        "la cochiez dans leur en-tête.",
    )

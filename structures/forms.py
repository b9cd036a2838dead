import re

from django import forms

from chorus.uploads import DocumentField
from structures.models import BankAccount, BeneficiaryCategory, Service, Structure
from structures.pickers import StructureChoiceField
from structures.validators import (
    normalize_bic,
    normalize_iban,
    normalize_siret,
    validate_bic,
    validate_iban,
    validate_pacage,
    validate_siret,
)

RIB_MAX_MB = 5


class SiretField(forms.CharField):
    """Accepts spaces and dots as printed on a Kbis; cleans to the 14 digits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Numéro SIRET")
        kwargs.setdefault("help_text", "14 chiffres, par exemple 732 829 320 00074.")
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("error_messages", {"required": "Indiquez le numéro SIRET de la structure."})
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def clean(self, value):
        value = super().clean(value)
        validate_siret(value)
        return normalize_siret(value)


class StructureSiretForm(forms.Form):
    siret = SiretField()


class StructureCreateForm(forms.ModelForm):
    siret = SiretField(widget=forms.HiddenInput)

    class Meta:
        model = Structure
        fields = ["name", "street", "postcode", "city", "country"]
        labels = {"name": "Raison sociale", "street": "Adresse", "postcode": "Code postal", "city": "Commune"}
        labels["country"] = "Pays"
        error_messages = {
            "name": {"required": "Indiquez la raison sociale de la structure."},
            "street": {"required": "Indiquez l'adresse de la structure."},
            "postcode": {"required": "Indiquez le code postal."},
            "city": {"required": "Indiquez la commune."},
            "country": {"required": "Indiquez le pays."},
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "organization"}),
            "street": forms.TextInput(attrs={"autocomplete": "street-address"}),
            "postcode": forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "country": forms.TextInput(attrs={"autocomplete": "country-name"}),
        }

    def _post_clean(self):
        # The SIRET's uniqueness is decided by the service (under concurrency); skip the model's own check.
        pass


class ManageSelectForm(forms.Form):
    """« Gérer une structure »: the type of request, then the structure (« Identifiant »)."""

    MODIFY = "modifier"

    type_demande = forms.ChoiceField(
        label="Type de demande",
        choices=[("", "Sélectionnez une option"), (MODIFY, "Modifier une structure")],
        error_messages={
            "required": "Choisissez le type de demande.",
            "invalid_choice": "Choisissez le type de demande dans la liste.",
        },
    )
    identifiant = StructureChoiceField(
        label="Identifiant",
        scope="managed",
        help_text="Le SIRET ou le nom d'une structure dont vous êtes gestionnaire.",
        error_messages={"required": "Choisissez la structure à modifier."},
    )

    def __init__(self, *args, structures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["identifiant"].queryset = structures


class RefundInformationForm(forms.ModelForm):
    """The block « Informations demandes de remboursement »."""

    class Meta:
        model = Structure
        fields = ["beneficiary_category", "pacage", "is_management_centre"]
        labels = {
            "beneficiary_category": "Catégorie de bénéficiaire",
            "pacage": "Numéro PACAGE",
            "is_management_centre": "L'organisation est un centre de gestion agricole",
        }
        help_texts = {
            "pacage": "9 chiffres, commençant par le numéro du département (par exemple 035123456).",
            "is_management_centre": (
                "Cochez cette case si vous êtes un tiers déposant pour un professionnel ayant des activités "
                "agricoles (centre de gestion agricole, cabinet comptable…)."
            ),
        }
        widgets = {"pacage": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})}
        error_messages = {
            "beneficiary_category": {"invalid_choice": "Choisissez une catégorie de la liste."},
            "pacage": {"max_length": "Le numéro PACAGE comporte 9 chiffres."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        categories = BeneficiaryCategory.objects.filter(is_active=True)
        if self.instance.beneficiary_category_id:
            categories = categories | BeneficiaryCategory.objects.filter(
                pk=self.instance.beneficiary_category_id
            )
        self.fields["beneficiary_category"].queryset = categories.order_by("position", "label")
        self.fields["beneficiary_category"].empty_label = "Non renseignée"

    def clean_pacage(self):
        pacage = self.cleaned_data["pacage"]
        if pacage:
            validate_pacage(pacage)
        return pacage

    def _post_clean(self):
        # Saved by the service, which records each change; nothing to check on the instance here.
        pass


class BankAccountForm(forms.ModelForm):
    """« Créer une coordonnée bancaire »."""

    structure = StructureChoiceField(
        label="Structure",
        scope="managed",
        help_text="Le SIRET ou le nom d'une structure dont vous êtes gestionnaire.",
        error_messages={"required": "Choisissez la structure."},
    )
    rib_document = DocumentField(
        max_mb=RIB_MAX_MB,
        label="Copie du RIB/IBAN",
        help_text=f"Formats acceptés : PDF, PNG ou JPEG. Taille maximale : {RIB_MAX_MB} Mo.",
    )

    class Meta:
        model = BankAccount
        fields = ["structure", "label", "holder", "iban", "bic"]
        labels = {"label": "Libellé", "holder": "Titulaire du compte", "iban": "IBAN", "bic": "BIC"}
        help_texts = {
            "label": "Pour reconnaître ce compte dans vos demandes, par exemple « Compte courant ».",
            "iban": "Tel qu'il figure sur votre RIB, par exemple FR76 3000 6000 0112 3456 7890 189.",
            "bic": "8 ou 11 caractères, par exemple AGRIFRPP.",
        }
        error_messages = {
            "label": {"required": "Indiquez un libellé.", "max_length": "100 caractères au plus."},
            "holder": {
                "required": "Indiquez le titulaire du compte.",
                "max_length": "200 caractères au plus.",
            },
            "iban": {"required": "Indiquez l'IBAN."},
            "bic": {"required": "Indiquez le BIC."},
        }
        widgets = {
            "iban": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            "bic": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        }

    def __init__(self, *args, structures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = structures
        # Typed IBANs carry spaces: accept up to 42 characters, store the 34 at most once compacted.
        self.fields["iban"].max_length = 42
        self.fields["iban"].widget.attrs["maxlength"] = 42
        self.fields["bic"].max_length = 14
        self.fields["bic"].widget.attrs["maxlength"] = 14
        self.fields["iban"].validators = []
        self.fields["bic"].validators = []
        self.order_fields(["structure", "label", "holder", "iban", "bic", "rib_document"])

    def clean_iban(self):
        value = self.cleaned_data["iban"]
        validate_iban(value)
        return normalize_iban(value)

    def clean_bic(self):
        value = self.cleaned_data["bic"]
        validate_bic(value)
        return normalize_bic(value)

    def _post_clean(self):
        # The service builds and saves the row with the stored file.
        pass


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = ["name", "code"]
        labels = {"name": "Nom du service", "code": "Code du service"}
        help_texts = {"code": "Lettres, chiffres, tirets ou soulignés, par exemple COMPTA."}
        error_messages = {
            "name": {"required": "Indiquez le nom du service.", "max_length": "150 caractères au plus."},
            "code": {"required": "Indiquez le code du service.", "max_length": "30 caractères au plus."},
        }

    def clean_code(self):
        code = self.cleaned_data["code"].strip().upper()
        if not re.fullmatch(r"[A-Z0-9_-]+", code):
            raise forms.ValidationError(
                "Le code ne contient que des lettres, des chiffres, des tirets ou des soulignés.", code="code"
            )
        return code

    def _post_clean(self):
        # The service checks the code's uniqueness within the structure, under lock.
        pass

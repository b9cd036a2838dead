from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html

from chorus.uploads import DocumentField
from reimbursements import advances, selectors
from reimbursements.models import Campaign, EnergyProduct, RefundRequest, line_amount
from reimbursements.services import Header, RefundError, line_quantity_check, line_rate
from structures.models import BankAccount, BeneficiaryCategory, Structure
from structures.pickers import StructureChoiceField, structures_in_scope
from structures.validators import validate_pacage

DECLARATION = (
    "Je déclare sur l'honneur que le bénéficiaire n'est pas une entreprise en difficulté au sens du "
    "règlement (UE) n° 651/2014 de la Commission."
)


class FrenchDecimalField(forms.DecimalField):
    """Accepts what people type in France: « 1 250,5 » as well as « 1250.5 »."""

    widget = forms.TextInput

    def to_python(self, value):
        if isinstance(value, str):
            value = value.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
        return super().to_python(value)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "decimal", "autocomplete": "off"})
        attrs.pop("step", None)
        return attrs


class BankAccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: BankAccount):
        return f"{obj.structure.name} — {obj.label} ({obj.masked_iban})"


class CampaignChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Campaign):
        if getattr(obj, "rate_count", 1) == 0:
            return f"{obj.year} (taux non encore publiés : régularisation d'avance sans livraison)"
        return str(obj.year)


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: EnergyProduct):
        return f"{obj.label} (en {obj.unit_symbol})"


class HeaderForm(forms.Form):
    """« En-tête » of a request. Structure and year are chosen once, at creation."""

    structure = StructureChoiceField(
        label="Structure",
        scope="filing",
        error_messages={"required": "Choisissez la structure du bénéficiaire."},
        help_text="Son SIRET ou une partie de son nom. Ses références bancaires, sa catégorie et son numéro "
        "PACAGE sont repris ci-dessous (sans JavaScript : bouton « Pré-remplir depuis la structure »).",
    )
    campaign = CampaignChoiceField(
        label="Année de la demande",
        queryset=Campaign.objects.none(),
        empty_label="Choisissez l'année",
        help_text="L'année de consommation : les dates de livraison des factures doivent s'y trouver.",
    )
    bank_account = BankAccountChoiceField(
        label="Références bancaires",
        queryset=BankAccount.objects.none(),
        empty_label="Choisissez des coordonnées bancaires",
        help_text="Le remboursement est versé sur ce compte, au nom du bénéficiaire.",
    )
    beneficiary_category = forms.ModelChoiceField(
        label="Catégorie de bénéficiaire",
        queryset=BeneficiaryCategory.objects.filter(is_active=True),
        empty_label="Choisissez une catégorie",
    )
    pacage = forms.CharField(
        label="Numéro PACAGE",
        required=False,
        max_length=9,
        validators=[validate_pacage],
        help_text="9 chiffres, commençant par le numéro du département (par exemple 035123456).",
    )
    save_to_structure = forms.BooleanField(
        label="Enregistrer cette catégorie et ce numéro PACAGE sur la structure pour les prochaines demandes",
        required=False,
        help_text="Réservé aux gestionnaires de la structure.",
    )
    not_in_difficulty = forms.BooleanField(
        label=DECLARATION, required=False, help_text="Obligatoire pour déposer la demande."
    )

    def __init__(self, *args, user, refund_request: RefundRequest | None = None, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.refund_request = refund_request
        if refund_request is None:
            structures = selectors.filing_structures(user)
            self.fields["structure"].queryset = structures
            self.fields["campaign"].queryset = selectors.filing_campaigns(structures, today)
            structure = self._chosen_structure()
            self.chosen_structure = structure
        else:
            del self.fields["structure"]
            del self.fields["campaign"]
            structure = refund_request.structure
        # Only the chosen structure's bank details: never one option per account of every client.
        if structure is None:
            self.fields["bank_account"].queryset = BankAccount.objects.none()
            self.fields["bank_account"].empty_label = "Choisissez d'abord la structure"
        else:
            self.fields["bank_account"].queryset = selectors.active_bank_accounts([structure.pk]).order_by(
                "label"
            )
        self.fields["pacage"].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def _chosen_structure(self):
        """The structure typed or picked (bound form), or given as initial value (pre-filled form)."""
        field = self.fields["structure"]
        if self.is_bound:
            try:
                return field.to_python(self.data.get(self.add_prefix("structure")))
            except ValidationError:
                return None
        initial = self.initial.get("structure")
        return initial if isinstance(initial, Structure) else None

    def clean(self):
        cleaned = super().clean()
        if self.has_error("structure"):
            # « Choose the bank details » would only repeat that the structure is missing.
            self._errors.pop("bank_account", None)
        structure = self.refund_request.structure if self.refund_request else cleaned.get("structure")
        account = cleaned.get("bank_account")
        if structure and account and account.structure_id != structure.pk:
            self.add_error(
                "bank_account",
                "Choisissez des références bancaires enregistrées sur la structure de la demande.",
            )
        return cleaned

    def header(self) -> Header:
        data = self.cleaned_data
        return Header(
            bank_account=data["bank_account"],
            beneficiary_category=data["beneficiary_category"],
            pacage=data["pacage"],
            not_in_difficulty=data["not_in_difficulty"],
            save_to_structure=data["save_to_structure"],
        )


class LineForm(forms.Form):
    """« Ajouter ligne de demande »: the amount is computed from product, year and quantity."""

    invoice_number = forms.CharField(label="Numéro de facture", max_length=50)
    delivery_date = forms.DateField(
        label="Date de livraison",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )
    product = ProductChoiceField(
        label="Produit", queryset=EnergyProduct.objects.none(), empty_label="Choisissez un produit"
    )
    quantity = FrenchDecimalField(
        label="Quantité",
        max_digits=12,
        decimal_places=3,
        help_text="Dans l'unité du produit : hectolitres pour le GNR, 100 kg net pour le fioul lourd et le GPL, "
        "MWh pour le gaz naturel. Exemple : 12,5",
    )
    invoice_copy = DocumentField(max_mb=10, label="Copie de la facture", required=False)

    def __init__(self, *args, campaign: Campaign, line=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.line = line
        self.fields["product"].queryset = selectors.campaign_products(campaign, timezone.localdate())
        self.fields["delivery_date"].widget.attrs.update(
            {"min": f"{campaign.year}-01-01", "max": f"{campaign.year}-12-31"}
        )
        self.fields["delivery_date"].help_text = f"Comprise en {campaign.year}, l'année de la demande."
        if line is not None and line.invoice_copy:
            self.fields["invoice_copy"].help_text = (
                f"Copie jointe : {line.invoice_original_name}. Joignez un autre fichier pour la remplacer. "
                + self.fields["invoice_copy"].help_text
            )
        else:
            self.fields["invoice_copy"].help_text += " Obligatoire pour déposer la demande."

    def clean(self):
        cleaned = super().clean()
        product = cleaned.get("product")
        if product is None:
            return cleaned
        try:
            line_rate(campaign=self.campaign, product=product, delivery_date=cleaned.get("delivery_date"))
            if cleaned.get("quantity") is not None:
                line_quantity_check(product, cleaned["quantity"])
        except RefundError as exc:
            self.add_error(exc.field, exc.messages)
        return cleaned


def estimate(*, campaign: Campaign, data) -> dict:
    """The live estimate of one line, from raw form data: the same rate lookup (by delivery date) and
    rounding as the save. `window` names the delivery period whose rate applies; `problem` says why there
    is no rate (a date outside every window). Anything incomplete gives no amount."""
    result = {"product": None, "rate": None, "window": "", "problem": "", "amount": None}
    product = (
        selectors.campaign_products(campaign, timezone.localdate())
        .filter(pk=_int(data.get("product")))
        .first()
    )
    if product is None:
        return result
    result["product"] = product
    try:
        delivery_date = LineForm.base_fields["delivery_date"].clean(data.get("delivery_date") or None)
    except ValidationError:
        delivery_date = None
    try:
        rate = line_rate(campaign=campaign, product=product, delivery_date=delivery_date)
    except RefundError as exc:
        result["problem"] = " ".join(exc.messages)
        return result
    result.update(rate=rate.amount, window=rate.window_label)
    try:
        quantity = FrenchDecimalField(max_digits=12, decimal_places=3).clean(data.get("quantity", ""))
        line_quantity_check(product, quantity)
    except (RefundError, ValidationError):
        return result
    result["amount"] = line_amount(quantity, rate.amount)
    return result


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class FilingForm(forms.Form):
    """« Déposer la demande »: the explicit answer about the advance offered (no default: never chosen for
    the filer) and, for a structure that received an advance, the empty declaration."""

    advance = forms.TypedChoiceField(
        label="Avance",
        widget=forms.RadioSelect,
        coerce=lambda value: value == "oui",
        empty_value=None,
        required=False,
    )
    nothing_to_declare = forms.BooleanField(required=False)

    def __init__(self, *args, offer=None, advance_amount=None, regularise_year: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if offer is None:
            del self.fields["advance"]
        else:
            field = self.fields["advance"]
            field.label = f"{offer.label.capitalize()} au titre des livraisons {offer.for_year}"
            field.help_text = format_html(
                "Montant : {} % du remboursement de cette demande, soit <strong>{}</strong>, déduit ensuite du "
                "remboursement de vos livraisons {}. Engagement : « {} » ({}).",
                f"{offer.rate.normalize():f}".replace(".", ","),
                euros_text(advance_amount),
                offer.for_year,
                offer.commitment,
                offer.legal_reference,
            )
            field.choices = [
                (
                    "oui",
                    f"Je demande le versement de l'{offer.label} ({euros_text(advance_amount)}) et je prends "
                    "l'engagement ci-dessus",
                ),
                ("non", f"Je ne demande pas l'{offer.label}"),
            ]
        if regularise_year is None:
            del self.fields["nothing_to_declare"]
        else:
            self.fields[
                "nothing_to_declare"
            ].label = f"Je n'ai pas de livraison à déclarer pour {regularise_year}"
            self.fields["nothing_to_declare"].help_text = (
                "La demande, sans ligne, régularise l'avance perçue : elle est déduite de zéro, et le montant "
                "est à reverser."
            )

    def clean(self):
        cleaned = super().clean()
        if (
            "advance" in self.fields
            and cleaned.get("advance") is None
            and not cleaned.get("nothing_to_declare")
        ):
            self.add_error(
                "advance", "Indiquez si vous demandez le versement de l'avance : rien n'est coché pour vous."
            )
        return cleaned

    def filing(self) -> dict:
        data = self.cleaned_data
        return {"advance": data.get("advance"), "nothing_to_declare": bool(data.get("nothing_to_declare"))}


def euros_text(value) -> str:
    return advances.euros(value or Decimal("0"))


class AdvancePaymentForm(forms.Form):
    """« Avance versée », in the admin."""

    amount = FrenchDecimalField(label="Montant versé (€)", max_digits=14, decimal_places=2)
    paid_on = forms.DateField(
        label="Versée le",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )


class ListFilterForm(forms.Form):
    structure = StructureChoiceField(
        label="Structure",
        scope="attached",
        required=False,
        help_text="SIRET ou nom ; laissez vide pour toutes vos structures.",
    )
    year = forms.TypedChoiceField(label="Année", coerce=int, required=False, empty_value=None)
    status = forms.ChoiceField(
        label="État", required=False, choices=[("", "Tous"), *RefundRequest.Status.choices]
    )
    number = forms.CharField(
        label="Numéro de la demande", required=False, max_length=20, help_text="Ex. : TIC-2023-000042"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = structures_in_scope("attached", user)
        years = Campaign.objects.order_by("-year").values_list("year", flat=True)
        self.fields["year"].choices = [("", "Toutes"), *((year, str(year)) for year in years)]

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "structure_id": data["structure"].pk if data["structure"] else None,
            "year": data["year"],
            "status": data["status"],
            "number": data["number"],
        }


class TransitionForm(forms.Form):
    """Instruction in the admin: the next status among the allowed ones, with its message or amount."""

    to_status = forms.ChoiceField(label="Nouvel état")
    comment = forms.CharField(
        label="Message au déposant",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Obligatoire pour « À compléter » (ce qu'il faut compléter) et « Rejetée » (motif du rejet).",
    )
    paid_amount = FrenchDecimalField(
        label="Montant mis en paiement (€)",
        required=False,
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        help_text="Obligatoire pour « Mise en paiement ».",
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = choices

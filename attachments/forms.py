import csv
import io
import re

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from attachments.models import AttachmentRequest
from attachments.services import BULK_APPROVAL_MAX, REFUSAL_REASON_MAX_LENGTH
from structures.models import Structure
from structures.pickers import SEPARATOR, StructureCombobox
from structures.validators import is_ascii_digits, normalize_siret, validate_siret

COMMENT_MAX_LENGTH = AttachmentRequest._meta.get_field("comment").max_length
NO_SERVICE = [("", "Aucun service en particulier")]


class AttachmentRequestForm(forms.Form):
    """« Demande de rattachement à une structure »: the SIRET is looked up as the user types it; the services
    offered are those of the structure found (« Afficher les services de la structure »)."""

    siret = forms.CharField(
        label="Libellé de la structure",
        max_length=30,
        help_text="Le numéro SIRET de la structure (14 chiffres), par exemple 732 829 320 00074.",
        widget=StructureCombobox(attrs={"inputmode": "numeric"}),
    )
    service = forms.TypedChoiceField(
        label="Service",
        required=False,
        coerce=int,
        empty_value=None,
        choices=NO_SERVICE,
        help_text="Facultatif. Indiquez le SIRET puis « Afficher les services de la structure » pour les voir.",
        error_messages={"invalid_choice": "Ce service n'appartient pas à la structure indiquée."},
    )
    comment = forms.CharField(
        label="Commentaire",
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Transmis au gestionnaire de la structure : présentez-vous (par exemple, le cabinet "
        f"comptable qui dépose les demandes de remboursement). {COMMENT_MAX_LENGTH} caractères au plus.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Suggestions come from the whole directory, by SIREN or SIRET only (structures.pickers).
        self.fields["siret"].widget.scope = "directory"
        self.structure = self._structure_typed()
        self.services = []
        if self.structure is not None:
            self.services = list(self.structure.services.filter(is_active=True).order_by("name"))
            self.fields["service"].choices = NO_SERVICE + [(s.pk, str(s)) for s in self.services]

    def _structure_typed(self) -> Structure | None:
        if not self.is_bound:
            return None
        siret = _typed_siret(self.data.get(self.add_prefix("siret"), ""))
        if not is_ascii_digits(siret, 14):
            return None
        return Structure.objects.filter(siret=siret).first()

    def clean_siret(self):
        siret = _typed_siret(self.cleaned_data["siret"])
        validate_siret(siret)
        if self.structure is None:
            raise ValidationError(
                "Aucune structure n'est enregistrée avec ce numéro SIRET. Vérifiez-le, ou créez la structure "
                "si vous en êtes le représentant.",
                code="unknown_siret",
            )
        return siret

    def clean_service(self):
        service_id = self.cleaned_data["service"]
        if service_id is None:
            return None
        return next((s for s in self.services if s.pk == service_id), None)

    @property
    def unknown_siret(self) -> bool:
        return self.is_bound and self.has_error("siret", code="unknown_siret")


def _typed_siret(value: str) -> str:
    """The SIRET typed, or the one in front of a suggestion picked in the list (« SIRET — nom »)."""
    return normalize_siret(value.split(SEPARATOR.strip(), 1)[0])


class DecisionForm(forms.Form):
    """The buttons « Approuver » and « Refuser » at the bottom of an approval; a refusal needs a reason."""

    APPROVE = "approve"
    REFUSE = "refuse"

    decision = forms.ChoiceField(choices=[(APPROVE, "Approuver"), (REFUSE, "Refuser")])
    refusal_reason = forms.CharField(
        label="Motif du refus",
        required=False,
        max_length=REFUSAL_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Obligatoire pour refuser la demande : il est transmis au demandeur par courriel.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == self.REFUSE and not cleaned.get("refusal_reason", "").strip():
            self.add_error("refusal_reason", "Indiquez le motif du refus : il est transmis au demandeur.")
        return cleaned


class BulkApprovalForm(forms.Form):
    """Several requests approved at once from the « Approbations » list: only ids among the user's own
    approvals are accepted (one query), so nothing is said about anybody else's requests."""

    requests = forms.ModelMultipleChoiceField(
        queryset=AttachmentRequest.objects.none(),
        error_messages={
            "required": "Sélectionnez au moins une demande à approuver.",
            "list": "Sélectionnez au moins une demande à approuver.",
            "invalid_choice": "Une des demandes sélectionnées n'existe pas : rechargez la liste.",
            "invalid_pk_value": "Une des demandes sélectionnées n'existe pas : rechargez la liste.",
        },
    )

    def __init__(self, *args, approvals: QuerySet[AttachmentRequest], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requests"].queryset = approvals

    def clean_requests(self):
        selected = self.cleaned_data["requests"]
        if len(self.data.getlist(self.add_prefix("requests"))) > BULK_APPROVAL_MAX:
            raise ValidationError(f"Approuvez au plus {BULK_APPROVAL_MAX} demandes à la fois.")
        return [attachment_request.pk for attachment_request in selected]


class ApprovalFilterForm(forms.Form):
    """Filters of the « Approbations » list (a GET form: the URL keeps them)."""

    TO_DO = "a-traiter"
    DONE = "traitees"
    NEWEST = "recentes"
    OLDEST = "anciennes"

    etat = forms.ChoiceField(
        label="État",
        required=False,
        choices=[(TO_DO, "À traiter"), (DONE, "Traitées")],
    )
    tri = forms.ChoiceField(
        label="Trier par date de demande",
        required=False,
        choices=[(NEWEST, "Les plus récentes d'abord"), (OLDEST, "Les plus anciennes d'abord")],
    )

    def values(self) -> tuple[bool, bool]:
        """(decided, newest_first); unknown values fall back to the defaults rather than failing."""
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("etat") == self.DONE, data.get("tri") != self.OLDEST


BULK_MAX_SIRETS = 2_000
BULK_FILE_MAX_BYTES = 512 * 1024  # 2,000 SIRETs take about 35 KB, even with a few columns more
_BULK_SEPARATORS = re.compile(r"[\r\n,;\t|]+")


class BulkAttachmentForm(forms.Form):
    """« Demander un rattachement » for many structures at once: SIRETs pasted (one a line, or separated by
    commas or semicolons) and/or a CSV file whose first column holds them. Cleans to the list of entries as
    typed; each is checked and shown in a report before anything is sent."""

    sirets = forms.CharField(
        label="Numéros SIRET",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "autocomplete": "off", "spellcheck": "false"}),
        help_text=f"Un numéro SIRET par ligne (ou séparés par des virgules ou des points-virgules), "
        f"{BULK_MAX_SIRETS} au plus, par exemple copiés d'un tableur.",
    )
    file = forms.FileField(
        label="Ou un fichier CSV",
        required=False,
        help_text="Les numéros SIRET dans la première colonne (une ligne d'en-tête est permise), séparateur "
        "« ; » ou « , », encodé en UTF-8 ou Windows-1252. Taille maximale : 500 Ko.",
    )
    comment = forms.CharField(
        label="Commentaire",
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Transmis aux gestionnaires de chaque structure : présentez-vous (par exemple, le cabinet "
        f"comptable qui dépose les demandes de remboursement). {COMMENT_MAX_LENGTH} caractères au plus.",
    )

    def clean_sirets(self):
        text = self.cleaned_data["sirets"]
        # A pasted list is bounded like the file: a cell per SIRET, at most a few characters each.
        if len(text) > BULK_MAX_SIRETS * 40:
            raise ValidationError(f"Collez au plus {BULK_MAX_SIRETS} numéros SIRET à la fois.")
        return [entry.strip() for entry in _BULK_SEPARATORS.split(text) if entry.strip()]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload:
            return []
        if upload.size > BULK_FILE_MAX_BYTES:
            raise ValidationError(
                "Ce fichier dépasse 500 Ko : envoyez au plus 2 000 numéros SIRET à la fois."
            )
        data = upload.read(BULK_FILE_MAX_BYTES + 1)
        # Checked by content, not by name: a text file, not a workbook, an archive or an image.
        if b"\x00" in data or data.startswith((b"PK\x03\x04", b"%PDF", b"\x89PNG", b"\xff\xd8")):
            raise ValidationError(
                "Ce fichier n'est pas un fichier CSV (texte). Enregistrez le tableau au format CSV, ou collez "
                "les numéros SIRET dans le champ ci-dessus."
            )
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
        first_line = text.split("\n", 1)[0]
        delimiter = max((";", ",", "\t"), key=first_line.count)
        entries = []
        for number, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)):
            cell = row[0].strip() if row else ""
            if not cell or (number == 0 and not re.search(r"[0-9]", cell)):
                continue  # blank line, or the header
            entries.append(cell[:40])
            if len(entries) > BULK_MAX_SIRETS:
                break
        return entries

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        entries = cleaned.get("sirets", []) + cleaned.get("file", [])
        if not entries:
            self.add_error("sirets", "Indiquez au moins un numéro SIRET, ou joignez un fichier CSV.")
        elif len(entries) > BULK_MAX_SIRETS:
            self.add_error(
                "sirets", f"Envoyez au plus {BULK_MAX_SIRETS} numéros SIRET à la fois ({len(entries)} reçus)."
            )
        cleaned["entries"] = entries
        return cleaned


class BulkSubmitForm(forms.Form):
    """The report's « Soumettre »: the checked SIRETs come back and are checked again before sending."""

    sirets = forms.CharField(widget=forms.HiddenInput, max_length=BULK_MAX_SIRETS * 15)
    comment = forms.CharField(widget=forms.HiddenInput, required=False, max_length=COMMENT_MAX_LENGTH)

    def clean_sirets(self):
        sirets = self.cleaned_data["sirets"].split()
        if not sirets or len(sirets) > BULK_MAX_SIRETS or not all(is_ascii_digits(s, 14) for s in sirets):
            raise ValidationError("La liste à envoyer est invalide : vérifiez de nouveau les numéros SIRET.")
        return sirets

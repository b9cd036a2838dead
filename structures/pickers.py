"""The structure picker: one searchable text field instead of a `<select>` of every structure.

A firm may reach thousands of structures; a `<select>` would render one option per structure on every
page. Instead the field is a text input (SIRET or name) that the server resolves within a *scope* — the
structures this user may pick for this purpose — and, with JavaScript, an ARIA 1.2 combobox whose
suggestions come from `structures:search` through htmx (static/js/combobox.js). Without JavaScript the
typed text is resolved when the form is sent, and an ambiguous name lists the first matches.

Scopes are named so that the search URL never carries a queryset: each app registers its own
(reimbursements registers « filing » in its AppConfig.ready, since structures may not import it).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse

from structures.models import Structure

SUGGESTIONS = 10
SEPARATOR = " — "
_SIRET_TYPED = re.compile(r"^[0-9 .]+$")


@dataclass(frozen=True)
class Scope:
    structures: Callable[..., QuerySet[Structure]]
    # The directory of every structure answers only a SIREN or SIRET, never a name: the attachment form
    # needs to find a structure the user is not attached to yet, not to list the portal's members.
    siret_only: bool = False
    min_digits: int = 1


SCOPES: dict[str, Scope] = {}


def register_scope(name: str, scope: Scope) -> None:
    SCOPES[name] = scope


def structures_in_scope(name: str, user) -> QuerySet[Structure]:
    return SCOPES[name].structures(user)


def search(structures: QuerySet[Structure], text: str, *, scope: Scope) -> QuerySet[Structure]:
    """Structures matching a SIRET prefix (spaces and dots ignored) or, outside the directory, a part of
    the name; ordered by name. An empty search matches nothing in the directory, everything elsewhere."""
    text = text.strip()
    digits = re.sub(r"[ .]", "", text)
    if text and _SIRET_TYPED.match(text):
        if len(digits) < scope.min_digits:
            return structures.none()
        found = structures.filter(siret__startswith=digits)
    elif scope.siret_only:
        return structures.none()
    elif text:
        found = structures.filter(name__icontains=text)
    else:
        found = structures
    return found.order_by("name", "siret")


def display(structure: Structure) -> str:
    """What the field shows once a structure is chosen; the SIRET first, so sending it back resolves it."""
    return f"{structure.siret}{SEPARATOR}{structure.name}"


class StructureCombobox(forms.TextInput):
    template_name = "forms/widgets/structure_combobox.html"

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.scope = ""
        self.matches = None

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_id = context["widget"]["attrs"].get("id") or f"id_{name}"
        context["widget"].update(
            search_url=reverse("structures:search"),
            scope=self.scope,
            list_id=f"{widget_id}_suggestions",
            status_id=f"{widget_id}_status",
            matches=self.matches,
            results_url=reverse("structures:search") + f"?scope={self.scope}",
        )
        return context


class StructureChoiceField(forms.Field):
    """Cleans the typed SIRET or name to one Structure of the queryset set by the form (per user)."""

    widget = StructureCombobox
    default_error_messages = {
        "unknown": "Aucune de vos structures ne correspond à « %(text)s ». Indiquez son numéro SIRET "
        "(14 chiffres) ou une partie de son nom.",
        "ambiguous": "Plusieurs structures correspondent à « %(text)s » : choisissez-en une dans la liste "
        "ci-dessous ou indiquez son numéro SIRET.",
    }

    def __init__(self, *, scope: str, queryset: QuerySet[Structure] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.scope = scope
        self.queryset = queryset if queryset is not None else Structure.objects.none()
        self.widget.scope = scope
        self.widget.attrs.setdefault("placeholder", "SIRET ou nom de la structure")

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result.widget.matches = None
        result._resolved = None
        return result

    def prepare_value(self, value):
        if isinstance(value, Structure):
            return display(value)
        if isinstance(value, int):
            structure = self.queryset.filter(pk=value).first()
            return display(structure) if structure else ""
        return value

    def to_python(self, value):
        # A form may need the structure before cleaning (to offer its bank details): resolve it once.
        resolved = getattr(self, "_resolved", None)
        if resolved is not None and resolved[0] == value:
            if isinstance(resolved[1], ValidationError):
                raise resolved[1]
            return resolved[1]
        try:
            structure = self._resolve(value)
        except ValidationError as exc:
            self._resolved = (value, exc)
            raise
        self._resolved = (value, structure)
        return structure

    def _resolve(self, value):
        text = (value or "").strip()[:250]
        if not text:
            return None
        scope = SCOPES[self.scope]
        siret_part = text.split(SEPARATOR.strip(), 1)[0].strip()
        digits = re.sub(r"[ .]", "", siret_part)
        if _SIRET_TYPED.match(siret_part) and len(digits) == 14:
            structure = self.queryset.filter(siret=digits).first()
            if structure is None:
                raise ValidationError(self.error_messages["unknown"], code="unknown", params={"text": text})
            return structure
        found = search(self.queryset, text, scope=scope)
        first = list(found[: SUGGESTIONS + 1])
        exact = [s for s in first if s.name.casefold() == text.casefold()]
        if len(first) == 1 or len(exact) == 1:
            return (exact or first)[0]
        if not first:
            raise ValidationError(self.error_messages["unknown"], code="unknown", params={"text": text})
        self.widget.matches = {"structures": first[:SUGGESTIONS], "more": len(first) > SUGGESTIONS, "q": text}
        raise ValidationError(self.error_messages["ambiguous"], code="ambiguous", params={"text": text})

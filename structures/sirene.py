"""Optional adapter for the public company register (INSEE's API Sirene, `GET {SIRENE_API_URL}/siret/{siret}`).

It only pre-fills the raison sociale and address of a new structure. It is off unless `SIRENE_API_URL` is
set, uses short timeouts, and any failure (network, HTTP error, unexpected payload) returns None: the user
then types the information by hand."""

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 256 * 1024


@dataclass(frozen=True)
class Company:
    name: str
    street: str
    postcode: str
    city: str


def _text(*parts) -> str:
    return " ".join(str(part).strip() for part in parts if part and str(part).strip() not in {"", "[ND]"})


def _parse(payload: dict) -> Company | None:
    establishment = payload.get("etablissement")
    if not isinstance(establishment, dict):
        return None
    unit = establishment.get("uniteLegale") or {}
    address = establishment.get("adresseEtablissement") or {}
    name = _text(unit.get("denominationUniteLegale")) or _text(
        unit.get("prenomUsuelUniteLegale") or unit.get("prenom1UniteLegale"), unit.get("nomUniteLegale")
    )
    street = _text(
        address.get("numeroVoieEtablissement"),
        address.get("indiceRepetitionEtablissement"),
        address.get("typeVoieEtablissement"),
        address.get("libelleVoieEtablissement"),
    )
    company = Company(
        name=name[:200],
        street=street[:250],
        postcode=_text(address.get("codePostalEtablissement"))[:10],
        city=_text(address.get("libelleCommuneEtablissement"))[:120],
    )
    return company if company.name else None


def company_lookup(siret: str) -> Company | None:
    """The register's record for this SIRET, or None when the adapter is off or the register cannot say."""
    base_url = settings.SIRENE_API_URL
    if not base_url:
        return None
    url = f"{base_url.rstrip('/')}/siret/{urllib.parse.quote(siret)}"
    headers = {"Accept": "application/json"}
    if settings.SIRENE_API_KEY:
        headers["X-INSEE-Api-Key-Integration"] = settings.SIRENE_API_KEY
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 — URL scheme set by the operator
    try:
        with urllib.request.urlopen(request, timeout=settings.SIRENE_API_TIMEOUT) as response:  # noqa: S310
            body = response.read(MAX_RESPONSE_BYTES + 1)
        if len(body) > MAX_RESPONSE_BYTES:
            logger.warning("Sirene answer for %s too large; ignored.", siret)
            return None
        return _parse(json.loads(body))
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            logger.warning("Sirene lookup for %s failed: HTTP %s", siret, exc.code)
        return None
    except (urllib.error.URLError, TimeoutError, OSError, ValueError, AttributeError) as exc:
        logger.warning("Sirene lookup for %s failed: %s", siret, exc)
        return None

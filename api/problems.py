"""Errors as RFC 9457 `application/problem+json`, with the French message and the field it concerns.

Every error the API answers goes through here, so a client reads one shape: `type`, `title`, `status`,
`detail`, and `errors` (one `{field, message}` per wrong field) where input was wrong."""

import json
import logging
import math

from django.http import Http404, HttpResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError

logger = logging.getLogger(__name__)

PROBLEM_TYPE = "about:blank"
TITLES = {
    400: "Requête invalide",
    401: "Authentification requise",
    403: "Action non autorisée",
    404: "Introuvable",
    409: "Conflit",
    422: "Données invalides",
    429: "Trop de requêtes",
}


class Problem(Exception):
    def __init__(self, status: int, detail: str, *, errors: list[dict] | None = None, retry_after: int = 0):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.retry_after = retry_after


def problem_response(
    status: int, detail: str, *, errors: list[dict] | None = None, retry_after: int = 0
) -> HttpResponse:
    body = {"type": PROBLEM_TYPE, "title": TITLES.get(status, "Erreur"), "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/problem+json"
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _field(loc) -> str:
    """`["body", "payload", "quantity"]` → "quantity"; `["query", "year"]` → "year"."""
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "form", "file", "payload")]
    return ".".join(parts) or "__all__"


def _validation_message(error: dict) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "Ce champ est obligatoire."
    if kind.startswith("int") or kind.startswith("decimal") or kind.startswith("float"):
        return "Saisissez un nombre."
    if kind.startswith("date"):
        return "Saisissez une date au format AAAA-MM-JJ."
    if kind in ("enum", "literal_error"):
        return "Choisissez une des valeurs proposées."
    if kind.startswith("string_too_long"):
        return "Ce texte est trop long."
    return "Valeur invalide."


def install(api) -> None:
    @api.exception_handler(Problem)
    def _problem(request, exc: Problem):
        return problem_response(exc.status, exc.detail, errors=exc.errors, retry_after=exc.retry_after)

    @api.exception_handler(ValidationError)
    def _invalid(request, exc: ValidationError):
        errors = [
            {"field": _field(error.get("loc", ())), "message": _validation_message(error)}
            for error in exc.errors
        ]
        return problem_response(422, "Certaines données sont invalides.", errors=errors)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request, exc):
        return problem_response(401, "Jeton absent, inconnu, expiré ou révoqué.")

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        # The same answer whether the object does not exist or belongs to a structure the user is not
        # attached to: nothing tells another structure's objects apart.
        return problem_response(
            404, "Aucun objet de ce type ne correspond à cet identifiant pour votre compte."
        )

    @api.exception_handler(HttpError)
    def _http_error(request, exc: HttpError):
        retry_after = math.ceil(getattr(exc, "wait", 0) or 0)
        return problem_response(exc.status_code, str(exc), retry_after=retry_after)


PROBLEM_SCHEMA = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 : `errors` donne, pour une donnée invalide, le champ concerné et le message.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}


def document(schema: dict) -> dict:
    """Add the problem answers every operation may give to the generated schema, so that clients (and
    Schemathesis) know their shape: 404 and 422 everywhere, 401 and 429 where a token is needed, 403 and 409
    on writes."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            codes = {404, 422, 429}
            if operation.get("security"):
                codes |= {401}
            if method != "get":
                codes |= {403, 409}
            # ninja keys its responses by int; JSON keys are strings: one key per code.
            responses = {str(code): answer for code, answer in operation.get("responses", {}).items()}
            operation["responses"] = responses
            for code in sorted(codes):
                responses.setdefault(str(code), {"description": TITLES[code], "content": content})
    return schema

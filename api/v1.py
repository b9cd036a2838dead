"""The REST API, version 1 (`/api/v1/`), for accounting software filing for the structures its user is attached
to. Endpoints call the same selectors and services as the web views: access by queryset (404 for anything of
a structure the token's user is not attached to), business rules in the services."""

from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Header, NinjaAPI, Query, Router, Schema
from ninja.pagination import CursorPagination, paginate

from api import problems
from api.auth import TokenAuth, limit_anonymous, require_write
from api.models import IdempotencyKey
from chorus.uploads import private_file_response
from reimbursements import receipt, selectors, services
from reimbursements.models import Campaign, EnergyProduct, RefundLine, RefundRate, RefundRequest
from structures.models import BankAccount, Structure

api = NinjaAPI(
    title="API Chorus Agri",
    version="1",
    description=(
        "Déposez les demandes de remboursement de la taxe sur les produits énergétiques des structures "
        "auxquelles vous êtes rattaché. Authentification : `Authorization: Bearer <jeton>`, jeton créé dans "
        "« Mon compte » → « Accès API ». Erreurs au format `application/problem+json` (RFC 9457)."
    ),
    auth=TokenAuth(),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
problems.install(api)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


# Reference data (public) -------------------------------------------------------------------------------------


class CampaignOut(Schema):
    year: int
    opens_on: date
    closes_on: date
    rates_published: bool
    open_for_filing: bool


class ProductOut(Schema):
    code: str
    label: str
    unit: str


class RateOut(Schema):
    product: str
    amount: Decimal
    deliveries_from: date
    deliveries_until: date
    legal_reference: str
    last_filing_day: date


reference = Router(tags=["Données de référence"], auth=None)


@reference.get("/campaigns", response=list[CampaignOut], summary="Campagnes (années de consommation)")
def campaign_list(request):
    limit_anonymous(request)
    from django.utils import timezone

    today = timezone.localdate()
    campaigns = Campaign.objects.annotate(
        has_rates=Exists(RefundRate.objects.filter(campaign=OuterRef("pk")))
    ).order_by("-year")
    return [
        CampaignOut(
            year=campaign.year,
            opens_on=campaign.opens_on,
            closes_on=campaign.closes_on,
            rates_published=campaign.has_rates,
            open_for_filing=campaign.has_rates and campaign.is_open_on(today),
        )
        for campaign in campaigns
    ]


@reference.get("/products", response=list[ProductOut], summary="Produits énergétiques")
def product_list(request):
    limit_anonymous(request)
    return EnergyProduct.objects.order_by("position", "label")


@reference.get("/campaigns/{year}/rates", response=list[RateOut], summary="Taux d'une campagne, par période")
def rate_list(request, year: int):
    limit_anonymous(request)
    campaign = get_object_or_404(Campaign, year=year)
    return [
        RateOut(
            product=rate.product.code,
            amount=rate.amount,
            deliveries_from=rate.deliveries_from,
            deliveries_until=rate.deliveries_until,
            legal_reference=rate.legal_reference,
            last_filing_day=rate.last_filing_day(),
        )
        for rate in selectors.campaign_rates(campaign)
    ]


# Structures -----------------------------------------------------------------------------------------------


class BankAccountOut(Schema):
    id: int
    label: str
    holder: str
    iban_masked: str
    bic: str

    @staticmethod
    def resolve_iban_masked(obj: BankAccount) -> str:
        return obj.masked_iban


class StructureOut(Schema):
    id: int
    siret: str
    name: str
    postcode: str
    city: str
    is_management_centre: bool
    pacage: str
    bank_accounts: list[BankAccountOut]

    @staticmethod
    def resolve_bank_accounts(obj: Structure) -> list[BankAccount]:
        return obj.active_bank_accounts


structures = Router(tags=["Structures"])


def _my_structures(request):
    return (
        Structure.objects.for_user(request.user)
        .distinct()
        .prefetch_related(
            Prefetch(
                "bank_accounts",
                queryset=BankAccount.objects.filter(is_active=True).order_by("pk"),
                to_attr="active_bank_accounts",
            )
        )
    )


@structures.get(
    "/structures", response=list[StructureOut], summary="Mes structures et leurs coordonnées bancaires"
)
@paginate(CursorPagination, ordering=("pk",), page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def structure_list(request, siret: str = ""):
    found = _my_structures(request)
    if siret:
        found = found.filter(siret=siret.strip())
    return found


@structures.get("/structures/{structure_id}", response=StructureOut, summary="Une de mes structures")
def structure_detail(request, structure_id: int):
    return get_object_or_404(_my_structures(request), pk=structure_id)


# Refund requests --------------------------------------------------------------------------------------------


class LineOut(Schema):
    id: int
    invoice_number: str
    delivery_date: date
    product: str
    quantity: Decimal
    rate: Decimal
    amount: Decimal
    has_invoice_copy: bool

    @staticmethod
    def resolve_product(obj: RefundLine) -> str:
        return obj.product.code

    @staticmethod
    def resolve_has_invoice_copy(obj: RefundLine) -> bool:
        return bool(obj.invoice_copy)


class RefundRequestOut(Schema):
    id: int
    structure_id: int
    structure_siret: str
    year: int
    status: RefundRequest.Status
    status_label: str
    number: str | None
    total_amount: Decimal
    paid_amount: Decimal | None
    bank_account_id: int | None
    pacage: str
    not_in_difficulty: bool
    created_at: datetime
    filed_at: datetime | None

    @staticmethod
    def resolve_structure_siret(obj: RefundRequest) -> str:
        return obj.structure.siret

    @staticmethod
    def resolve_status_label(obj: RefundRequest) -> str:
        return obj.get_status_display()


class RefundRequestDetailOut(RefundRequestOut):
    lines: list[LineOut]

    @staticmethod
    def resolve_lines(obj: RefundRequest) -> list[RefundLine]:
        return list(obj.lines.select_related("product"))


class EventOut(Schema):
    created_at: datetime
    from_status: str
    to_status: str
    label: str
    comment: str


class RequestFilters(Schema):
    structure_id: int | None = None
    year: int | None = None
    status: RefundRequest.Status | None = None
    number: str = ""


class FilingIn(Schema):
    advance: bool | None = Field(
        None,
        description=(
            "Votre réponse explicite quand la campagne propose une avance : true pour "
            "la demander, false pour la refuser. Jamais choisie à votre place : sans réponse, le dépôt est refusé."
        ),
    )
    nothing_to_declare: bool = Field(
        False,
        description="« Je n'ai pas de livraison à déclarer » : une demande sans ligne qui régularise une avance.",
    )


requests_router = Router(tags=["Demandes de remboursement"])


def _my_request(request, request_id: int) -> RefundRequest:
    return get_object_or_404(selectors.refund_requests_for_user(request.user), pk=request_id)


@requests_router.get(
    "/refund-requests", response=list[RefundRequestOut], summary="Mes demandes de remboursement"
)
@paginate(CursorPagination, ordering=("-pk",), page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def request_list(request, filters: Query[RequestFilters]):
    return selectors.refund_request_list(
        user=request.user,
        structure_id=filters.structure_id,
        year=filters.year,
        status=filters.status or "",
        number=filters.number,
    )


@requests_router.get(
    "/refund-requests/{request_id}", response=RefundRequestDetailOut, summary="Une demande et ses lignes"
)
def request_detail(request, request_id: int):
    return _my_request(request, request_id)


@requests_router.get(
    "/refund-requests/{request_id}/events", response=list[EventOut], summary="Fil d'évènements d'une demande"
)
def request_events(request, request_id: int):
    return _my_request(request, request_id).events.order_by("created_at", "pk")


@requests_router.get(
    "/refund-requests/{request_id}/lines/{line_id}/invoice",
    summary="Copie de la facture d'une ligne",
    response={200: bytes},
    openapi_extra={"responses": {200: {"content": {"application/octet-stream": {}}}}},
)
def line_invoice(request, request_id: int, line_id: int):
    line = get_object_or_404(_my_request(request, request_id).lines, pk=line_id)
    return private_file_response(line.invoice_copy, download_name=line.invoice_original_name or "facture")


@requests_router.get(
    "/refund-requests/{request_id}/receipt",
    summary="Accusé de dépôt (PDF)",
    response={200: bytes},
    openapi_extra={"responses": {200: {"content": {"application/pdf": {}}}}},
)
def request_receipt(request, request_id: int) -> HttpResponse:
    refund_request = _my_request(request, request_id)
    if refund_request.number is None or refund_request.status == RefundRequest.Status.DRAFT:
        raise problems.Problem(
            404, "Cette demande n'a pas encore été déposée : elle n'a pas d'accusé de dépôt."
        )
    return receipt.receipt_response(refund_request)


@requests_router.post(
    "/refund-requests/{request_id}/filing",
    response=RefundRequestOut,
    summary="Déposer la demande",
    description=(
        "Envoyez un en-tête `Idempotency-Key` (une valeur unique par dépôt, par exemple un UUID) : un appel "
        "répété avec la même clé dépose une seule fois et reçoit la même réponse."
    ),
)
def request_file(
    request,
    request_id: int,
    payload: FilingIn | None = None,
    idempotency_key: str = Header("", alias="Idempotency-Key"),
):
    require_write(request)
    refund_request = _my_request(request, request_id)
    key = idempotency_key.strip()
    if len(key) > IdempotencyKey.KEY_MAX_LENGTH:
        raise problems.Problem(
            422,
            "La clé d'idempotence est trop longue.",
            errors=[{"field": "Idempotency-Key", "message": "200 caractères au plus."}],
        )
    try:
        with transaction.atomic():
            if key:
                record, created = _claim_key(request, key, refund_request)
                if not created:
                    if record.refund_request_id != refund_request.pk:
                        raise problems.Problem(
                            422,
                            "Cette clé d'idempotence a déjà servi pour une autre demande.",
                            errors=[{"field": "Idempotency-Key", "message": "Utilisez une nouvelle clé."}],
                        )
                    # A retry of a filing that succeeded: the same answer, nothing filed twice.
                    return _my_request(request, request_id)
            payload = payload or FilingIn()
            return services.refund_request_file(
                refund_request_id=refund_request.pk,
                user=request.user,
                advance=payload.advance,
                nothing_to_declare=payload.nothing_to_declare,
            )
    except services.AlreadyFiledError as exc:
        raise problems.Problem(409, exc.messages[0]) from None
    except services.RefundError as exc:
        raise problems.Problem(
            422,
            "La demande ne peut pas être déposée.",
            errors=[{"field": "__all__", "message": message} for message in exc.messages],
        ) from None


def _claim_key(request, key: str, refund_request: RefundRequest) -> tuple[IdempotencyKey, bool]:
    """Insert the key in the filing's transaction: a concurrent call with the same key waits on the unique
    index until this one commits (then finds it) or rolls back (then files itself)."""
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                user=request.user, key=key, refund_request=refund_request
            ), True
    except IntegrityError:
        return IdempotencyKey.objects.get(user=request.user, key=key), False


api.add_router("", reference)
api.add_router("", structures)
api.add_router("", requests_router)

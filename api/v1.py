"""The REST API, version 1 (`/api/v1/`), for accounting software filing for the structures its user is attached
to. Endpoints call the same selectors and services as the web views: access by queryset (404 for anything of
a structure the token's user is not attached to), business rules in the services."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, File, Form, Header, NinjaAPI, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import CursorPagination, paginate

from api import problems
from api.auth import TokenAuth, limit, limit_anonymous, require_write
from api.forms import form_problem, refused
from api.models import IdempotencyKey
from attachments import selectors as attachment_selectors
from attachments.forms import AttachmentRequestForm
from attachments.models import AttachmentRequest
from attachments.services import AttachmentRequestError, attachment_request_create
from chorus.uploads import private_file_response
from reimbursements import receipt, selectors, services
from reimbursements.forms import HeaderForm, LineForm
from reimbursements.models import Campaign, EnergyProduct, RefundLine, RefundRequest
from structures.models import BankAccount, BeneficiaryCategory, Structure


class ChorusAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        return problems.document(super().get_openapi_schema(**kwargs))


api = ChorusAPI(
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


class BeneficiaryCategoryOut(Schema):
    code: str
    label: str


reference = Router(tags=["Données de référence"], auth=None)


@reference.get("/campaigns", response=list[CampaignOut], summary="Campagnes (années de consommation)")
def campaign_list(request):
    limit_anonymous(request)
    return [
        CampaignOut(
            year=state.campaign.year,
            opens_on=state.campaign.opens_on,
            closes_on=state.campaign.closes_on,
            rates_published=state.has_rates,
            open_for_filing=state.is_open,
        )
        for state in selectors.campaign_calendar(timezone.localdate(), include_closed=True)
    ]


@reference.get("/products", response=list[ProductOut], summary="Produits énergétiques")
def product_list(request):
    limit_anonymous(request)
    return EnergyProduct.objects.order_by("position", "label")


@reference.get(
    "/beneficiary-categories", response=list[BeneficiaryCategoryOut], summary="Catégories de bénéficiaire"
)
def beneficiary_category_list(request):
    limit_anonymous(request)
    return BeneficiaryCategory.objects.filter(is_active=True).order_by("position", "label")


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
    beneficiary_category: str | None
    lines: list[LineOut]

    @staticmethod
    def resolve_beneficiary_category(obj: RefundRequest) -> str | None:
        return obj.beneficiary_category.code if obj.beneficiary_category_id else None

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
    return get_object_or_404(
        selectors.refund_requests_for_user(request.user).select_related("beneficiary_category"), pk=request_id
    )


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
    # The copy is served as it was checked on upload: PDF, PNG or JPEG.
    openapi_extra={
        "responses": {200: {"content": {"application/pdf": {}, "image/png": {}, "image/jpeg": {}}}}
    },
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


# Writes: the web forms validate (same French messages), the services save --------------------------------

HEADER_FIELDS = {"structure": "structure_id", "campaign": "year", "bank_account": "bank_account_id"}


class HeaderIn(Schema):
    bank_account_id: int | None = Field(None, description="Des coordonnées bancaires de la structure.")
    beneficiary_category: str = Field("", description="Code d'une catégorie de `/beneficiary-categories`.")
    pacage: str = Field("", description="Numéro PACAGE : 9 chiffres.")
    not_in_difficulty: bool = Field(False, description="Déclaration sur l'honneur, obligatoire pour déposer.")
    save_to_structure: bool = Field(
        False, description="Enregistrer la catégorie et le PACAGE sur la structure (gestionnaires seulement)."
    )


class RequestCreateIn(HeaderIn):
    structure_id: int
    year: int = Field(description="L'année de consommation (campagne ouverte).")


class HeaderPatchIn(Schema):
    bank_account_id: int | None = None
    beneficiary_category: str | None = None
    pacage: str | None = None
    not_in_difficulty: bool | None = None
    save_to_structure: bool | None = None


def _choice(model, code: str | None):
    """The pk a form's choice field expects for a code; an unknown code stays as typed, so that the form
    refuses it with its own message (« Sélectionnez un choix valide… »)."""
    if not code:
        return ""
    return model.objects.filter(code=code).values_list("pk", flat=True).first() or f"inconnu:{code}"


def _header_data(values: dict) -> dict:
    return {
        "bank_account": values.get("bank_account_id") or "",
        "beneficiary_category": _choice(BeneficiaryCategory, values.get("beneficiary_category")),
        "pacage": values.get("pacage") or "",
        "not_in_difficulty": bool(values.get("not_in_difficulty")),
        "save_to_structure": bool(values.get("save_to_structure")),
    }


def _refund_problem(exc: services.RefundError, fields: dict[str, str] | None = None) -> problems.Problem:
    # The one refusal without a field is « this request can no longer be changed »: a conflict.
    return refused(exc, fields=fields, status=422 if exc.field else 409)


@requests_router.post(
    "/refund-requests",
    response={201: RefundRequestDetailOut},
    summary="Créer une demande (brouillon)",
    description="Une demande par structure et par année. Ajoutez ensuite ses lignes, puis déposez-la.",
)
def request_create(request, payload: RequestCreateIn):
    require_write(request)
    # Any structure the user is not attached to is « not found », like a missing one.
    if not Structure.objects.for_user(request.user).filter(pk=payload.structure_id).exists():
        raise Http404
    structure = Structure.objects.get(pk=payload.structure_id)
    campaign_pk = Campaign.objects.filter(year=payload.year).values_list("pk", flat=True).first()
    data = {
        **_header_data(payload.dict()),
        # The form looks the structure up among those the user may file for (a firm never files for itself).
        "structure": structure.siret,
        "campaign": campaign_pk or f"inconnue:{payload.year}",
    }
    form = HeaderForm(data, user=request.user, today=timezone.localdate())
    if not form.is_valid():
        raise form_problem(form, fields=HEADER_FIELDS)
    try:
        created = services.refund_request_create(
            user=request.user,
            structure=form.cleaned_data["structure"],
            campaign=form.cleaned_data["campaign"],
            header=form.header(),
        )
    except services.DuplicateRequestError as exc:
        raise problems.Problem(409, exc.messages[0]) from None
    except services.RefundError as exc:
        raise _refund_problem(exc, HEADER_FIELDS) from None
    return Status(201, _my_request(request, created.pk))


@requests_router.patch(
    "/refund-requests/{request_id}",
    response=RefundRequestDetailOut,
    summary="Modifier l'en-tête d'une demande",
    description="Seuls les champs envoyés changent. La structure et l'année ne changent pas.",
)
def request_update(request, request_id: int, payload: HeaderPatchIn):
    require_write(request)
    refund_request = _my_request(request, request_id)
    values = {
        "bank_account_id": refund_request.bank_account_id,
        "beneficiary_category": (
            refund_request.beneficiary_category.code if refund_request.beneficiary_category_id else ""
        ),
        "pacage": refund_request.pacage,
        "not_in_difficulty": refund_request.not_in_difficulty,
        **payload.dict(exclude_unset=True),
    }
    form = HeaderForm(_header_data(values), user=request.user, refund_request=refund_request)
    if not form.is_valid():
        raise form_problem(form, fields=HEADER_FIELDS)
    try:
        services.refund_request_update_header(
            refund_request_id=refund_request.pk, user=request.user, header=form.header()
        )
    except services.RefundError as exc:
        raise _refund_problem(exc, HEADER_FIELDS) from None
    return _my_request(request, request_id)


class LineIn(Schema):
    invoice_number: str = Field(max_length=50)
    delivery_date: date = Field(description="Comprise dans l'année de la demande ; elle choisit le taux.")
    product: str = Field(description="Code d'un produit de `/products`.")
    quantity: Decimal = Field(description="Dans l'unité du produit, par exemple 12.5.")


class LinePatchIn(Schema):
    invoice_number: str | None = Field(None, max_length=50)
    delivery_date: date | None = None
    product: str | None = None
    quantity: Decimal | None = None


INVOICE_COPY = "Copie de la facture : PDF, PNG ou JPEG, 10 Mo au plus. Obligatoire pour déposer la demande."


def _save_line(request, refund_request: RefundRequest, values: dict, invoice_copy, line=None) -> RefundLine:
    data = {
        "invoice_number": values["invoice_number"] or "",
        "delivery_date": values["delivery_date"].isoformat() if values["delivery_date"] else "",
        "product": _choice(EnergyProduct, values["product"]),
        "quantity": "" if values["quantity"] is None else str(values["quantity"]),
    }
    files = {"invoice_copy": invoice_copy} if invoice_copy is not None else {}
    form = LineForm(data, files, campaign=refund_request.campaign, line=line)
    if not form.is_valid():
        raise form_problem(form)
    cleaned = form.cleaned_data
    try:
        return services.refund_line_save(
            refund_request_id=refund_request.pk,
            line_id=line.pk if line else None,
            invoice_number=cleaned["invoice_number"],
            delivery_date=cleaned["delivery_date"],
            product=cleaned["product"],
            quantity=cleaned["quantity"],
            invoice_copy=cleaned["invoice_copy"] or None,
        )
    except services.RefundError as exc:
        raise _refund_problem(exc) from None


def _my_line(refund_request: RefundRequest, line_id: int) -> RefundLine:
    return get_object_or_404(refund_request.lines.select_related("product"), pk=line_id)


@requests_router.post(
    "/refund-requests/{request_id}/lines",
    response={201: LineOut},
    summary="Ajouter une ligne (multipart, avec la copie de la facture)",
    description="Le taux est celui du produit pour la date de livraison ; le montant est calculé.",
)
def line_create(
    request,
    request_id: int,
    payload: Form[LineIn],
    invoice_copy: UploadedFile | None = File(None, description=INVOICE_COPY),
):
    require_write(request)
    refund_request = _my_request(request, request_id)
    line = _save_line(request, refund_request, payload.dict(), invoice_copy)
    return Status(201, _my_line(refund_request, line.pk))


@requests_router.patch(
    "/refund-requests/{request_id}/lines/{line_id}",
    response=LineOut,
    summary="Modifier une ligne (multipart ; seuls les champs envoyés changent)",
    description="Joignez `invoice_copy` pour remplacer la copie de la facture.",
)
def line_update(
    request,
    request_id: int,
    line_id: int,
    payload: Form[LinePatchIn],
    invoice_copy: UploadedFile | None = File(None, description=INVOICE_COPY),
):
    require_write(request)
    refund_request = _my_request(request, request_id)
    line = _my_line(refund_request, line_id)
    values = {
        "invoice_number": line.invoice_number,
        "delivery_date": line.delivery_date,
        "product": line.product.code,
        "quantity": line.quantity,
        **{key: value for key, value in payload.dict(exclude_unset=True).items() if value is not None},
    }
    _save_line(request, refund_request, values, invoice_copy, line=line)
    return _my_line(refund_request, line_id)


@requests_router.delete(
    "/refund-requests/{request_id}/lines/{line_id}", response={204: None}, summary="Supprimer une ligne"
)
def line_delete(request, request_id: int, line_id: int):
    require_write(request)
    line = _my_line(_my_request(request, request_id), line_id)
    try:
        services.refund_line_delete(refund_request_id=request_id, line_id=line.pk)
    except services.RefundError as exc:
        raise _refund_problem(exc) from None
    return Status(204, None)


# Attachment requests (« demandes de rattachement ») ----------------------------------------------------------


class AttachmentRequestIn(Schema):
    siret: str = Field(description="Le numéro SIRET de la structure (14 chiffres).")
    service_id: int | None = None
    comment: str = ""


class AttachmentRequestOut(Schema):
    id: int
    structure_id: int
    structure_siret: str
    structure_name: str
    service: str | None
    # A Literal, not the TextChoices: two enums named « Status » would share one schema component.
    status: Literal[tuple(AttachmentRequest.Status.values)]
    status_label: str
    comment: str
    created_at: datetime
    decided_at: datetime | None
    refusal_reason: str

    @staticmethod
    def resolve_structure_siret(obj: AttachmentRequest) -> str:
        return obj.structure.siret

    @staticmethod
    def resolve_structure_name(obj: AttachmentRequest) -> str:
        return obj.structure.name

    @staticmethod
    def resolve_service(obj: AttachmentRequest) -> str | None:
        return obj.service.name if obj.service_id else None

    @staticmethod
    def resolve_status_label(obj: AttachmentRequest) -> str:
        return obj.get_status_display()


attachments_router = Router(tags=["Demandes de rattachement"])


@attachments_router.get(
    "/attachment-requests", response=list[AttachmentRequestOut], summary="Mes demandes de rattachement"
)
@paginate(CursorPagination, ordering=("-pk",), page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def attachment_request_list(request):
    return attachment_selectors.history_for(user=request.user)


@attachments_router.post(
    "/attachment-requests",
    response={201: AttachmentRequestOut},
    summary="Demander le rattachement à une structure",
    description="Chaque gestionnaire de la structure reçoit un courriel ; une fois la demande validée, la "
    "structure apparaît dans `/structures`.",
)
def attachment_request_new(request, payload: AttachmentRequestIn):
    require_write(request)
    # The web form's limit, on the same counter: each call looks a SIRET up and may mail managers.
    limit(request, "attachment-request:user", f"user:{request.user.pk}", "60/h")
    form = AttachmentRequestForm(
        {"siret": payload.siret, "service": payload.service_id or "", "comment": payload.comment}
    )
    if not form.is_valid():
        raise form_problem(form, fields={"service": "service_id"})
    try:
        created = attachment_request_create(
            requester=request.user,
            structure=form.structure,
            service=form.cleaned_data["service"],
            comment=form.cleaned_data["comment"],
        )
    except AttachmentRequestError as exc:
        raise problems.Problem(
            422, exc.message, errors=[{"field": "siret", "message": exc.message}]
        ) from None
    return Status(201, attachment_selectors.history_for(user=request.user).get(pk=created.pk))


api.add_router("", reference)
api.add_router("", structures)
api.add_router("", requests_router)
api.add_router("", attachments_router)

"""« Mes clients »: the portfolio of a user attached to many structures (an accounting firm, a management
centre). One row per client structure, one column per campaign open for filing.

Every read here costs a fixed number of queries whatever the number of clients: the clients are filtered,
sorted and paginated in SQL, then the page's requests come in one query, the totals and the chart in
another. Exports walk the clients in chunks, a fixed number of queries per chunk.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from reimbursements.models import AdvanceOffer, Campaign, RefundLine, RefundRequest
from reimbursements.selectors import open_campaigns
from structures.models import BankAccount, Membership, Structure

Status = RefundRequest.Status
NONE = "none"
STATE_LABELS = {NONE: "Aucune", **{status.value: status.label for status in Status}}
# A cell is « to do » while the request is missing or still in the filer's hands.
TO_DO_STATUSES = frozenset({Status.DRAFT, Status.TO_COMPLETE})
DONE_STATUSES = frozenset(set(Status) - TO_DO_STATUSES)

SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "siret": ("siret",),
    "-requested": ("-requested", "name", "pk"),
    "requested": ("requested", "name", "pk"),
}
SORT_LABELS = {
    "name": "Raison sociale (A → Z)",
    "-name": "Raison sociale (Z → A)",
    "siret": "SIRET",
    "-requested": "Montant demandé (décroissant)",
    "requested": "Montant demandé (croissant)",
}

NO_BANK = "pas de coordonnées bancaires"
NO_RIB = "pas de copie du RIB"
NO_CATEGORY = "pas de catégorie de bénéficiaire"
NO_LINE = "aucune ligne"
NO_DECLARATION = "déclaration sur l'honneur non cochée"


@dataclass(frozen=True)
class Filters:
    year: int | None = None
    to_do: bool = False
    state: str = ""
    search: str = ""
    sort: str = "name"


@dataclass
class Cell:
    campaign: Campaign
    state: str
    request: RefundRequest | None = None
    blockers: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def amount(self) -> Decimal | None:
        return self.request.total_amount if self.request else None

    @property
    def to_do(self) -> bool:
        return self.state == NONE or self.state in TO_DO_STATUSES


@dataclass
class Row:
    client: Structure
    cells: list[Cell]


@dataclass
class Column:
    campaign: Campaign
    days_left: int


@dataclass
class Totals:
    requested: Decimal
    paid: Decimal
    to_do: int
    per_campaign: list[dict]


def campaign_columns(*, today: date, year: int | None = None) -> list[Column]:
    campaigns = open_campaigns(today)
    if year:
        campaigns = campaigns.filter(year=year)
    return [Column(campaign=c, days_left=(c.closes_on - today).days) for c in campaigns]


def client_structures(user) -> QuerySet[Structure]:
    """The structures the user may file for (a firm's own structure is not a client). A subquery on the
    memberships rather than a join, so no DISTINCT is needed under the annotations below."""
    return Structure.objects.filter(
        pk__in=Membership.objects.filter(user=user, is_active=True).values("structure_id"),
        is_management_centre=False,
    )


def _requests(campaigns) -> QuerySet[RefundRequest]:
    return RefundRequest.objects.filter(structure_id=OuterRef("pk"), campaign__in=campaigns)


def clients(*, user, campaigns: list[Campaign], filters: Filters) -> QuerySet[Structure]:
    """The filtered, sorted clients, with what the rows need from the structure itself."""
    active_accounts = BankAccount.objects.filter(structure_id=OuterRef("pk"), is_active=True)
    requested = (
        _requests(campaigns)
        .order_by()
        .values("structure_id")
        .annotate(total=Sum("total_amount"))
        .values("total")
    )
    queryset = client_structures(user).annotate(
        has_bank_account=Exists(active_accounts),
        has_rib=Exists(active_accounts.exclude(rib_document="")),
        requested=Coalesce(
            Subquery(requested),
            Value(Decimal("0")),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
    )
    search = filters.search.strip()
    if search:
        compact = search.replace(" ", "")
        condition = Q(name__icontains=search)
        if compact.isdigit():
            condition |= Q(siret__startswith=compact)
        queryset = queryset.filter(condition)
    if filters.to_do:
        queryset = queryset.filter(_any(campaigns, lambda c: ~_has(c, statuses=DONE_STATUSES)))
    if filters.state == NONE:
        queryset = queryset.filter(_any(campaigns, lambda c: ~_has(c)))
    elif filters.state:
        queryset = queryset.filter(Exists(_requests(campaigns).filter(status=filters.state)))
    return queryset.order_by(*SORTS.get(filters.sort, SORTS["name"]))


def _has(campaign: Campaign, statuses=None) -> Q:
    requests = RefundRequest.objects.filter(structure_id=OuterRef("pk"), campaign=campaign)
    if statuses is not None:
        requests = requests.filter(status__in=statuses)
    return Q(Exists(requests))


def _any(campaigns, condition) -> Q:
    """OR of `condition` over the columns; no column (nothing open) matches nothing."""
    result = Q(pk__in=[])
    for campaign in campaigns:
        result |= condition(campaign)
    return result


def advance_offers(campaigns: list[Campaign]) -> dict[int, str]:
    """Campaign id → the label of the advance its requests offer (« avance », « acompte »)."""
    return dict(AdvanceOffer.objects.filter(campaign__in=campaigns).values_list("campaign_id", "label"))


def rows(clients_page, campaigns: list[Campaign], offers: dict[int, str] | None = None) -> list[Row]:
    """The rows of one page: one query for every request they show."""
    structures = list(clients_page)
    requests = (
        RefundRequest.objects.filter(structure__in=[s.pk for s in structures], campaign__in=campaigns)
        .select_related("bank_account")
        .annotate(has_lines=Exists(RefundLine.objects.filter(request_id=OuterRef("pk"))))
    )
    by_cell = {(r.structure_id, r.campaign_id): r for r in requests}
    # The advance question is answered on each request when filing, never in bulk: say so where it applies.
    if offers is None:
        offers = advance_offers(campaigns)
    return [
        Row(client=s, cells=[_cell(s, c, by_cell.get((s.pk, c.pk)), offers.get(c.pk)) for c in campaigns])
        for s in structures
    ]


def _cell(
    client: Structure, campaign: Campaign, request: RefundRequest | None, offer_label: str | None = None
) -> Cell:
    if request is None:
        blockers = []
        if not client.has_bank_account:
            blockers.append(NO_BANK)
        elif not client.has_rib:
            blockers.append(NO_RIB)
        if client.beneficiary_category_id is None:
            blockers.append(NO_CATEGORY)
        blockers.append(NO_LINE)
        return Cell(campaign=campaign, state=NONE, blockers=blockers)
    cell = Cell(campaign=campaign, state=request.status, request=request)
    if request.status in TO_DO_STATUSES:
        cell.blockers = request_blockers(request)
        if offer_label and request.status == Status.DRAFT:
            cell.blockers.append(f"{offer_label} à demander ou non, sur la demande")
    return cell


def request_blockers(request: RefundRequest) -> list[str]:
    """What a glance at the request shows is missing before filing (the filing service checks everything
    again, rates and invoice copies included). `request.has_lines` comes from `rows`' annotation."""
    blockers = []
    account = request.bank_account
    if account is None or not account.is_active or account.structure_id != request.structure_id:
        blockers.append(NO_BANK)
    elif not account.rib_document:
        blockers.append(NO_RIB)
    if request.beneficiary_category_id is None:
        blockers.append(NO_CATEGORY)
    if not request.has_lines:
        blockers.append(NO_LINE)
    if not request.not_in_difficulty:
        blockers.append(NO_DECLARATION)
    return blockers


def totals(*, clients_queryset: QuerySet[Structure], client_count: int, campaigns: list[Campaign]) -> Totals:
    """Requested and paid amounts, per campaign and overall, and the number of cells to do, in one query."""
    per_campaign = {
        row["campaign_id"]: row
        for row in RefundRequest.objects.filter(
            structure_id__in=clients_queryset.order_by().values("pk"), campaign__in=campaigns
        )
        .order_by()
        .values("campaign_id")
        .annotate(
            requested=Sum("total_amount"),
            paid=Sum("paid_amount"),
            done=Count("pk", filter=Q(status__in=DONE_STATUSES)),
        )
    }
    chart = []
    for campaign in campaigns:
        row = per_campaign.get(campaign.pk, {})
        chart.append(
            {
                "year": campaign.year,
                "requested": row.get("requested") or Decimal("0"),
                "paid": row.get("paid") or Decimal("0"),
                "done": row.get("done", 0),
            }
        )
    return Totals(
        requested=sum((c["requested"] for c in chart), Decimal("0")),
        paid=sum((c["paid"] for c in chart), Decimal("0")),
        to_do=client_count * len(campaigns) - sum(c["done"] for c in chart),
        per_campaign=chart,
    )


CHART_WIDTH, CHART_HEIGHT, BAR_AREA = 480, 200, 160


def chart_bars(per_campaign: list[dict]) -> list[dict]:
    """Bar geometry for the server-rendered SVG: two bars per campaign, scaled to the largest amount."""
    top = max([c["requested"] for c in per_campaign] + [c["paid"] for c in per_campaign] + [Decimal("0")])
    slot = CHART_WIDTH / max(len(per_campaign), 1)
    bars = []
    for index, campaign in enumerate(per_campaign):
        heights = {
            key: float(campaign[key] / top * BAR_AREA) if top else 0.0 for key in ("requested", "paid")
        }
        x = index * slot + slot * 0.15
        width = slot * 0.3
        bars.append(
            {
                "year": campaign["year"],
                "requested": campaign["requested"],
                "paid": campaign["paid"],
                "requested_x": round(x, 1),
                "paid_x": round(x + width, 1),
                "width": round(width, 1),
                "requested_height": round(heights["requested"], 1),
                "paid_height": round(heights["paid"], 1),
                "requested_y": round(BAR_AREA - heights["requested"] + 10, 1),
                "paid_y": round(BAR_AREA - heights["paid"] + 10, 1),
                "label_x": round(index * slot + slot / 2, 1),
            }
        )
    return bars


EXPORT_HEADER = [
    "SIRET",
    "Raison sociale",
    "Année",
    "État",
    "Numéro",
    "Montant demandé (€)",
    "Montant payé (€)",
    "Ce qui bloque le dépôt",
    "Clôture du dépôt",
]
EXPORT_CHUNK = 500


def export_rows(clients_queryset: QuerySet[Structure], campaigns: list[Campaign]) -> Iterator[list]:
    """One line per client and campaign, every filtered client (not one page), in chunks of clients."""
    offset, offers = 0, advance_offers(campaigns)
    while True:
        chunk = list(clients_queryset[offset : offset + EXPORT_CHUNK])
        if not chunk:
            return
        for row in rows(chunk, campaigns, offers):
            for cell in row.cells:
                request = cell.request
                yield [
                    row.client.siret,
                    row.client.name,
                    cell.campaign.year,
                    cell.label,
                    (request.number or "") if request else "",
                    request.total_amount if request else None,
                    request.paid_amount if request else None,
                    ", ".join(cell.blockers),
                    cell.campaign.closes_on,
                ]
        offset += EXPORT_CHUNK

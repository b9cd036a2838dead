"""CSV export for French spreadsheet software: UTF-8 with a BOM, « ; » between cells, decimal commas."""

import csv
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone

HEADER = [
    "Numéro",
    "Structure",
    "SIRET",
    "Année",
    "État",
    "Montant demandé (€)",
    "Montant payé (€)",
    "Date de dépôt",
]
BOM = "\ufeff"


def french_decimal(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}".replace(".", ",")


def safe_cell(value: str) -> str:
    """A cell a spreadsheet must not run as a formula (structure names are typed by users)."""
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


class _Echo:
    def write(self, value):
        return value


def _rows(requests):
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")
    yield BOM + writer.writerow(HEADER)
    for refund_request in requests.iterator(chunk_size=500):
        filed_at = (
            timezone.localtime(refund_request.filed_at).strftime("%d/%m/%Y")
            if refund_request.filed_at
            else ""
        )
        yield writer.writerow(
            [
                refund_request.number or "",
                safe_cell(refund_request.structure.name),
                refund_request.structure.siret,
                refund_request.campaign.year,
                refund_request.get_status_display(),
                french_decimal(refund_request.total_amount),
                french_decimal(refund_request.paid_amount),
                filed_at,
            ]
        )


def requests_csv_response(requests) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_rows(requests), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="demandes-de-remboursement-{timezone.localdate():%Y-%m-%d}.csv"'
    )
    response["Cache-Control"] = "private, no-store"
    return response

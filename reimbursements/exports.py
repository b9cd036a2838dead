"""CSV export of the refund list for French spreadsheet software (see chorus.spreadsheets)."""

from django.http import StreamingHttpResponse
from django.utils import timezone

from chorus.spreadsheets import csv_response

HEADER = [
    "Numéro",
    "Structure",
    "SIRET",
    "Année",
    "État",
    "Montant demandé (€)",
    "Montant payé (€)",
    "Date de dépôt",
    "Avance perçue (€)",
    "Solde (€)",
]


def _rows(requests):
    for refund_request in requests.iterator(chunk_size=500):
        yield [
            refund_request.number or "",
            refund_request.structure.name,
            refund_request.structure.siret,
            refund_request.campaign.year,
            refund_request.get_status_display(),
            refund_request.total_amount,
            refund_request.paid_amount,
            timezone.localtime(refund_request.filed_at).date() if refund_request.filed_at else None,
            # Negative: the amount to repay (« Montant à reverser »).
            refund_request.advance_deducted,
            refund_request.balance,
        ]


def requests_csv_response(requests) -> StreamingHttpResponse:
    return csv_response(
        f"demandes-de-remboursement-{timezone.localdate():%Y-%m-%d}.csv", HEADER, _rows(requests)
    )

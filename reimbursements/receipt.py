"""The « accusé de dépôt »: a PDF with the number, the structure, the lines and the total."""

import io
from xml.sax.saxutils import escape

from django.http import HttpResponse
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from reimbursements.models import Advance


def _euros(value) -> str:
    whole, cents = f"{value:.2f}".split(".")
    return f"{int(whole):,}".replace(",", "\u00a0") + f",{cents} €"


def _quantity(value) -> str:
    return f"{value.normalize():f}".replace(".", ",")


def _rate(value) -> str:
    """At least two decimals, more when the rate has them (13,765)."""
    whole, _, decimals = f"{value.normalize():f}".partition(".")
    return f"{whole},{decimals.ljust(2, '0')}"


def receipt_pdf(refund_request, lines, advance_requested=None) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"Accusé de dépôt {refund_request.number}",
        author="Chorus Agri",
        lang="fr-FR",
    )
    styles = getSampleStyleSheet()
    structure = refund_request.structure
    filed_at = timezone.localtime(refund_request.filed_at)
    story = [
        Paragraph("Chorus Agri — Accusé de dépôt", styles["Title"]),
        Paragraph(
            "Demande de remboursement partiel de l'accise sur les produits énergétiques utilisés pour les "
            "travaux agricoles et forestiers.",
            styles["Normal"],
        ),
        Spacer(1, 6 * mm),
    ]
    summary = [
        ["Numéro de la demande", refund_request.number],
        ["Déposée le", f"{filed_at:%d/%m/%Y à %H:%M}"],
        ["Déposée par", refund_request.filed_by.get_full_name() or refund_request.filed_by.email],
        ["Structure", f"{structure.name}"],
        ["SIRET", structure.siret],
        ["Adresse", f"{structure.street}, {structure.postcode} {structure.city}"],
        ["Année de la demande", str(refund_request.year)],
        ["Catégorie de bénéficiaire", str(refund_request.beneficiary_category or "")],
        ["Numéro PACAGE", refund_request.pacage or "—"],
        ["Références bancaires", str(refund_request.bank_account or "")],
    ]
    story.append(_table(summary, col_widths=[55 * mm, 119 * mm], header=False))
    story += [Spacer(1, 6 * mm), Paragraph("Lignes de demande", styles["Heading2"])]
    if refund_request.nothing_to_declare:
        story.append(
            Paragraph(
                f"Aucune livraison à déclarer pour {refund_request.year} : demande de régularisation de l'avance.",
                styles["Normal"],
            )
        )
    rows = [["Facture", "Livraison", "Produit", "Quantité", "Unité", "Taux (€)", "Montant"]]
    for line in lines:
        rows.append(
            [
                Paragraph(escape(line.invoice_number), styles["Normal"]),
                f"{line.delivery_date:%d/%m/%Y}",
                Paragraph(escape(line.product.label), styles["Normal"]),
                _quantity(line.quantity),
                line.product.unit_symbol,
                _rate(line.rate),
                _euros(line.amount),
            ]
        )
    rows.append(["", "", "", "", "", "Total", _euros(refund_request.total_amount)])
    story.append(
        _table(rows, col_widths=[28 * mm, 20 * mm, 44 * mm, 20 * mm, 16 * mm, 18 * mm, 28 * mm], header=True)
    )
    if refund_request.advance_deducted is not None:
        balance = refund_request.balance
        figures = [
            ["Montant demandé", _euros(refund_request.total_amount)],
            [f"Avance perçue au titre de {refund_request.year}", _euros(refund_request.advance_deducted)],
            ["Montant à reverser", _euros(-balance)] if balance < 0 else ["Solde", _euros(balance)],
        ]
        story += [
            Spacer(1, 6 * mm),
            Paragraph("Avance et solde", styles["Heading2"]),
            _table(figures, col_widths=[119 * mm, 55 * mm], header=False),
        ]
    if advance_requested is not None:
        story += [
            Spacer(1, 6 * mm),
            Paragraph(
                escape(
                    f"{advance_requested.offer.label.capitalize()} demandée au titre des livraisons "
                    f"{advance_requested.for_year} : {_euros(advance_requested.requested_amount)}. Engagement pris : "
                    f"« {advance_requested.offer.commitment} »"
                ),
                styles["Normal"],
            ),
        ]
    story += [
        Spacer(1, 6 * mm),
        Paragraph(
            "Le bénéficiaire a déclaré sur l'honneur ne pas être une entreprise en difficulté au sens du "
            "règlement (UE) n° 651/2014. Conservez cet accusé : son numéro est à rappeler dans tout échange "
            "avec le service instructeur.",
            styles["Normal"],
        ),
    ]
    doc.build(story)
    return buffer.getvalue()


def _table(rows, *, col_widths, header: bool) -> Table:
    table = Table(rows, colWidths=col_widths, repeatRows=1 if header else 0)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#929292")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
    ]
    if header:
        style += [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3e3fd")),
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
            ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
            ("ALIGN", (3, 1), (-1, -1), "RIGHT"),
        ]
    else:
        style.append(("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"))
    table.setStyle(TableStyle(style))
    return table


def receipt_response(refund_request) -> HttpResponse:
    """The receipt as a download, for the web page and the API alike."""
    lines = list(refund_request.lines.select_related("product"))
    advance_requested = Advance.objects.select_related("offer").filter(request=refund_request).first()
    response = HttpResponse(
        receipt_pdf(refund_request, lines, advance_requested), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="accuse-de-depot-{refund_request.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response

"""Demo refund requests for the demo farm: a filed one for 2022 and a draft for 2023; an instructor."""

import io
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone
from pypdf import PdfWriter

from accounts.demo import DEMO_PASSWORD, demo_user
from accounts.models import User
from reimbursements.models import Campaign, EnergyProduct, RefundEvent, RefundLine, RefundRequest, line_amount
from reimbursements.services import FIRST_FILING_LABEL, filing_number_next
from structures.demo import FARM_SIRET
from structures.models import Structure

INSTRUCTOR_EMAIL = "instructeur@chorus-agri.example"


def _blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _instructor() -> User:
    user, created = User.objects.get_or_create(
        email=INSTRUCTOR_EMAIL, defaults={"last_name": "Guillou", "first_name": "Paul", "is_staff": True}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name="Instructeurs"))
    return user


def _request(farm, farmer, year: int, lines: list[tuple[str, date, str, str]]) -> tuple[RefundRequest, bool]:
    campaign = Campaign.objects.get(year=year)
    refund_request, created = RefundRequest.objects.get_or_create(
        structure=farm,
        campaign=campaign,
        defaults={
            "bank_account": farm.bank_accounts.filter(is_active=True).first(),
            "beneficiary_category": farm.beneficiary_category,
            "pacage": farm.pacage,
            "not_in_difficulty": True,
            "created_by": farmer,
        },
    )
    if created:
        for invoice_number, delivery_date, product_code, quantity in lines:
            rate = campaign.rates.get(
                product__code=product_code,
                deliveries_from__lte=delivery_date,
                deliveries_until__gte=delivery_date,
            )
            line = RefundLine(
                request=refund_request,
                invoice_number=invoice_number,
                delivery_date=delivery_date,
                product=EnergyProduct.objects.get(code=product_code),
                quantity=Decimal(quantity),
                rate=rate.amount,
                amount=line_amount(Decimal(quantity), rate.amount),
                invoice_original_name=f"Facture {invoice_number}.pdf",
            )
            line.invoice_copy.save(f"demo-{invoice_number}.pdf", ContentFile(_blank_pdf()), save=False)
            line.save()
        refund_request.total_amount = sum(line.amount for line in refund_request.lines.all())
        refund_request.save(update_fields=["total_amount"])
    return refund_request, created


def seed() -> list[str]:
    farmer = demo_user("farmer")
    farm = Structure.objects.get(siret=FARM_SIRET)
    instructor = _instructor()
    # The 2022 campaign is closed today: the demo records it as filed in spring 2023, when it was open.
    filed, created = _request(
        farm,
        farmer,
        2022,
        [("F-2022-0117", date(2022, 3, 14), "gnr", "42.5"), ("F-2022-0388", date(2022, 10, 3), "gnr", "38")],
    )
    if created:
        filed.number = filing_number_next(year=2022)
        filed.status = RefundRequest.Status.FILED
        filed.filed_by = farmer
        filed.filed_at = timezone.make_aware(datetime(2023, 4, 12, 10, 30))
        filed.save(update_fields=["number", "status", "filed_by", "filed_at"])
        event = RefundEvent.objects.create(
            request=filed, from_status="draft", to_status="filed", label=FIRST_FILING_LABEL, actor=farmer
        )
        RefundEvent.objects.filter(pk=event.pk).update(created_at=filed.filed_at)
    _request(farm, farmer, 2023, [("F-2023-0042", date(2023, 2, 20), "gnr", "35")])
    return [
        f"Instructeur (administration, groupe « Instructeurs ») : {instructor.email} / {DEMO_PASSWORD}",
        f"Demandes de remboursement de {farm.name} : {filed.number} déposée (2022), un brouillon 2023",
    ]

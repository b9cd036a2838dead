import html
import re
from datetime import date
from decimal import Decimal

import factory
from django.utils.html import strip_tags

from reimbursements.models import Campaign, EnergyProduct, RefundLine, RefundRequest, line_amount
from tests.documents import pdf_bytes
from tests.factories import BankAccountFactory, StructureFactory, UserFactory


class RefundRequestFactory(factory.django.DjangoModelFactory):
    """A draft with complete header; campaign 2023 (seeded by the migration) unless told otherwise."""

    class Meta:
        model = RefundRequest

    structure = factory.SubFactory(StructureFactory)
    campaign = factory.LazyFunction(lambda: Campaign.objects.get(year=2023))
    bank_account = factory.SubFactory(BankAccountFactory, structure=factory.SelfAttribute("..structure"))
    beneficiary_category = factory.LazyAttribute(lambda o: _category())
    pacage = "035123456"
    not_in_difficulty = True
    created_by = factory.SubFactory(UserFactory)


class RefundLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RefundLine
        skip_postgeneration_save = True

    request = factory.SubFactory(RefundRequestFactory)
    invoice_number = factory.Sequence(lambda n: f"FAC-{n:05d}")
    delivery_date = factory.LazyAttribute(lambda o: date(o.request.campaign.year, 3, 15))
    product = factory.LazyFunction(lambda: EnergyProduct.objects.get(code="gnr"))
    quantity = Decimal("100")
    rate = factory.LazyAttribute(
        lambda o: (
            o.request.campaign.rates.get(
                product=o.product, deliveries_from__lte=o.delivery_date, deliveries_until__gte=o.delivery_date
            ).amount
        )
    )
    amount = factory.LazyAttribute(lambda o: line_amount(o.quantity, o.rate))
    invoice_copy = factory.django.FileField(filename="facture.pdf", data=factory.LazyFunction(pdf_bytes))
    invoice_original_name = "Facture carburant.pdf"

    @factory.post_generation
    def refresh_total(obj, create, extracted, **kwargs):
        if create:
            request = obj.request
            request.total_amount = sum(line.amount for line in request.lines.all())
            request.save(update_fields=["total_amount"])


def _category():
    from structures.models import BeneficiaryCategory

    return BeneficiaryCategory.objects.get(code="societe-agricole")


def text(response) -> str:
    """The page as a user reads it: no tags, entities decoded, runs of spaces collapsed (not the
    non-breaking ones, which belong to French amounts)."""
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(strip_tags(response.content.decode())))

from datetime import date
from decimal import Decimal

from django.db import migrations

# Every rate of shared/domain.md (refund per unit, by consumption year). Years 2024 and 2025 get a campaign
# without any rate: an administrator enters the rates, and until then the year is not offered for filing.
PRODUCTS = [
    # code, label, unit, max quantity per line
    ("gnr", "Gazole non routier (GNR)", "hl", "100000"),
    ("fioul-lourd", "Fioul lourd", "100kg", "100000"),
    ("gpl-combustible", "Gaz de pétrole liquéfié (GPL) combustible", "100kg", "100000"),
    ("gaz-naturel", "Gaz naturel", "MWh", "100000"),
    ("gaz-naturel-combustible", "Gaz naturel combustible", "MWh", "100000"),
    ("gaz-naturel-carburant", "Gaz naturel carburant", "MWh", "100000"),
]

CIBS = "Code des impositions sur les biens et services, art. L.312-60 et L.312-61"
BEFORE_CIBS = (
    "Code des douanes, art. 265 (tarifs) ; remboursement partiel prévu par la loi de finances de l'année"
)

FROM_2018 = {"gnr": "14.96", "fioul-lourd": "13.765", "gpl-combustible": "5.72", "gaz-naturel": "8.331"}
SPLIT_GAS = {
    "gnr": "14.96",
    "fioul-lourd": "13.765",
    "gpl-combustible": "5.72",
    "gaz-naturel-carburant": "4.69",
}

RATES = {
    2014: {"gnr": "5.00"},
    2015: {"gnr": "6.98"},
    2016: {"gnr": "8.97"},
    2017: {"gnr": "11.23", "fioul-lourd": "9.355", "gaz-naturel": "5.761"},
    2018: FROM_2018,
    2019: FROM_2018,
    2020: FROM_2018,  # fioul lourd 2020 is inferred from 2019 (shared/domain.md)
    2021: {**SPLIT_GAS, "gaz-naturel-combustible": "7.89"},
    2022: {**SPLIT_GAS, "gaz-naturel-combustible": "7.87"},
    2023: {**SPLIT_GAS, "fioul-lourd": "13.76", "gaz-naturel-combustible": "7.83"},
    2024: {},
    2025: {},
}

# Exceptions, as data: the 2018 GPL rate applies to deliveries from 1 April 2018; 2022 GNR closed on
# 31 December 2024 while the other 2022 products close at the usual N+3.
DELIVERIES_FROM = {(2018, "gpl-combustible"): date(2018, 4, 1)}
RATE_CLOSES_ON = {(2022, "gnr"): date(2024, 12, 31)}


def seed(apps, schema_editor):
    EnergyProduct = apps.get_model("reimbursements", "EnergyProduct")
    Campaign = apps.get_model("reimbursements", "Campaign")
    RefundRate = apps.get_model("reimbursements", "RefundRate")
    products = {}
    for position, (code, label, unit, max_quantity) in enumerate(PRODUCTS, start=1):
        products[code], _ = EnergyProduct.objects.update_or_create(
            code=code,
            defaults={
                "label": label,
                "unit": unit,
                "max_quantity": Decimal(max_quantity),
                "position": position,
            },
        )
    for year, rates in RATES.items():
        # Campaigns open in the spring of N+1 (1 February to 1 June depending on the year; the exact date of
        # each past campaign was not found, so the earliest is used) and close on 31 December N+3.
        campaign, _ = Campaign.objects.update_or_create(
            year=year, defaults={"opens_on": date(year + 1, 2, 1), "closes_on": date(year + 3, 12, 31)}
        )
        for code, amount in rates.items():
            RefundRate.objects.update_or_create(
                campaign=campaign,
                product=products[code],
                defaults={
                    "amount": Decimal(amount),
                    "legal_reference": CIBS if year >= 2022 else BEFORE_CIBS,
                    "deliveries_from": DELIVERIES_FROM.get((year, code)),
                    "closes_on": RATE_CLOSES_ON.get((year, code)),
                },
            )


class Migration(migrations.Migration):
    dependencies = [("reimbursements", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

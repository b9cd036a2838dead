from datetime import date

from django.db import migrations

# shared/domain.md, « Rates »: the 2024-deliveries campaign opened on 1 June 2025 and closes on
# 31 December 2027; earlier campaigns opened on 1 April 2022 (2021), 1 January 2023 (2022) and 1 February
# 2024 (2023). 0002 used 1 February N+1 for every year. The 2025 campaign keeps that date as its expected
# opening (no date was published); no rate is added: none is published for 2024 or 2025.
OPENINGS = {2021: date(2022, 4, 1), 2022: date(2023, 1, 1), 2023: date(2024, 2, 1), 2024: date(2025, 6, 1)}
CLOSINGS = {2024: date(2027, 12, 31)}


def calendar(apps, schema_editor):
    Campaign = apps.get_model("reimbursements", "Campaign")
    for year, opens_on in OPENINGS.items():
        Campaign.objects.filter(year=year).update(opens_on=opens_on)
    for year, closes_on in CLOSINGS.items():
        Campaign.objects.filter(year=year).update(closes_on=closes_on)
    for year in (2024, 2025):
        Campaign.objects.get_or_create(
            year=year,
            defaults={
                "opens_on": OPENINGS.get(year, date(year + 1, 2, 1)),
                "closes_on": date(year + 3, 12, 31),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("reimbursements", "0004_rates_by_delivery_window")]

    operations = [migrations.RunPython(calendar, migrations.RunPython.noop)]

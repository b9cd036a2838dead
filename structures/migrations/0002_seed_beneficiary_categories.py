from django.db import migrations

# Chorus Pro's exact wording was not found (shared/domain.md): the suggested list, editable in the admin.
CATEGORIES = [
    ("exploitant-individuel", "Exploitant agricole individuel"),
    ("societe-agricole", "Société agricole (GAEC, EARL, SCEA…)"),
    ("eta-etf", "Entreprise de travaux agricoles ou forestiers (ETA/ETF)"),
    ("cuma", "Coopérative d'utilisation de matériel agricole (CUMA)"),
    ("gie-exploitants", "GIE composé exclusivement d'exploitants agricoles"),
    ("aquaculture-marine", "Aquaculture marine"),
    ("autre-personne-morale", "Autre personne morale ayant une activité agricole"),
]


def seed(apps, schema_editor):
    BeneficiaryCategory = apps.get_model("structures", "BeneficiaryCategory")
    for position, (code, label) in enumerate(CATEGORIES, start=1):
        BeneficiaryCategory.objects.update_or_create(
            code=code, defaults={"label": label, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("structures", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

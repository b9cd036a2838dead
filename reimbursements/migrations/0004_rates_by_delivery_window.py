from datetime import date

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations, models

import reimbursements.models


def whole_year_windows(apps, schema_editor):
    """An empty window end meant the start or the end of the campaign's year: write it down, so every rate
    has a closed window. Amounts and lines are untouched (lines keep the rate they were saved with)."""
    RefundRate = apps.get_model("reimbursements", "RefundRate")
    for rate in RefundRate.objects.select_related("campaign").filter(
        models.Q(deliveries_from__isnull=True) | models.Q(deliveries_until__isnull=True)
    ):
        year = rate.campaign.year
        rate.deliveries_from = rate.deliveries_from or date(year, 1, 1)
        rate.deliveries_until = rate.deliveries_until or date(year, 12, 31)
        rate.save(update_fields=["deliveries_from", "deliveries_until"])


class Migration(migrations.Migration):
    dependencies = [("reimbursements", "0003_instructors_group")]

    operations = [
        # btree_gist lets one gist index compare the campaign and product ids (equality) along with the
        # delivery range (overlap). A no-op on SQLite.
        BtreeGistExtension(),
        migrations.RunPython(whole_year_windows, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="refundrate",
            name="deliveries_from",
            field=models.DateField(
                blank=True,
                help_text="Vide : depuis le 1er janvier de l'année.",
                verbose_name="livraisons à partir du",
            ),
        ),
        migrations.AlterField(
            model_name="refundrate",
            name="deliveries_until",
            field=models.DateField(
                blank=True,
                help_text="Vide : jusqu'au 31 décembre de l'année.",
                verbose_name="livraisons jusqu'au",
            ),
        ),
        migrations.AlterModelOptions(
            name="refundrate",
            options={
                "ordering": ["-campaign__year", "product__position", "deliveries_from"],
                "verbose_name": "taux de remboursement",
                "verbose_name_plural": "taux de remboursement",
            },
        ),
        migrations.RemoveConstraint(model_name="refundrate", name="refund_rate_one_per_campaign_product"),
        migrations.AddConstraint(
            model_name="refundrate",
            constraint=reimbursements.models.PostgresOnlyExclusionConstraint(
                expressions=[
                    ("campaign", "="),
                    ("product", "="),
                    (
                        reimbursements.models.DeliveryWindow(
                            models.F("deliveries_from"), models.F("deliveries_until")
                        ),
                        "&&",
                    ),
                ],
                name="refund_rate_windows_do_not_overlap",
                violation_error_message=(
                    "Ce produit a déjà un taux pour une partie de ces dates de livraison dans cette campagne : "
                    "les périodes d'un même produit ne peuvent pas se chevaucher."
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="refundrate",
            constraint=models.CheckConstraint(
                condition=models.Q(("deliveries_until__gte", models.F("deliveries_from"))),
                name="refund_rate_window_ordered",
                violation_error_message="La fin de la période de livraison doit suivre son début.",
            ),
        ),
    ]

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Instructeurs"
PERMISSIONS = {
    "reimbursements": [
        "view_refundrequest",
        "instruct_refundrequest",
        "view_refundline",
        "view_refundevent",
        "view_energyproduct",
        "view_campaign",
        "view_refundrate",
    ],
    "structures": ["view_structure", "view_bankaccount"],
}


def create_group(apps, schema_editor):
    # Permissions are normally created after the whole migrate run; create them now so the group gets them.
    for label in PERMISSIONS:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for label, codenames in PERMISSIONS.items():
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label=label, codename__in=codenames)
        )


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reimbursements", "0002_seed_reference_data"),
        ("structures", "0002_seed_beneficiary_categories"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]

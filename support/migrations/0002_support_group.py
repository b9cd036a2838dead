"""The « Support » group: staff in it read tickets and answer them in the admin, and see how the
assistant's answers are rated."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = [
    ("supportticket", ["view", "change"]),
    ("supportreply", ["view"]),
    ("assistantanswerstat", ["view"]),
]


def create_group(apps, schema_editor):
    # Permissions are normally created after all migrations; the group needs them now.
    app_config = apps.get_app_config("support")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group, _ = group_model.objects.get_or_create(name="Support")
    codenames = [f"{action}_{model}" for model, actions in PERMISSIONS for action in actions]
    group.permissions.add(
        *permission_model.objects.filter(content_type__app_label="support", codename__in=codenames)
    )


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Support").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]

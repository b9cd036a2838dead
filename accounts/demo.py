"""Demo accounts for the embedded mode (`make run`). Never run in production."""

from accounts.models import User

DEMO_PASSWORD = "Demo-Agri-2026!"  # noqa: S105 — printed on purpose: demo data for a local machine.


def seed() -> list[str]:
    admin, created = User.objects.get_or_create(
        email="admin@chorus-agri.example",
        defaults={"last_name": "Admin", "first_name": "Alice", "is_staff": True, "is_superuser": True},
    )
    if created:
        admin.set_password(DEMO_PASSWORD)
        admin.save(update_fields=["password"])
    return [f"Administrateur : {admin.email} / {DEMO_PASSWORD} (http://127.0.0.1:8000/admin/)"]

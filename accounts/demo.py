"""Demo accounts for the embedded mode (`make run`). Never run in production."""

from django.utils import timezone

from accounts.models import User

DEMO_PASSWORD = "Demo-Agri-2026!"  # noqa: S105 — printed on purpose: demo data for a local machine.

DEMO_USERS = {
    "admin": {
        "email": "admin@chorus-agri.example",
        "last_name": "Admin",
        "first_name": "Alice",
        "is_staff": True,
        "is_superuser": True,
    },
    "farmer": {"email": "exploitant@chorus-agri.example", "last_name": "Lebreton", "first_name": "Jeanne"},
    "accountant": {"email": "comptable@chorus-agri.example", "last_name": "Morvan", "first_name": "Yann"},
}


def demo_user(key: str) -> User:
    fields = dict(DEMO_USERS[key])
    user, created = User.objects.get_or_create(
        email=fields.pop("email"), defaults={**fields, "activated_at": timezone.now()}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def seed() -> list[str]:
    lines = []
    for key, label in [
        ("admin", "Administrateur"),
        ("farmer", "Exploitante agricole"),
        ("accountant", "Comptable"),
    ]:
        user = demo_user(key)
        lines.append(f"{label} : {user.email} / {DEMO_PASSWORD}")
    lines.append(
        "Connexion : http://127.0.0.1:8000/compte/connexion/ — le code de connexion est envoyé par courriel ; "
        "en mode embarqué, ce courriel s'affiche dans ce terminal (« Votre code de connexion est : … »)."
    )
    lines.append("Administration : http://127.0.0.1:8000/admin/ (même connexion)")
    return lines

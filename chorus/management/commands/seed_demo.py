from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import demo as accounts_demo

# Each app adds its seeder here, in dependency order.
SEEDERS = [accounts_demo.seed]


class Command(BaseCommand):
    help = "Creates the demo data (idempotent) and prints the demo logins. Refused in production."

    def handle(self, *args, **options):
        if settings.IS_PRODUCTION:
            raise CommandError("seed_demo is refused when DJANGO_ENV=production.")
        lines = []
        with transaction.atomic():
            for seeder in SEEDERS:
                lines.extend(seeder())
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes. Comptes :"))
        for line in lines:
            self.stdout.write(f"  - {line}")

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import demo as accounts_demo
from attachments import demo as attachments_demo
from reimbursements import demo as reimbursements_demo
from structures import demo as structures_demo
from support import demo as support_demo

# Each app's seeder, in dependency order; each is idempotent and returns lines to print.
SEEDERS = [
    accounts_demo.seed,
    structures_demo.seed,
    attachments_demo.seed,
    reimbursements_demo.seed,
    support_demo.seed,
]


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

from django.apps import AppConfig


class ReimbursementsConfig(AppConfig):
    name = "reimbursements"
    verbose_name = "Demandes de remboursement"

    def ready(self):
        from reimbursements import selectors
        from structures import pickers

        pickers.register_scope("filing", pickers.Scope(selectors.filing_structures))

from django.apps import AppConfig


class StructuresConfig(AppConfig):
    name = "structures"
    verbose_name = "Structures"

    def ready(self):
        from structures import pickers
        from structures.models import Structure

        pickers.register_scope("attached", pickers.Scope(lambda user: Structure.objects.for_user(user)))
        pickers.register_scope("managed", pickers.Scope(lambda user: Structure.objects.managed_by(user)))
        # Asking to be attached: any structure, but found by its SIREN or SIRET only.
        pickers.register_scope(
            "directory", pickers.Scope(lambda user: Structure.objects.all(), siret_only=True, min_digits=9)
        )

import factory
from django.utils import timezone
from stdnum import luhn

from accounts.models import User
from attachments.models import AttachmentRequest
from structures.models import BankAccount, Membership, Service, Structure
from tests.documents import pdf_bytes

TEST_PASSWORD = "Fenouil-Tracteur-42!"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"exploitant{n}@example.fr")
    last_name = factory.Faker("last_name", locale="fr_FR")
    first_name = factory.Faker("first_name", locale="fr_FR")
    password = factory.django.Password(TEST_PASSWORD)

    class Params:
        staff = factory.Trait(is_staff=True)
        inactive = factory.Trait(is_active=False)


class StructureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Structure
        skip_postgeneration_save = True

    # Valid SIRETs: a 9-digit SIREN with its Luhn key, then a NIC with the key over all 14 digits.
    siret = factory.Sequence(lambda n: valid_siret(100000 + n))
    name = factory.Sequence(lambda n: f"EARL du Champ {n}")
    street = "1 chemin des Prés"
    postcode = "35500"
    city = "Vitré"
    created_by = factory.SubFactory(UserFactory)

    class Params:
        management_centre = factory.Trait(
            is_management_centre=True, name=factory.Sequence(lambda n: f"Cabinet {n}")
        )


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    structure = factory.SubFactory(StructureFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    code = factory.Sequence(lambda n: f"SRV{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    structure = factory.SubFactory(StructureFactory)
    role = Membership.Role.MEMBER

    class Params:
        main_manager = factory.Trait(role=Membership.Role.MAIN_MANAGER)
        manager = factory.Trait(role=Membership.Role.MANAGER)
        detached = factory.Trait(is_active=False)


class BankAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BankAccount

    structure = factory.SubFactory(StructureFactory)
    label = "Compte courant"
    holder = factory.LazyAttribute(lambda o: o.structure.name)
    iban = "FR7630006000011234567890189"
    bic = "AGRIFRPP"
    rib_document = factory.django.FileField(filename="rib.pdf", data=factory.LazyFunction(pdf_bytes))
    rib_original_name = "RIB.pdf"
    created_by = factory.SubFactory(UserFactory)


class AttachmentRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AttachmentRequest

    requester = factory.SubFactory(UserFactory)
    structure = factory.SubFactory(StructureFactory)
    comment = "Cabinet comptable chargé de vos demandes de remboursement."

    class Params:
        approved = factory.Trait(
            status=AttachmentRequest.Status.APPROVED,
            decided_by=factory.SubFactory(UserFactory),
            decided_at=factory.LazyFunction(timezone.now),
        )
        refused = factory.Trait(
            status=AttachmentRequest.Status.REFUSED,
            decided_by=factory.SubFactory(UserFactory),
            decided_at=factory.LazyFunction(timezone.now),
            refusal_reason="Nous ne connaissons pas ce cabinet.",
        )
        cancelled = factory.Trait(status=AttachmentRequest.Status.CANCELLED)


def valid_siret(seed: int) -> str:
    """A valid SIRET built from `seed`: Luhn-complete the SIREN, then the NIC over all 14 digits."""
    siren_body = f"{seed:08d}"[-8:]
    siren = siren_body + luhn.calc_check_digit(siren_body)
    nic_body = siren + "0001"
    return nic_body + luhn.calc_check_digit(nic_body)

import factory

from accounts.models import User

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

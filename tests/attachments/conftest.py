import pytest

from tests.factories import AttachmentRequestFactory, MembershipFactory, StructureFactory, UserFactory


@pytest.fixture
def farm():
    return StructureFactory(name="GAEC des Trois Chênes")


@pytest.fixture
def manager(farm):
    user = UserFactory(first_name="Jeanne", last_name="Lebreton", email="jeanne@example.fr")
    MembershipFactory(user=user, structure=farm, main_manager=True)
    return user


@pytest.fixture
def accountant():
    user = UserFactory(first_name="Yann", last_name="Morvan", email="yann@cabinet.example.fr")
    MembershipFactory(user=user, structure=StructureFactory(management_centre=True), main_manager=True)
    return user


@pytest.fixture
def pending(farm, accountant, manager):
    return AttachmentRequestFactory(requester=accountant, structure=farm, comment="Cabinet du Bocage.")


def text(response) -> str:
    """The page's HTML with whitespace collapsed, as a reader sees the sentences."""
    return " ".join(response.content.decode().split())

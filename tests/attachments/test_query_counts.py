"""The « Approbations » inbox and badge cost the same number of queries with 10 or 5,000 pending requests."""

import pytest
from django.urls import reverse

from accounts.models import User
from attachments.models import AttachmentRequest
from structures.models import Membership, Structure
from tests.factories import MembershipFactory, StructureFactory, UserFactory, valid_siret

pytestmark = pytest.mark.django_db

# Session, user, the badge, the paginator's count and the page's rows (users, structures and services joined).
INBOX_QUERIES = 5
HOME_QUERIES = 6  # session, user, the first-login check, the campaign calendar and the advances to regularise (home page only), badge


def bulk_requests(*, structures: list[Structure], count: int, status: str = "pending") -> None:
    """`count` requests from as many new users, spread over `structures` (bulk inserts: fast at 5,000)."""
    start = User.objects.count()
    users = User.objects.bulk_create(
        User(
            email=f"demandeur{start + n}@example.fr",
            first_name="Anne",
            last_name=f"Demandeur {n}",
            password="!",
        )
        for n in range(count)
    )
    AttachmentRequest.objects.bulk_create(
        AttachmentRequest(requester=user, structure=structures[n % len(structures)], status=status)
        for n, user in enumerate(users)
    )


@pytest.fixture
def manager_of_three():
    manager = UserFactory()
    structures = [StructureFactory(siret=valid_siret(700000 + n)) for n in range(3)]
    for structure in structures:
        MembershipFactory(user=manager, structure=structure, manager=True)
    return manager, structures


@pytest.mark.parametrize("pending", [10, 5000])
def test_inbox_queries_do_not_grow_with_pending_requests(
    client, manager_of_three, pending, django_assert_max_num_queries
):
    manager, structures = manager_of_three
    bulk_requests(structures=structures, count=pending)
    client.force_login(manager)
    with django_assert_max_num_queries(INBOX_QUERIES):
        response = client.get(reverse("attachments:approval_list"))
    assert response.context["page"].paginator.count == pending
    assert len(response.context["page"]) == min(pending, 20)
    assert f'<span class="fr-badge">{pending}<span' in response.text


@pytest.mark.parametrize("decided", [10, 5000])
def test_decided_inbox_queries_do_not_grow(client, manager_of_three, decided, django_assert_max_num_queries):
    manager, structures = manager_of_three
    bulk_requests(structures=structures, count=decided, status="cancelled")
    AttachmentRequest.objects.update(status="approved", decided_by=manager, decided_at="2026-01-01T00:00Z")
    client.force_login(manager)
    with django_assert_max_num_queries(INBOX_QUERIES):
        response = client.get(reverse("attachments:approval_list"), {"etat": "traitees", "page": 2})
    assert response.context["page"].paginator.count == decided


@pytest.mark.parametrize("pending", [10, 5000])
def test_badge_costs_one_query_on_every_page(
    client, manager_of_three, pending, django_assert_max_num_queries
):
    manager, structures = manager_of_three
    bulk_requests(structures=structures, count=pending)
    client.force_login(manager)
    with django_assert_max_num_queries(HOME_QUERIES) as queries:
        response = client.get(reverse("home"))
    assert f'<span class="fr-badge">{pending}<span' in response.text
    badge = [q for q in queries.captured_queries if "attachments_attachmentrequest" in q["sql"]]
    assert len(badge) == 1


@pytest.mark.parametrize("rows", [10, 500])
def test_history_and_memberships_queries_do_not_grow(client, rows, django_assert_max_num_queries):
    user = UserFactory()
    structures = Structure.objects.bulk_create(
        Structure(
            siret=valid_siret(800000 + n),
            name=f"EARL {n}",
            street="1 rue",
            postcode="35000",
            city="Rennes",
            created_by=user,
        )
        for n in range(rows)
    )
    Membership.objects.bulk_create(Membership(user=user, structure=s) for s in structures)
    AttachmentRequest.objects.bulk_create(
        AttachmentRequest(
            requester=user, structure=s, status="approved", decided_by=user, decided_at="2026-01-01T00:00Z"
        )
        for s in structures
    )
    client.force_login(user)
    with django_assert_max_num_queries(INBOX_QUERIES):
        assert client.get(reverse("attachments:history")).status_code == 200
    with django_assert_max_num_queries(INBOX_QUERIES):
        assert client.get(reverse("attachments:membership_list")).status_code == 200

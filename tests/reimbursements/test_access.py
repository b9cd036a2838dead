import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import MembershipFactory, UserFactory
from tests.reimbursements.factories import RefundLineFactory, RefundRequestFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("spring_2025")]


@pytest.fixture
def filed_line(farm, farmer, bank_account):
    refund_request = RefundRequestFactory(
        structure=farm,
        bank_account=bank_account,
        status="filed",
        number="TIC-2023-000001",
        filed_at=timezone.now(),
        filed_by=farmer,
    )
    return RefundLineFactory(request=refund_request)


def urls(line):
    pk, line_pk = line.request_id, line.pk
    return [
        ("get", reverse("reimbursements:detail", kwargs={"pk": pk})),
        ("get", reverse("reimbursements:header", kwargs={"pk": pk})),
        ("post", reverse("reimbursements:header", kwargs={"pk": pk})),
        ("post", reverse("reimbursements:file", kwargs={"pk": pk})),
        ("get", reverse("reimbursements:receipt", kwargs={"pk": pk})),
        ("get", reverse("reimbursements:line_create", kwargs={"pk": pk})),
        ("post", reverse("reimbursements:line_create", kwargs={"pk": pk})),
        ("get", reverse("reimbursements:line_estimate", kwargs={"pk": pk})),
        ("get", reverse("reimbursements:line_update", kwargs={"pk": pk, "line_pk": line_pk})),
        ("post", reverse("reimbursements:line_delete", kwargs={"pk": pk, "line_pk": line_pk})),
        ("get", reverse("reimbursements:line_invoice", kwargs={"pk": pk, "line_pk": line_pk})),
    ]


@pytest.mark.parametrize("who", ["stranger", "detached", "other_structure_member"])
def test_every_id_url_answers_404_to_users_not_attached_to_the_structure(client, filed_line, who):
    match who:
        case "stranger":
            user = UserFactory()
        case "detached":
            user = MembershipFactory(structure=filed_line.request.structure, detached=True).user
        case "other_structure_member":
            user = MembershipFactory(main_manager=True).user
    client.force_login(user)
    for method, url in urls(filed_line):
        assert getattr(client, method)(url).status_code == 404, url
    export = client.get(reverse("reimbursements:export"))
    assert b"TIC-2023-000001" not in b"".join(export.streaming_content)


def test_a_line_is_not_reachable_through_another_request(client, farmer, filed_line):
    own = RefundRequestFactory(structure=MembershipFactory(user=farmer, main_manager=True).structure)
    client.force_login(farmer)
    url = reverse("reimbursements:line_invoice", kwargs={"pk": own.pk, "line_pk": filed_line.pk})
    assert client.get(url).status_code == 404


def test_every_page_requires_signing_in(client, filed_line):
    for method, url in [*urls(filed_line), ("get", reverse("reimbursements:list"))]:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"], url

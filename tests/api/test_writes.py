"""The API's writes: create a request, change its header, add / change / delete lines with their invoice copy,
attachment requests. The web forms validate (same French messages, same upload checks by content), the
services save; 404 outside the user's structures, 403 for a read-only token, nothing half-saved."""

from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils import timezone

from accounts.models import ApiToken
from attachments.models import AttachmentRequest
from chorus.outbox.models import OutboxMail
from reimbursements.models import RefundLine, RefundRequest
from tests.api.conftest import bearer, make_token
from tests.api.test_endpoints import assert_problem
from tests.documents import pdf_with_document_javascript, upload, valid_pdf
from tests.factories import BankAccountFactory, MembershipFactory, ServiceFactory, StructureFactory
from tests.reimbursements.factories import RefundLineFactory, RefundRequestFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("spring_2025")]


@pytest.fixture
def secret(farmer):
    return make_token(farmer)


@pytest.fixture
def read_only(farmer):
    return make_token(farmer, scope=ApiToken.Scope.READ)


@pytest.fixture
def draft(farm, farmer, bank_account):
    return RefundRequestFactory(structure=farm, bank_account=bank_account, created_by=farmer)


@pytest.fixture
def stranger_request():
    return RefundRequestFactory(structure=StructureFactory())


def header(farm, bank_account, **changes):
    return {
        "structure_id": farm.pk,
        "year": 2023,
        "bank_account_id": bank_account.pk,
        "beneficiary_category": "societe-agricole",
        "pacage": "035987654",
        "not_in_difficulty": True,
        **changes,
    }


def line_data(**changes):
    return {
        "invoice_number": "FAC-2023-001",
        "delivery_date": "2023-03-15",
        "product": "gnr",
        "quantity": "1250.5",
        "invoice_copy": valid_pdf("facture.pdf"),
        **changes,
    }


def post_json(client, path, secret, data):
    return client.post(f"/api/v1{path}", data, content_type="application/json", **bearer(secret))


def post_multipart(client, path, secret, data):
    return client.post(f"/api/v1{path}", data, **bearer(secret))


def patch_multipart(client, path, secret, data):
    return client.patch(
        f"/api/v1{path}", encode_multipart(BOUNDARY, data), content_type=MULTIPART_CONTENT, **bearer(secret)
    )


def mark_filed(refund_request):
    RefundRequest.objects.filter(pk=refund_request.pk).update(
        status=RefundRequest.Status.FILED,
        number="TIC-2023-000001",
        filed_at=timezone.now(),
        filed_by=refund_request.created_by,
    )


def fields(body) -> dict:
    return {error["field"]: error["message"] for error in body["errors"]}


class TestCreateRequest:
    def test_creates_a_draft_with_its_header(self, client, secret, farm, bank_account):
        response = post_json(client, "/refund-requests", secret, header(farm, bank_account))
        assert response.status_code == 201, response.content
        body = response.json()
        created = RefundRequest.objects.get(pk=body["id"])
        assert created.structure == farm and created.year == 2023 and created.status == "draft"
        assert body["beneficiary_category"] == "societe-agricole" and body["lines"] == []
        assert created.bank_account == bank_account and created.not_in_difficulty

    def test_wrong_header_gets_the_forms_french_messages_by_field(self, client, secret, farm, bank_account):
        other_account = BankAccountFactory(structure=StructureFactory())
        response = post_json(
            client,
            "/refund-requests",
            secret,
            header(
                farm,
                bank_account,
                bank_account_id=other_account.pk,
                pacage="12",
                beneficiary_category="inconnue",
                year=2019,
            ),
        )
        errors = fields(assert_problem(response, 422))
        assert set(errors) == {"bank_account_id", "pacage", "beneficiary_category", "year"}
        assert "Sélectionnez un choix valide" in errors["year"]
        assert not RefundRequest.objects.exists()

    def test_a_second_request_for_the_year_is_a_conflict(self, client, secret, farm, bank_account, draft):
        body = assert_problem(post_json(client, "/refund-requests", secret, header(farm, bank_account)), 409)
        assert "existe déjà" in body["detail"]
        assert RefundRequest.objects.count() == 1

    def test_a_firm_does_not_file_for_itself(self, client, db):
        firm = StructureFactory(is_management_centre=True)
        accountant = MembershipFactory(structure=firm, main_manager=True).user
        response = post_json(
            client, "/refund-requests", make_token(accountant), {"structure_id": firm.pk, "year": 2023}
        )
        assert "structure_id" in fields(assert_problem(response, 422))

    def test_another_structure_is_404_like_a_missing_one(self, client, secret, bank_account):
        other = StructureFactory()
        hidden = assert_problem(
            post_json(client, "/refund-requests", secret, {"structure_id": other.pk, "year": 2023}), 404
        )
        missing = assert_problem(
            post_json(client, "/refund-requests", secret, {"structure_id": 999999, "year": 2023}), 404
        )
        assert hidden == missing and not RefundRequest.objects.exists()

    def test_a_read_only_token_cannot_create(self, client, read_only, farm, bank_account):
        assert_problem(post_json(client, "/refund-requests", read_only, header(farm, bank_account)), 403)
        assert not RefundRequest.objects.exists()


class TestUpdateHeader:
    def test_changes_only_the_fields_sent(self, client, secret, draft):
        response = client.patch(
            f"/api/v1/refund-requests/{draft.pk}",
            {"pacage": "035111222", "beneficiary_category": "exploitant-individuel"},
            content_type="application/json",
            **bearer(secret),
        )
        assert response.status_code == 200, response.content
        draft.refresh_from_db()
        assert draft.pacage == "035111222" and draft.beneficiary_category.code == "exploitant-individuel"
        assert draft.not_in_difficulty and draft.bank_account_id

    def test_wrong_pacage_is_refused_and_nothing_changes(self, client, secret, draft):
        response = client.patch(
            f"/api/v1/refund-requests/{draft.pk}",
            {"pacage": "ABC", "bank_account_id": None},
            content_type="application/json",
            **bearer(secret),
        )
        errors = fields(assert_problem(response, 422))
        assert set(errors) == {"pacage", "bank_account_id"}
        draft.refresh_from_db()
        assert draft.pacage == "035123456" and draft.bank_account_id

    def test_a_filed_request_cannot_be_changed(self, client, secret, draft):
        mark_filed(draft)
        response = client.patch(
            f"/api/v1/refund-requests/{draft.pk}",
            {"pacage": "035111222"},
            content_type="application/json",
            **bearer(secret),
        )
        assert "ne peut plus être modifiée" in assert_problem(response, 409)["detail"]

    def test_read_only_403_and_another_structure_404(
        self, client, secret, read_only, draft, stranger_request
    ):
        for token, pk, status in ((read_only, draft.pk, 403), (secret, stranger_request.pk, 404)):
            response = client.patch(
                f"/api/v1/refund-requests/{pk}",
                {"pacage": "035111222"},
                content_type="application/json",
                **bearer(token),
            )
            assert_problem(response, status)
        stranger_request.refresh_from_db()
        assert stranger_request.pacage == "035123456"


class TestLines:
    def test_adds_a_line_with_its_invoice_and_the_rate_of_its_delivery_date(self, client, secret, draft):
        response = post_multipart(client, f"/refund-requests/{draft.pk}/lines", secret, line_data())
        assert response.status_code == 201, response.content
        body = response.json()
        line = RefundLine.objects.get(pk=body["id"])
        assert line.rate == Decimal("14.96") and body["has_invoice_copy"]
        assert Decimal(body["amount"]) == line.amount == Decimal("18707.48")
        assert line.invoice_original_name == "facture.pdf" and default_storage.exists(line.invoice_copy.name)
        draft.refresh_from_db()
        assert draft.total_amount == line.amount

    @pytest.mark.parametrize(
        "changes, field",
        [
            ({"invoice_copy": upload("facture.pdf", b"ceci n'est pas un PDF")}, "invoice_copy"),
            ({"invoice_copy": upload("facture.pdf", pdf_with_document_javascript())}, "invoice_copy"),
            ({"delivery_date": "2022-12-31"}, "delivery_date"),
            ({"quantity": "0"}, "quantity"),
            ({"product": "essence"}, "product"),
            ({"invoice_number": ""}, "invoice_number"),
        ],
    )
    def test_wrong_line_gets_the_web_forms_message_and_saves_nothing(
        self, client, secret, draft, changes, field
    ):
        before = set(default_storage.listdir("")[1]) if default_storage.exists("") else set()
        response = post_multipart(client, f"/refund-requests/{draft.pk}/lines", secret, line_data(**changes))
        errors = fields(assert_problem(response, 422))
        assert errors.get(field)
        assert not draft.lines.exists()
        after = set(default_storage.listdir("")[1]) if default_storage.exists("") else set()
        assert after == before

    def test_a_non_date_is_refused_in_french(self, client, secret, draft):
        response = post_multipart(
            client, f"/refund-requests/{draft.pk}/lines", secret, line_data(delivery_date="15 mars")
        )
        assert fields(assert_problem(response, 422)) == {
            "delivery_date": "Saisissez une date au format AAAA-MM-JJ."
        }

    def test_patch_changes_the_sent_fields_and_recomputes_the_amount(self, client, secret, draft):
        line = RefundLineFactory(request=draft, quantity=Decimal("100"))
        response = patch_multipart(
            client,
            f"/refund-requests/{draft.pk}/lines/{line.pk}",
            secret,
            {"quantity": "200", "invoice_copy": valid_pdf("nouvelle.pdf")},
        )
        assert response.status_code == 200, response.content
        line.refresh_from_db()
        assert line.quantity == Decimal("200") and line.amount == Decimal("2992.00")
        assert line.invoice_original_name == "nouvelle.pdf" and line.invoice_number.startswith("FAC-")

    def test_patch_refused_keeps_the_line(self, client, secret, draft):
        line = RefundLineFactory(request=draft, quantity=Decimal("100"))
        response = patch_multipart(
            client, f"/refund-requests/{draft.pk}/lines/{line.pk}", secret, {"delivery_date": "2024-01-02"}
        )
        assert "delivery_date" in fields(assert_problem(response, 422))
        line.refresh_from_db()
        assert line.delivery_date.year == 2023

    def test_delete(self, client, secret, draft):
        line = RefundLineFactory(request=draft)
        response = client.delete(f"/api/v1/refund-requests/{draft.pk}/lines/{line.pk}", **bearer(secret))
        assert response.status_code == 204
        draft.refresh_from_db()
        assert not draft.lines.exists() and draft.total_amount == 0

    def test_lines_of_a_filed_request_cannot_change(self, client, secret, draft):
        line = RefundLineFactory(request=draft)
        mark_filed(draft)
        response = client.delete(f"/api/v1/refund-requests/{draft.pk}/lines/{line.pk}", **bearer(secret))
        assert_problem(response, 409)
        response = post_multipart(client, f"/refund-requests/{draft.pk}/lines", secret, line_data())
        assert_problem(response, 409)
        assert draft.lines.count() == 1

    def test_another_structures_lines_are_404_and_read_only_is_403(
        self, client, secret, read_only, draft, stranger_request
    ):
        theirs = RefundLineFactory(request=stranger_request)
        mine = RefundLineFactory(request=draft)
        path = f"/refund-requests/{stranger_request.pk}/lines"
        assert_problem(post_multipart(client, path, secret, line_data()), 404)
        assert_problem(patch_multipart(client, f"{path}/{theirs.pk}", secret, {"quantity": "1"}), 404)
        assert_problem(client.delete(f"/api/v1{path}/{theirs.pk}", **bearer(secret)), 404)
        # A line of another request, reached through my request: 404 too.
        assert_problem(
            client.delete(f"/api/v1/refund-requests/{draft.pk}/lines/{theirs.pk}", **bearer(secret)), 404
        )
        mine_path = f"/refund-requests/{draft.pk}/lines"
        assert_problem(post_multipart(client, mine_path, read_only, line_data()), 403)
        assert_problem(patch_multipart(client, f"{mine_path}/{mine.pk}", read_only, {"quantity": "1"}), 403)
        assert_problem(client.delete(f"/api/v1{mine_path}/{mine.pk}", **bearer(read_only)), 403)
        assert RefundLine.objects.count() == 2
        mine.refresh_from_db()
        assert mine.quantity == Decimal("100")


class TestAttachmentRequests:
    def test_requests_attachment_and_lists_mine(self, client, secret, farmer):
        target = StructureFactory()
        MembershipFactory(structure=target, main_manager=True)
        service = ServiceFactory(structure=target)
        mails = OutboxMail.objects.count()
        response = post_json(
            client,
            "/attachment-requests",
            secret,
            {"siret": target.siret, "service_id": service.pk, "comment": "Cabinet comptable"},
        )
        assert response.status_code == 201, response.content
        assert response.json()["status"] == "pending" and response.json()["service"] == service.name
        assert OutboxMail.objects.count() == mails + 1  # to the structure's manager
        AttachmentRequest.objects.create(requester=MembershipFactory().user, structure=target)
        body = client.get("/api/v1/attachment-requests", **bearer(secret)).json()
        assert [item["structure_siret"] for item in body["results"]] == [target.siret]

    def test_wrong_siret_or_duplicate_gets_the_forms_messages(self, client, secret, farm):
        errors = fields(
            assert_problem(post_json(client, "/attachment-requests", secret, {"siret": "123"}), 422)
        )
        assert set(errors) == {"siret"}
        target = StructureFactory()
        assert post_json(client, "/attachment-requests", secret, {"siret": target.siret}).status_code == 201
        body = assert_problem(post_json(client, "/attachment-requests", secret, {"siret": target.siret}), 422)
        assert "déjà une demande" in fields(body)["siret"]
        assert (
            "déjà rattaché"
            in fields(
                assert_problem(post_json(client, "/attachment-requests", secret, {"siret": farm.siret}), 422)
            )["siret"]
        )
        assert AttachmentRequest.objects.count() == 1

    def test_read_only_token_cannot_request(self, client, read_only):
        target = StructureFactory()
        assert_problem(post_json(client, "/attachment-requests", read_only, {"siret": target.siret}), 403)
        assert not AttachmentRequest.objects.exists()


def test_a_script_files_a_request_end_to_end_as_the_readme_shows(client, secret, farm, bank_account):
    """The README's example: create, add a line with its invoice, file, fetch the receipt."""
    structure = client.get("/api/v1/structures", {"siret": farm.siret}, **bearer(secret)).json()["results"][0]
    created = post_json(
        client,
        "/refund-requests",
        secret,
        {
            "structure_id": structure["id"],
            "year": 2023,
            "bank_account_id": structure["bank_accounts"][0]["id"],
            "beneficiary_category": "exploitant-individuel",
            "pacage": "035123456",
            "not_in_difficulty": True,
        },
    )
    request_id = created.json()["id"]
    line = post_multipart(client, f"/refund-requests/{request_id}/lines", secret, line_data())
    assert line.status_code == 201, line.content
    answer = client.post(
        f"/api/v1/refund-requests/{request_id}/filing",
        {"advance": False},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="5f0c",
        **bearer(secret),
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["number"].startswith("TIC-2023-")
    receipt = client.get(f"/api/v1/refund-requests/{request_id}/receipt", **bearer(secret))
    assert receipt.status_code == 200 and receipt["Content-Type"] == "application/pdf"

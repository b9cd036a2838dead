"""The API's read endpoints and filing: the same access rules as the web (404 outside the user's structures),
problem+json errors, cursor pagination, idempotent filing."""

import threading
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection

from accounts.models import ApiToken
from reimbursements.models import Advance, EnergyProduct, RefundEvent, RefundRequest
from tests.api.conftest import bearer, bulk_attach, bulk_attachment_requests, bulk_requests, make_token
from tests.conftest import requires_postgresql
from tests.factories import StructureFactory
from tests.reimbursements.factories import RefundLineFactory, RefundRequestFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("spring_2025")]


@pytest.fixture
def secret(farmer):
    return make_token(farmer)


@pytest.fixture
def ready(farm, farmer, bank_account):
    refund_request = RefundRequestFactory(structure=farm, bank_account=bank_account, created_by=farmer)
    RefundLineFactory(request=refund_request, quantity=Decimal("100"))
    RefundLineFactory(
        request=refund_request,
        product=EnergyProduct.objects.get(code="gaz-naturel-combustible"),
        quantity=Decimal("12.5"),
    )
    return refund_request


@pytest.fixture
def stranger_request():
    """A request of a structure the farmer is not attached to."""
    return RefundRequestFactory(structure=StructureFactory())


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


class TestReferenceData:
    def test_campaigns_products_and_rates_are_public(self, api_get):
        campaigns = api_get("/campaigns").json()
        by_year = {campaign["year"]: campaign for campaign in campaigns}
        assert by_year[2023]["rates_published"] and by_year[2023]["open_for_filing"]
        assert not by_year[2025]["rates_published"] and not by_year[2025]["open_for_filing"]
        assert "gnr" in {product["code"] for product in api_get("/products").json()}
        rates = api_get("/campaigns/2023/rates").json()
        gnr = next(rate for rate in rates if rate["product"] == "gnr")
        assert Decimal(gnr["amount"]) == Decimal("14.96")
        assert gnr["deliveries_from"] == "2023-01-01" and gnr["deliveries_until"] == "2023-12-31"

    def test_an_unknown_campaign_is_a_problem_404(self, api_get):
        assert_problem(api_get("/campaigns/1990/rates"), 404)


class TestAuthentication:
    @pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer chorus_" + "x" * 43, "Basic abc"])
    def test_missing_or_unknown_tokens_get_401(self, client, ready, header):
        extra = {"HTTP_AUTHORIZATION": header} if header else {}
        response = client.get("/api/v1/refund-requests", **extra)
        assert_problem(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_a_token_of_a_deactivated_user_is_refused(self, api_get, farmer, secret):
        farmer.is_active = False
        farmer.save()
        assert_problem(api_get("/structures", secret), 401)

    def test_calls_over_the_per_token_rate_get_429_with_retry_after(self, api_get, secret, monkeypatch):
        monkeypatch.setattr("api.auth.CALLS_PER_MINUTE", "3/m")
        for _ in range(3):
            assert api_get("/structures", secret).status_code == 200
        response = api_get("/structures", secret)
        assert_problem(response, 429)
        assert 1 <= int(response["Retry-After"]) <= 60


class TestStructures:
    def test_lists_only_my_structures_with_masked_ibans(self, api_get, secret, farm, bank_account):
        StructureFactory()
        body = api_get("/structures", secret).json()
        assert [structure["siret"] for structure in body["results"]] == [farm.siret]
        account = body["results"][0]["bank_accounts"][0]
        assert account["iban_masked"].endswith(bank_account.iban[-4:])
        assert bank_account.iban not in str(body)

    def test_another_structure_is_404_like_a_missing_one(self, api_get, secret):
        other = StructureFactory()
        missing = assert_problem(api_get("/structures/999999", secret), 404)
        hidden = assert_problem(api_get(f"/structures/{other.pk}", secret), 404)
        assert missing == hidden


class TestRefundRequests:
    def test_list_is_mine_only_filterable_and_cursor_paginated(
        self, api_get, secret, farm, farmer, stranger_request
    ):
        from reimbursements.models import Campaign

        for year in (2021, 2022, 2023):
            RefundRequestFactory(structure=farm, campaign=Campaign.objects.get(year=year), created_by=farmer)
        first = api_get("/refund-requests", secret, page_size=2).json()
        assert len(first["results"]) == 2 and first["next"]
        next_query = parse_qs(urlsplit(first["next"]).query)
        second = api_get("/refund-requests", secret, page_size=2, cursor=next_query["cursor"][0]).json()
        ids = [item["id"] for item in first["results"] + second["results"]]
        assert len(ids) == 3 and stranger_request.pk not in ids
        only_2022 = api_get("/refund-requests", secret, year=2022).json()["results"]
        assert [item["year"] for item in only_2022] == [2022]
        assert_problem(api_get("/refund-requests", secret, year="deux-mille"), 422)

    def test_detail_lines_and_events(self, api_get, secret, ready):
        body = api_get(f"/refund-requests/{ready.pk}", secret).json()
        assert body["status"] == "draft" and body["status_label"] == "Brouillon"
        assert {line["product"] for line in body["lines"]} == {"gnr", "gaz-naturel-combustible"}
        assert api_get(f"/refund-requests/{ready.pk}/events", secret).json() == []

    @pytest.mark.parametrize(
        "path",
        [
            "/refund-requests/{pk}",
            "/refund-requests/{pk}/events",
            "/refund-requests/{pk}/receipt",
            "/refund-requests/{pk}/lines/{line}/invoice",
        ],
    )
    def test_a_request_of_another_structure_is_404(self, api_get, secret, stranger_request, path):
        line = RefundLineFactory(request=stranger_request)
        response = api_get(path.format(pk=stranger_request.pk, line=line.pk), secret)
        assert_problem(response, 404)

    def test_invoice_copy_downloads_for_my_request(self, api_get, secret, ready):
        line = ready.lines.first()
        response = api_get(f"/refund-requests/{ready.pk}/lines/{line.pk}/invoice", secret)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content).startswith(b"%PDF")


# The 2023 campaign offers the 2024 advance: the filer answers explicitly.
NO_ADVANCE = {"advance": False}


class TestFiling:
    def test_files_once_with_an_idempotency_key_and_answers_the_same(self, api_post, secret, ready):
        url = f"/refund-requests/{ready.pk}/filing"
        first = api_post(url, secret, headers={"Idempotency-Key": "essai-1"}, data=NO_ADVANCE)
        assert first.status_code == 200, first.content
        assert first.json()["number"].startswith("TIC-2023-") and first.json()["status"] == "filed"
        again = api_post(url, secret, headers={"Idempotency-Key": "essai-1"}, data=NO_ADVANCE)
        assert again.status_code == 200 and again.json()["number"] == first.json()["number"]
        assert RefundEvent.objects.filter(request=ready).count() == 1
        assert_problem(api_post(url, secret, headers={"Idempotency-Key": "essai-2"}, data=NO_ADVANCE), 409)

    def test_a_key_used_for_another_request_is_refused(self, api_post, secret, ready, farm, farmer):
        from reimbursements.models import Campaign

        other = RefundRequestFactory(
            structure=farm, campaign=Campaign.objects.get(year=2022), created_by=farmer
        )
        assert (
            api_post(
                f"/refund-requests/{ready.pk}/filing",
                secret,
                headers={"Idempotency-Key": "k"},
                data=NO_ADVANCE,
            ).status_code
            == 200
        )
        body = assert_problem(
            api_post(f"/refund-requests/{other.pk}/filing", secret, headers={"Idempotency-Key": "k"}), 422
        )
        assert body["errors"][0]["field"] == "Idempotency-Key"

    def test_an_incomplete_request_gets_the_forms_french_messages(self, api_post, secret, farm, farmer):
        draft = RefundRequestFactory(structure=farm, created_by=farmer, not_in_difficulty=False)
        body = assert_problem(api_post(f"/refund-requests/{draft.pk}/filing", secret), 422)
        messages = " ".join(error["message"] for error in body["errors"])
        assert "ligne" in messages.lower() and "déclaration" in messages.lower()
        draft.refresh_from_db()
        assert draft.status == RefundRequest.Status.DRAFT and draft.number is None

    def test_the_advance_is_never_chosen_for_the_filer(self, api_post, secret, ready):
        url = f"/refund-requests/{ready.pk}/filing"
        body = assert_problem(api_post(url, secret), 422)
        assert "avance" in body["errors"][0]["message"]
        ready.refresh_from_db()
        assert ready.status == RefundRequest.Status.DRAFT
        assert_problem(api_post(url, secret, data={"advance": "peut-être"}), 422)
        filed = api_post(url, secret, data={"advance": True})
        assert filed.status_code == 200, filed.content
        assert Advance.objects.filter(request=ready).exists()

    def test_a_read_only_token_cannot_file(self, api_post, farmer, ready):
        read_only = make_token(farmer, scope=ApiToken.Scope.READ)
        assert_problem(api_post(f"/refund-requests/{ready.pk}/filing", read_only), 403)
        ready.refresh_from_db()
        assert ready.status == RefundRequest.Status.DRAFT

    def test_another_structures_request_cannot_be_filed(self, api_post, secret, stranger_request):
        assert_problem(api_post(f"/refund-requests/{stranger_request.pk}/filing", secret), 404)

    def test_the_receipt_is_a_pdf_once_filed(self, api_get, api_post, secret, ready):
        assert_problem(api_get(f"/refund-requests/{ready.pk}/receipt", secret), 404)
        api_post(f"/refund-requests/{ready.pk}/filing", secret, data=NO_ADVANCE)
        response = api_get(f"/refund-requests/{ready.pk}/receipt", secret)
        assert response.status_code == 200 and response.content.startswith(b"%PDF")


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_file_once_with_one_number(ready, secret, spring_2025):
    from django.test import Client

    results = []
    barrier = threading.Barrier(4)

    def call():
        try:
            barrier.wait()
            response = Client().post(
                f"/api/v1/refund-requests/{ready.pk}/filing",
                NO_ADVANCE,
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY="retry-key",
                **bearer(secret),
            )
            results.append((response.status_code, response.json().get("number")))
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {status for status, _ in results} == {200}
    assert len({number for _, number in results}) == 1
    assert RefundEvent.objects.filter(request=ready).count() == 1


def test_every_endpoint_but_reference_data_and_docs_needs_a_token(client, ready):
    schema = client.get("/api/v1/openapi.json").json()
    public = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            url = path.replace("{request_id}", str(ready.pk)).replace("{line_id}", "1")
            url = url.replace("{structure_id}", "1").replace("{year}", "2023")
            response = client.generic(method.upper(), url)
            if operation.get("security"):
                assert_problem(response, 401)
            else:
                assert response.status_code == 200
                public.add(path)
    assert public == {
        "/api/v1/campaigns",
        "/api/v1/products",
        "/api/v1/beneficiary-categories",
        "/api/v1/campaigns/{year}/rates",
    }


@pytest.mark.parametrize(
    "path, build",
    [
        ("/refund-requests", bulk_requests),
        ("/structures", bulk_attach),
        ("/attachment-requests", bulk_attachment_requests),
    ],
)
def test_list_queries_are_the_same_at_10_and_1000_rows(
    api_get, secret, farmer, path, build, django_assert_max_num_queries
):
    build(farmer, 10)
    with django_assert_max_num_queries(6) as small:
        body = api_get(path, secret, page_size=200).json()
    assert len(body["results"]) >= 10
    build(farmer, 990)
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = api_get(path, secret, page_size=200).json()
    assert len(body["results"]) == 200 and body["next"]


class TestDocumentation:
    def test_openapi_schema_lists_the_endpoints(self, api_get):
        schema = api_get("/openapi.json").json()
        assert schema["openapi"].startswith("3.")
        assert "/api/v1/refund-requests/{request_id}/filing" in schema["paths"]
        # Every error answer is documented as a problem, so that clients (and Schemathesis) check its shape.
        create = schema["paths"]["/api/v1/refund-requests"]["post"]["responses"]
        assert {"201", "401", "403", "404", "409", "422", "429"} <= set(create)
        assert "application/problem+json" in create["422"]["content"]
        assert (
            "BearerAuth" in str(schema["components"]["securitySchemes"])
            or schema["components"]["securitySchemes"]
        )

    def test_docs_page_uses_our_own_static_files(self, client):
        page = client.get("/api/v1/docs").content.decode()
        assert "ninja/swagger-ui-bundle.js" in page and "cdn" not in page.lower()

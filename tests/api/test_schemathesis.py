"""Schemathesis (property-based tests generated from the OpenAPI schema) against the live server, as a client
would call it: every operation, with valid and invalid data, a write token of a farmer with a draft request.
No response may be a server error, and every response must match the schema. Bounded: a few examples per
operation and a fixed seed, so that CI stays within a couple of minutes and a failure reproduces."""

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.api.conftest import make_token
from tests.reimbursements.factories import RefundLineFactory, RefundRequestFactory

MAX_EXAMPLES = 15


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_and_no_response_off_schema(
    live_server, farm, farmer, bank_account, monkeypatch, tmp_path
):
    # The generated calls are many more than a script's: lift the per-token and per-address limits.
    monkeypatch.setattr("api.auth.CALLS_PER_MINUTE", "100000/m")
    monkeypatch.setattr("api.auth.ANONYMOUS_CALLS_PER_MINUTE", "100000/m")
    draft = RefundRequestFactory(structure=farm, bank_account=bank_account, created_by=farmer)
    RefundLineFactory(request=draft, quantity=Decimal("100"))
    secret = make_token(farmer)
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{live_server.url}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {secret}",
        "--checks",
        "not_a_server_error,response_schema_conformance,content_type_conformance",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "15",
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "20",
        "--no-color",
        "--report-dir",
        str(tmp_path),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]

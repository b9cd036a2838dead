"""The company-register adapter against a real local HTTP server (http.server in a thread)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from structures.sirene import Company, company_lookup
from tests.factories import UserFactory

SIRET = "73282932000074"
RECORD = {
    "header": {"statut": 200, "message": "OK"},
    "etablissement": {
        "siret": SIRET,
        "uniteLegale": {"denominationUniteLegale": "GAEC DES TROIS CHENES"},
        "adresseEtablissement": {
            "numeroVoieEtablissement": "12",
            "typeVoieEtablissement": "RTE",
            "libelleVoieEtablissement": "DE LA VALLEE",
            "codePostalEtablissement": "35500",
            "libelleCommuneEtablissement": "VITRE",
        },
    },
}


class FakeSirene(BaseHTTPRequestHandler):
    routes: dict = {}
    requests: list = []

    def do_GET(self):
        FakeSirene.requests.append((self.path, self.headers.get("X-INSEE-Api-Key-Integration")))
        status, body, delay = FakeSirene.routes.get(self.path, (404, {"header": {"statut": 404}}, 0))
        if delay:
            time.sleep(delay)
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def sirene(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSirene)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeSirene.routes = {}
    FakeSirene.requests = []
    settings.SIRENE_API_URL = f"http://127.0.0.1:{server.server_address[1]}/api-sirene/3.11"
    settings.SIRENE_API_KEY = "cle-de-test"
    settings.SIRENE_API_TIMEOUT = 0.5
    yield FakeSirene
    server.shutdown()
    server.server_close()


PATH = f"/api-sirene/3.11/siret/{SIRET}"


def test_lookup_reads_name_and_address_and_sends_the_key(sirene):
    sirene.routes[PATH] = (200, RECORD, 0)
    assert company_lookup(SIRET) == Company(
        name="GAEC DES TROIS CHENES", street="12 RTE DE LA VALLEE", postcode="35500", city="VITRE"
    )
    assert sirene.requests == [(PATH, "cle-de-test")]


def test_lookup_of_an_individual_farmer_uses_first_and_last_name(sirene):
    record = json.loads(json.dumps(RECORD))
    record["etablissement"]["uniteLegale"] = {"prenom1UniteLegale": "JEANNE", "nomUniteLegale": "LEBRETON"}
    sirene.routes[PATH] = (200, record, 0)
    assert company_lookup(SIRET).name == "JEANNE LEBRETON"


@pytest.mark.parametrize(
    "route",
    [
        (404, {"header": {"statut": 404, "message": "Aucun élément trouvé"}}, 0),
        (500, {"error": "boom"}, 0),
        (429, {"error": "quota"}, 0),
        (200, b"<html>not json</html>", 0),
        (200, {"unexpected": True}, 0),
        (200, RECORD, 2),  # slower than the 0.5 s timeout
    ],
)
def test_lookup_failure_returns_nothing(sirene, route):
    sirene.routes[PATH] = route
    started = time.monotonic()
    assert company_lookup(SIRET) is None
    assert time.monotonic() - started < 1.5


def test_lookup_is_off_without_a_url(settings):
    settings.SIRENE_API_URL = ""
    assert company_lookup(SIRET) is None


def test_unreachable_register_returns_nothing(settings):
    settings.SIRENE_API_URL = "http://127.0.0.1:9/api"  # the discard port: nothing listens
    settings.SIRENE_API_TIMEOUT = 0.5
    assert company_lookup(SIRET) is None


@pytest.mark.django_db
def test_siret_step_prefills_the_details_from_the_register(client, sirene):
    sirene.routes[PATH] = (200, RECORD, 0)
    client.force_login(UserFactory())
    response = client.post(reverse("structures:create"), {"step": "siret", "siret": SIRET})
    assert 'value="GAEC DES TROIS CHENES"' in response.text
    assert 'value="12 RTE DE LA VALLEE"' in response.text
    assert "répertoire des entreprises (Sirene)" in response.text


@pytest.mark.django_db
def test_register_failure_leaves_the_details_to_type_by_hand(client, sirene):
    sirene.routes[PATH] = (503, {"error": "maintenance"}, 0)
    client.force_login(UserFactory())
    response = client.post(reverse("structures:create"), {"step": "siret", "siret": SIRET})
    assert response.status_code == 200
    assert "Étape 2 sur 2" in response.text
    assert "Sirene" not in response.text
    assert 'name="name"' in response.text

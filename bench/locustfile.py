"""A crowd on the portal, driven by bench/load.py (which builds the data and starts the stack):

- farmers sign in with their password and the code the portal e-mailed them (read from the database, where
  django-otp keeps it), create a refund request, add two lines with their invoice copies, file it and
  download the « accusé de dépôt »;
- accounting firms browse « Demandes de remboursement » and « Mes clients » and export them;
- structure managers open « Approbations » and approve the oldest pending attachment request.

Every simulated user comes from its own address (X-Forwarded-For, one trusted proxy), as real users do, so
the per-IP rate limits apply as in production. Step names are numbered so the report reads in order.
"""

import itertools
import json
import os
import random
import re

import psycopg2
from locust import HttpUser, between, task

PASSWORD = os.environ["BENCH_PASSWORD"]
with open(os.environ["BENCH_DATA"]) as handle:
    DATA = json.load(handle)
FARMERS = itertools.count(int(os.environ.get("BENCH_FARMER_OFFSET", "0")))
INVOICE = open(os.environ["BENCH_INVOICE"], "rb").read()  # noqa: SIM115 - read once, kept for the run
_codes = psycopg2.connect(os.environ["BENCH_DATABASE_DSN"])
_codes.autocommit = True


def login_code(email: str) -> str:
    """The code just e-mailed to `email` (the mail is also written by the worker to the file backend)."""
    with _codes.cursor() as cursor:
        cursor.execute(
            "SELECT d.token FROM otp_email_emaildevice d JOIN accounts_user u ON u.id = d.user_id "
            "WHERE u.email = %s",
            [email],
        )
        row = cursor.fetchone()
    return row[0] if row else ""


class PortalUser(HttpUser):
    abstract = True
    wait_time = between(0.5, 2)

    def on_start(self):
        self.client.headers["X-Forwarded-For"] = ".".join(str(random.randint(1, 254)) for _ in range(4))  # noqa: S311

    def csrf(self) -> str:
        return self.client.cookies.get("csrftoken", "")

    def sign_in(self, email: str) -> bool:
        self.client.cookies.clear()
        self.client.get("/compte/connexion/", name="0 page de connexion")
        response = self.client.post(
            "/compte/connexion/",
            {"username": email, "password": PASSWORD, "csrfmiddlewaretoken": self.csrf()},
            name="1 connexion : mot de passe",
        )
        if not response.url.endswith("/compte/connexion/code/"):
            return False
        response = self.client.post(
            "/compte/connexion/code/",
            {"code": login_code(email), "csrfmiddlewaretoken": self.csrf()},
            name="2 connexion : code reçu par courriel",
        )
        return "/compte/connexion" not in response.url


class Farmer(PortalUser):
    weight = 6

    @task
    def file_a_request(self):
        farmer = DATA["farmers"][next(FARMERS) % len(DATA["farmers"])]
        if not self.sign_in(farmer["email"]):
            return
        self.client.get("/remboursements/nouvelle/", name="3 nouvelle demande : formulaire")
        with self.client.post(
            "/remboursements/nouvelle/",
            {
                "structure": farmer["siret"],  # typed in the structure combobox
                "campaign": DATA["campaign"],
                "bank_account": farmer["bank_account"],
                "beneficiary_category": DATA["category"],
                "pacage": "035123456",
                "not_in_difficulty": "on",
                "csrfmiddlewaretoken": self.csrf(),
            },
            name="4 nouvelle demande : en-tête",
            catch_response=True,
        ) as response:
            found = re.search(r"/remboursements/(\d+)/$", response.url)
            if not found:
                response.failure("the request was not created")
                return
        pk = found.group(1)
        for number in (1, 2):
            self.client.get(f"/remboursements/{pk}/lignes/ajouter/", name="5 ligne : formulaire")
            self.client.post(
                f"/remboursements/{pk}/lignes/ajouter/",
                {
                    "invoice_number": f"FAC-{pk}-{number}",
                    "delivery_date": DATA["delivery_date"],
                    "product": DATA["product"],
                    "quantity": "12,5",
                    "csrfmiddlewaretoken": self.csrf(),
                },
                files={"invoice_copy": (f"facture {number}.pdf", INVOICE, "application/pdf")},
                name="6 ligne : enregistrer avec la facture",
            )
        with self.client.post(
            f"/remboursements/{pk}/deposer/",
            {"csrfmiddlewaretoken": self.csrf()},
            name="7 déposer la demande",
            catch_response=True,
        ) as response:
            if "Votre demande est déposée sous le numéro" not in response.text:
                response.failure("the request was not filed")
        self.client.get(f"/remboursements/{pk}/accuse-de-depot.pdf", name="8 accusé de dépôt (PDF)")


class Firm(PortalUser):
    weight = 2

    def on_start(self):
        super().on_start()
        self.sign_in(random.choice(DATA["accountants"]))  # noqa: S311

    @task(3)
    def requests_list(self):
        self.client.get("/remboursements/", name="F1 liste des demandes")
        self.client.get("/remboursements/?page=3", name="F2 liste des demandes, page 3")

    @task(2)
    def portfolio(self):
        self.client.get("/remboursements/mes-clients/", name="F3 mes clients")

    @task(1)
    def exports(self):
        self.client.get("/remboursements/export.csv", name="F4 export CSV des demandes")
        self.client.get("/remboursements/mes-clients/export.csv", name="F5 export CSV de mes clients")


class Manager(PortalUser):
    weight = 1

    def on_start(self):
        super().on_start()
        self.sign_in(random.choice(DATA["managers"]))  # noqa: S311

    @task
    def approve_the_oldest(self):
        response = self.client.get("/rattachements/approbations/", name="M1 approbations")
        pending = re.findall(r'href="/rattachements/approbations/(\d+)/"', response.text)
        if not pending:
            return
        pk = random.choice(pending[:10])  # noqa: S311 - managers working in parallel rarely pick the same one
        self.client.get(f"/rattachements/approbations/{pk}/", name="M2 approbation : détail")
        self.client.post(
            f"/rattachements/approbations/{pk}/",
            {"decision": "approve", "csrfmiddlewaretoken": self.csrf()},
            name="M3 approbation : approuver",
        )

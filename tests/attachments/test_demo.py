import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.demo import demo_user
from attachments.models import AttachmentRequest
from structures.demo import FARM_SIRET

pytestmark = pytest.mark.django_db


def test_demo_farm_manager_finds_the_accountants_request_on_first_sign_in():
    call_command("seed_demo")
    call_command("seed_demo")
    request = AttachmentRequest.objects.get()
    assert (request.requester, request.structure.siret, request.status) == (
        demo_user("accountant"),
        FARM_SIRET,
        "pending",
    )
    client = Client()
    client.force_login(demo_user("farmer"))
    assert (
        '<span class="fr-badge">1<span class="fr-sr-only"> en attente</span>'
        in client.get(reverse("home")).text
    )


def test_demo_does_not_file_again_once_the_request_was_decided():
    call_command("seed_demo")
    AttachmentRequest.objects.update(status="cancelled")
    call_command("seed_demo")
    assert AttachmentRequest.objects.count() == 1

"""Private files through Django's storage API: the local folder by default, the S3 bucket when configured (CI
runs these against moto's S3 server), and what users see when the bucket is down or slow."""

import hashlib
import re
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse

from chorus.storage import PendingFiles
from reimbursements.models import RefundLine
from structures.models import BankAccount
from tests.conftest import S3_CONFIGURED, local_files, requires_s3
from tests.documents import pdf_bytes, upload, valid_pdf
from tests.factories import BankAccountFactory, MembershipFactory
from tests.reimbursements.factories import RefundRequestFactory

pytestmark = pytest.mark.django_db

CREATE_ACCOUNT = reverse("structures:bank_account_create")


@pytest.fixture
def manager(client):
    membership = MembershipFactory(main_manager=True)
    client.force_login(membership.user)
    return membership


def account_form(structure, rib):
    return {
        "structure": structure.siret,
        "label": "Compte courant",
        "holder": structure.name,
        "iban": "FR76 3000 6000 0112 3456 7890 189",
        "bic": "AGRIFRPP",
        "rib_document": rib,
    }


# --- the default: the local folder ---------------------------------------------------------------------


@pytest.mark.skipif(S3_CONFIGURED, reason="checks the embedded default, without S3_BUCKET")
def test_without_s3_settings_private_files_go_to_the_local_folder(settings):
    name = default_storage.save("rib/local.pdf", ContentFile(b"%PDF-1.4 local"))
    assert isinstance(default_storage._wrapped, FileSystemStorage)
    assert (settings.MEDIA_ROOT / name).read_bytes() == b"%PDF-1.4 local"


def test_s3_settings_give_a_private_bucket_with_short_timeouts(monkeypatch):
    import subprocess
    import sys

    code = (
        "import django; django.setup();"
        "from django.core.files.storage import default_storage as s;"
        "c = s.client_config;"
        "print(type(s._wrapped).__name__, s.bucket_name, s.endpoint_url, s.default_acl, s.file_overwrite,"
        " s.querystring_expire, c.connect_timeout, c.read_timeout, c.s3['addressing_style'])"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "chorus.settings",
        "S3_BUCKET": "chorus-files",
        "S3_ENDPOINT_URL": "http://minio:9000",
        "S3_ACCESS_KEY_ID": "key",
        "S3_SECRET_ACCESS_KEY": "secret",
        "S3_TIMEOUT": "3",
    }
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.split() == [
        "S3Storage",
        "chorus-files",
        "http://minio:9000",
        "None",
        "False",
        "10",
        "3.0",
        "3.0",
        "path",
    ]


# --- the bucket (moto's server in CI) ------------------------------------------------------------------


@requires_s3
def test_rib_goes_to_the_bucket_nothing_to_the_local_folder_and_downloads_through_the_view(
    client, manager, settings
):
    content = pdf_bytes()
    response = client.post(CREATE_ACCOUNT, account_form(manager.structure, upload("RIB GAEC.pdf", content)))
    assert response.status_code == 302
    account = BankAccount.objects.get()
    client_s3 = default_storage.connection.meta.client
    stored = client_s3.get_object(
        Bucket=settings.S3_BUCKET, Key=f"{default_storage.location}/{account.rib_document.name}"
    )
    assert stored["Body"].read() == content
    assert local_files(settings) == []

    download = client.get(reverse("structures:bank_account_rib", args=[account.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Disposition"] == 'attachment; filename="RIB GAEC.pdf"'
    assert download["Content-Type"] == "application/pdf"
    assert local_files(settings) == []


@requires_s3
def test_stored_key_never_comes_from_the_uploaded_name(client, manager):
    evil = upload("../../../etc/rib.pdf", pdf_bytes())
    client.post(CREATE_ACCOUNT, account_form(manager.structure, evil))
    name = BankAccount.objects.get().rib_document.name
    assert re.fullmatch(r"rib/[A-Za-z0-9_-]{32}\.pdf", name)


@requires_s3
def test_a_missing_object_is_a_404_not_a_500(client, manager):
    account = BankAccountFactory(structure=manager.structure)
    default_storage.delete(account.rib_document.name)
    assert client.get(reverse("structures:bank_account_rib", args=[account.pk])).status_code == 404


@requires_s3
def test_copy_command_copies_local_files_verifies_them_and_can_run_twice(settings, tmp_path):
    source = tmp_path / "old-volume"
    local = FileSystemStorage(location=source)
    local.save("rib/a.pdf", ContentFile(b"%PDF-1.4 a"))
    local.save("invoices/b.pdf", ContentFile(b"%PDF-1.4 b" * 1000))
    local.save("support/2026/01/c.png", ContentFile(b"\x89PNG c"))

    call_command("copy_private_files_to_bucket", source=str(source))
    for name in ("rib/a.pdf", "invoices/b.pdf", "support/2026/01/c.png"):
        with default_storage.open(name, "rb") as copy, local.open(name, "rb") as original:
            assert hashlib.sha256(copy.read()).digest() == hashlib.sha256(original.read()).digest()

    out = StringIO()
    call_command("copy_private_files_to_bucket", source=str(source), stdout=out)
    assert "0 fichier(s) copié(s) et vérifié(s), 3 déjà présent(s) et identique(s)." in out.getvalue()


@requires_s3
def test_copy_command_never_overwrites_a_different_object(settings, tmp_path):
    source = tmp_path / "old-volume"
    FileSystemStorage(location=source).save("rib/a.pdf", ContentFile(b"%PDF-1.4 local"))
    default_storage.save("rib/a.pdf", ContentFile(b"%PDF-1.4 bucket"))
    with pytest.raises(CommandError, match="1 fichier"):
        call_command("copy_private_files_to_bucket", source=str(source))
    with default_storage.open("rib/a.pdf") as kept:
        assert kept.read() == b"%PDF-1.4 bucket"


def test_copy_command_refuses_without_a_bucket(settings):
    settings.S3_BUCKET = ""
    with pytest.raises(CommandError, match="S3_BUCKET"):
        call_command("copy_private_files_to_bucket")


# --- a failed change leaves no file; a failed upload leaves no row ---------------------------------------


def test_files_stored_for_a_change_that_does_not_commit_are_deleted():
    account = BankAccountFactory()
    line_request = RefundRequestFactory()
    with pytest.raises(IntegrityError), PendingFiles() as files, transaction.atomic():
        line = RefundLine(request=line_request)
        files.store(line.invoice_copy, valid_pdf("facture.pdf"))
        stored = line.invoice_copy.name
        assert default_storage.exists(stored)
        # A real database refusal after the file is stored: a second bank account row with the same id.
        BankAccount.objects.create(
            pk=account.pk, structure=account.structure, label="x", holder="x", iban="x", bic="x"
        )
    assert not default_storage.exists(stored)


def test_bank_details_are_refused_with_a_french_message_and_nothing_kept_when_the_bucket_is_unreachable(
    client, manager, settings, unreachable_bucket
):
    response = client.post(CREATE_ACCOUNT, account_form(manager.structure, valid_pdf()))
    assert response.status_code == 200
    assert "Le dépôt des documents est momentanément indisponible : rien n&#x27;a été enregistré." in (
        response.text
    )
    assert 'value="Compte courant"' in response.text  # other input kept
    assert not BankAccount.objects.exists()
    assert local_files(settings) == []


def test_download_answers_503_in_french_when_the_bucket_is_unreachable(client, manager, unreachable_bucket):
    account = BankAccountFactory.build(structure=manager.structure)
    account.rib_document = "rib/already-there.pdf"  # a row written while the bucket was up
    account.rib_original_name = "RIB.pdf"
    account.created_by = manager.user
    account.save()
    response = client.get(reverse("structures:bank_account_rib", args=[account.pk]))
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "Le stockage des documents ne répond pas pour le moment." in response.text

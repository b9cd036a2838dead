import csv
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.storage import Storage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from reimbursements import import_files
from reimbursements.import_models import ImportJob
from reimbursements.models import AdvanceOffer, Campaign, EnergyProduct, RefundLine, RefundRequest
from structures.models import BeneficiaryCategory, Membership
from tests.documents import image_bytes, pdf_bytes
from tests.factories import BankAccountFactory, MembershipFactory, StructureFactory, UserFactory, valid_siret
from tests.reimbursements.factories import RefundLineFactory, RefundRequestFactory, text

pytestmark = pytest.mark.django_db

IMPORT = reverse("reimbursements:import")
HEADER = "SIRET;Année;Numéro de facture;Date de livraison;Produit;Quantité;Fichier de la facture"
SAULES, MOULIN, STRANGER = valid_siret(7001), valid_siret(7002), valid_siret(7003)


@pytest.fixture
def firm_user(db, spring_2025):
    user = MembershipFactory(structure=StructureFactory(management_centre=True, name="Cabinet Compta")).user
    category = BeneficiaryCategory.objects.get(code="societe-agricole")
    for name, siret in (("EARL des Saules", SAULES), ("GAEC du Moulin", MOULIN)):
        structure = StructureFactory(name=name, siret=siret, beneficiary_category=category)
        MembershipFactory(user=user, structure=structure)
        BankAccountFactory(structure=structure)
    StructureFactory(name="Ferme voisine", siret=STRANGER)  # exists, but the firm is not attached
    return user


def lines_csv(*rows: str, encoding="utf-8", header=HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)


def invoices_zip(*names: str, content=None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.writestr(name, content if content is not None else pdf_bytes())
    return buffer.getvalue()


GOOD_ROWS = (
    f"{SAULES};2023;F-1;15/03/2023;gnr;1250,5;f1.pdf",
    f"{SAULES};2023;F-2;16/04/2023;Fioul lourd;10;f2.pdf",
    f"{MOULIN};2023;M-1;01/06/2023;gnr;100;m1.pdf",
)
GOOD_FILES = ("f1.pdf", "f2.pdf", "m1.pdf")


def send(client, lines: bytes, archive: bytes, name="lignes.csv", django_capture_on_commit_callbacks=None):
    return client.post(
        IMPORT,
        {
            "lines_file": SimpleUploadedFile(name, lines, content_type="text/csv"),
            "archive": SimpleUploadedFile("factures.zip", archive, content_type="application/zip"),
        },
    )


@pytest.fixture
def upload(client, firm_user, django_capture_on_commit_callbacks):
    client.force_login(firm_user)

    def _upload(lines: bytes, archive: bytes, name="lignes.csv"):
        with django_capture_on_commit_callbacks(execute=True):
            response = send(client, lines, archive, name)
        assert response.status_code == 302, response.context["form"].errors if response.context else response
        return ImportJob.objects.get(pk=response.url.rstrip("/").rsplit("/", 1)[1])

    return _upload


@pytest.fixture
def run(client, django_capture_on_commit_callbacks):
    def _run(job, action, data=None):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse(f"reimbursements:{action}", kwargs={"pk": job.pk}), data or {})
        assert response.status_code == 302
        job.refresh_from_db()
        return job

    return _run


def test_templates_have_the_columns_to_fill(client, firm_user):
    client.force_login(firm_user)
    response = client.get(reverse("reimbursements:import_template_csv"))
    content = b"".join(response.streaming_content).decode()
    assert content.startswith("\ufeff" + HEADER + "\r\n")
    response = client.get(reverse("reimbursements:import_template_xlsx"))
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == tuple(import_files.TEMPLATE_HEADER)


def test_the_check_previews_without_writing_anything(client, upload):
    job = upload(lines_csv(*GOOD_ROWS), invoices_zip(*GOOD_FILES))
    assert job.status == "checked" and (job.total, job.done) == (3, 3)
    assert [row["outcome"] for row in job.rows] == ["ok", "ok", "ok"]
    assert not RefundRequest.objects.exists() and not RefundLine.objects.exists()
    page = text(client.get(reverse("reimbursements:import_job", kwargs={"pk": job.pk})))
    assert "3 lignes prêtes à importer" in page and "0 ligne en erreur" in page
    assert "Importer" in page


def test_import_creates_one_draft_per_structure_and_year_through_the_services(upload, run, firm_user):
    job = upload(lines_csv(*GOOD_ROWS), invoices_zip(*GOOD_FILES))
    job = run(job, "import_job_start", {"not_in_difficulty": "on"})
    assert job.status == "imported"
    saules = RefundRequest.objects.get(structure__siret=SAULES)
    assert saules.status == "draft" and saules.created_by == firm_user and saules.not_in_difficulty
    assert saules.bank_account is not None and saules.beneficiary_category is not None
    # 1250.5 hl × 14.96 + 10 × 13.76, computed by refund_line_save.
    assert saules.total_amount == Decimal("18707.48") + Decimal("137.60")
    line = saules.lines.get(invoice_number="F-1")
    with line.invoice_copy.open("rb") as stored:
        assert stored.read(4) == b"%PDF" and line.invoice_original_name == "f1.pdf"
    assert sorted(job.request_ids) == sorted(RefundRequest.objects.values_list("pk", flat=True))
    assert [row["outcome"] for row in job.rows] == ["imported"] * 3


def test_importing_the_same_file_again_adds_nothing(client, upload, run):
    job = run(upload(lines_csv(*GOOD_ROWS), invoices_zip(*GOOD_FILES)), "import_job_start")
    again = upload(lines_csv(*GOOD_ROWS), invoices_zip(*GOOD_FILES))
    assert [row["outcome"] for row in again.rows] == ["skip"] * 3
    page = text(client.get(reverse("reimbursements:import_job", kwargs={"pk": again.pk})))
    assert "3 lignes déjà présentes" in page and "Aucune ligne n'est prête à importer" in page
    response = client.post(reverse("reimbursements:import_job_start", kwargs={"pk": again.pk}), follow=True)
    assert "Aucune ligne n'est prête à importer" in text(response)
    assert RefundLine.objects.count() == 3 and job.status == "imported"


def test_completes_an_existing_draft(upload, run, firm_user):
    draft = RefundRequestFactory(structure=Membership.objects.get(structure__siret=MOULIN).structure)
    RefundLineFactory(request=draft, invoice_number="OLD-1")
    job = run(upload(lines_csv(GOOD_ROWS[2]), invoices_zip("m1.pdf")), "import_job_start")
    assert job.request_ids == [draft.pk]
    assert set(draft.lines.values_list("invoice_number", flat=True)) == {"OLD-1", "M-1"}


@pytest.mark.parametrize(
    ("row", "files", "message"),
    [
        ("12345678901234;2023;X;15/03/2023;gnr;1;f.pdf", ["f.pdf"], "SIRET invalide"),
        (
            f"{valid_siret(7999)};2023;X;15/03/2023;gnr;1;f.pdf",
            ["f.pdf"],
            "SIRET inconnu, ou structure à laquelle vous n'êtes pas rattaché.",
        ),
        (
            f"{STRANGER};2023;X;15/03/2023;gnr;1;f.pdf",
            ["f.pdf"],
            "SIRET inconnu, ou structure à laquelle vous n'êtes pas rattaché.",
        ),
        (
            f"{SAULES};2021;X;15/03/2021;gnr;1;f.pdf",
            ["f.pdf"],
            "La campagne 2021 n'est pas ouverte au dépôt.",
        ),
        (f"{SAULES};1990;X;15/03/1990;gnr;1;f.pdf", ["f.pdf"], "Année inconnue"),
        (
            f"{SAULES};2023;X;15/03/2022;gnr;1;f.pdf",
            ["f.pdf"],
            "La date de livraison doit être comprise dans l'année de la demande (2023).",
        ),
        (f"{SAULES};2023;X;31/02/2023;gnr;1;f.pdf", ["f.pdf"], "Date de livraison invalide"),
        (
            f"{SAULES};2023;X;15/03/2023;gaz-naturel;1;f.pdf",
            ["f.pdf"],
            "Aucun taux de remboursement n'est fixé pour le produit « Gaz naturel » en 2023.",
        ),
        (f"{SAULES};2022;X;15/03/2022;gnr;1;f.pdf", ["f.pdf"], "est clos depuis le 31/12/2024"),
        (f"{SAULES};2023;X;15/03/2023;kérosène;1;f.pdf", ["f.pdf"], "Produit inconnu : « kérosène »"),
        (
            f"{SAULES};2023;X;15/03/2023;gnr;100001;f.pdf",
            ["f.pdf"],
            "La quantité ne peut pas dépasser 100000 hl",
        ),
        (f"{SAULES};2023;X;15/03/2023;gnr;-3;f.pdf", ["f.pdf"], "Quantité invalide"),
        (f"{SAULES};2023;X;15/03/2023;gnr;0;f.pdf", ["f.pdf"], "La quantité doit être supérieure à zéro."),
        (f"{SAULES};2023;X;15/03/2023;gnr;1,2345;f.pdf", ["f.pdf"], "au plus 3 décimales"),
        (f"{SAULES};2023;;15/03/2023;gnr;1;f.pdf", ["f.pdf"], "Indiquez le numéro de facture."),
        (f"{SAULES};2023;X;15/03/2023;gnr;1;", ["f.pdf"], "Indiquez le fichier de la copie de la facture"),
        (
            f"{SAULES};2023;X;15/03/2023;gnr;1;g.pdf",
            ["f.pdf"],
            "Le fichier « g.pdf » est absent de l'archive des factures.",
        ),
    ],
)
def test_each_wrong_row_gets_its_french_error(upload, row, files, message):
    job = upload(lines_csv(row), invoices_zip(*files))
    assert job.status == "checked"
    [verdict] = job.rows
    assert verdict["outcome"] == "error" and message in verdict["message"], verdict["message"]
    assert not RefundRequest.objects.exists()


def test_an_unreadable_invoice_copy_is_a_row_error(upload):
    job = upload(
        lines_csv(f"{SAULES};2023;X;15/03/2023;gnr;1;f.pdf"),
        invoices_zip("f.pdf", content=b"%PDF-1.4 broken"),
    )
    assert "n'est pas une copie de facture lisible" in job.rows[0]["message"]


def test_duplicate_invoices_in_the_file_and_in_the_request(upload):
    draft = RefundRequestFactory(structure=Membership.objects.get(structure__siret=MOULIN).structure)
    RefundLineFactory(request=draft, invoice_number="M-9", quantity=Decimal("5"))
    job = upload(
        lines_csv(
            f"{SAULES};2023;F-1;15/03/2023;gnr;1;f.pdf",
            f"{SAULES};2023;f-1;16/03/2023;gnr;2;f.pdf",
            f"{MOULIN};2023;M-9;15/03/2023;gnr;6;f.pdf",
        ),
        invoices_zip("f.pdf"),
    )
    assert job.rows[0]["outcome"] == "held"
    assert "Facture en double : la ligne 2 du fichier" in job.rows[1]["message"]
    assert "Facture en double : la demande a déjà une ligne" in job.rows[2]["message"]


def test_a_filed_request_gets_no_more_lines(upload, firm_user):
    structure = Membership.objects.get(structure__siret=SAULES).structure
    RefundRequestFactory(
        structure=structure,
        status="filed",
        number="TIC-2023-000001",
        filed_by=firm_user,
        filed_at="2025-05-01T10:00Z",
    )
    job = upload(lines_csv(GOOD_ROWS[0]), invoices_zip("f1.pdf"))
    assert "à l'état « Déposée » : elle ne peut plus recevoir de lignes" in job.rows[0]["message"]


def test_a_structure_with_a_wrong_row_gets_none_of_its_rows(upload, run):
    job = upload(
        lines_csv(*GOOD_ROWS, f"{SAULES};2023;F-3;15/03/2023;gnr;abc;f1.pdf"), invoices_zip(*GOOD_FILES)
    )
    assert [row["outcome"] for row in job.rows] == ["held", "held", "ok", "error"]
    job = run(job, "import_job_start")
    assert list(RefundRequest.objects.values_list("structure__siret", flat=True)) == [MOULIN]
    assert [row["outcome"] for row in job.rows] == ["held", "held", "imported", "error"]


def test_a_failure_while_importing_rolls_the_whole_structure_back(upload, run, settings):
    job = upload(lines_csv(*GOOD_ROWS), invoices_zip(*GOOD_FILES))
    # Between the check and the import an administrator lowers the fioul lourd bound: the second line of
    # « EARL des Saules » is refused by refund_line_save after its first line was saved.
    EnergyProduct.objects.filter(code="fioul-lourd").update(max_quantity=Decimal("5"))
    job = run(job, "import_job_start")
    assert list(RefundRequest.objects.values_list("structure__siret", flat=True)) == [MOULIN]
    assert RefundLine.objects.count() == 1
    saules_rows = [row for row in job.rows if row["siret"] == SAULES]
    assert all(
        row["outcome"] == "error" and "Structure non importée" in row["message"] for row in saules_rows
    )
    # The invoice copy stored for the rolled-back line is gone from storage too.
    # Through the storage API: the local folder, or the bucket when S3 is configured (CI).
    stored = default_storage.listdir("invoices")[1]
    assert len(stored) == 1


def test_french_conventions_windows_1252_bom_comma_and_xlsx(upload):
    header_1252 = HEADER.replace(";", ";")
    job = upload(lines_csv(GOOD_ROWS[0], encoding="cp1252", header=header_1252), invoices_zip("f1.pdf"))
    assert job.rows[0]["outcome"] == "ok" and job.rows[0]["quantity"] == "1250.5"
    job = upload(b"\xef\xbb\xbf" + lines_csv(GOOD_ROWS[0]), invoices_zip("f1.pdf"))
    assert job.rows[0]["outcome"] == "ok"
    comma = lines_csv(
        GOOD_ROWS[0].replace(";", ",").replace("1250,5", '"1 250,5"'), header=HEADER.replace(";", ",")
    )
    assert upload(comma, invoices_zip("f1.pdf")).rows[0]["outcome"] == "ok"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(import_files.TEMPLATE_HEADER)
    from datetime import datetime

    sheet.append([int(SAULES), 2023, "F-1", datetime(2023, 3, 15), "gnr", 1250.5, "f1.pdf"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = upload(buffer.getvalue(), invoices_zip("f1.pdf"), name="lignes.xlsx")
    assert job.rows[0]["outcome"] == "ok", job.rows[0]["message"]
    assert job.rows[0]["delivery_date"] == "2023-03-15" and job.rows[0]["quantity"] == "1250.5"


def test_invoices_may_be_images_in_folders(upload):
    job = upload(
        lines_csv(GOOD_ROWS[0].replace("f1.pdf", "scans/f1.png")),
        invoices_zip("scans/f1.png", content=image_bytes("PNG")),
    )
    assert job.rows[0]["outcome"] == "ok"


def _zip_with(entries: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _workbook_with(extra_part: str) -> bytes:
    workbook = Workbook()
    workbook.active.append(import_files.TEMPLATE_HEADER)
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr(extra_part, b"<x/>")
    return out.getvalue()


def _many_entries(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for index in range(count):
            archive.writestr(f"f{index}.pdf", b"x")
    return buffer.getvalue()


BAD_ARCHIVES = {
    "bomb_ratio": (lambda: _zip_with({"f.pdf": b"\0" * (5 * 1024 * 1024)}), "anormalement compressé"),
    "dotdot": (lambda: _zip_with({"../../etc/f.pdf": pdf_bytes()}), "chemin interdit"),
    "absolute": (lambda: _zip_with({"/etc/f.pdf": pdf_bytes()}), "chemin interdit"),
    "too_many": (lambda: _many_entries(10_001), "plus de 10\u00a0000 fichiers"),
    "nested_by_name": (lambda: _zip_with({"inner.zip": b"abc"}), "contient une autre archive"),
    "nested_by_content": (lambda: _zip_with({"f.pdf": invoices_zip("x.pdf")}), "contient une autre archive"),
    "not_a_zip": (lambda: pdf_bytes(), "n'est pas un fichier ZIP lisible"),
}


@pytest.mark.parametrize("kind", BAD_ARCHIVES)
def test_bad_archives_are_refused_by_content_and_nothing_is_written(client, firm_user, kind):
    make, message = BAD_ARCHIVES[kind]
    client.force_login(firm_user)
    response = send(client, lines_csv(GOOD_ROWS[0]), make())
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["archive"])
    assert not ImportJob.objects.exists()


def test_an_archive_too_big_once_uncompressed_is_refused(client, firm_user, monkeypatch):
    monkeypatch.setattr(import_files, "ARCHIVE_MAX_UNCOMPRESSED", 2 * len(pdf_bytes()))
    client.force_login(firm_user)
    response = send(client, lines_csv(GOOD_ROWS[0]), invoices_zip("a.pdf", "b.pdf", "c.pdf"))
    assert "une fois décompressée" in " ".join(response.context["form"].errors["archive"])


BAD_LINES = {
    "xlsm": (lambda: _workbook_with("xl/vbaProject.bin"), "contient des macros"),
    "external_links": (
        lambda: _workbook_with("xl/externalLinks/externalLink1.xml"),
        "liaisons vers d'autres fichiers",
    ),
    "huge_csv": (
        lambda: lines_csv(*([f"{SAULES};2023;{'x' * 1_000_000};15/03/2023;gnr;1;f.pdf"] * 50)),
        "taille maximale de 10 Mo",
    ),
    "huge_cell": (
        lambda: lines_csv(f"{SAULES};2023;{'x' * 1_000_000};15/03/2023;gnr;1;f.pdf"),
        "plus de 1000 caractères",
    ),
    "binary": (lambda: b"\x00\x01\x02" * 100, "ni un fichier CSV ni un classeur XLSX"),
    "xls": (lambda: b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "Excel 97-2003"),
    "missing_columns": (lambda: b"SIRET;Produit\r\n1;gnr\r\n", "Colonnes manquantes"),
    "header_only": (lambda: lines_csv(), "aucune ligne de demande"),
    "empty": (lambda: b"   ", "Le fichier des lignes est vide."),
}


@pytest.mark.parametrize("kind", BAD_LINES)
def test_bad_line_files_are_refused_by_content_and_nothing_is_written(client, firm_user, kind):
    make, message = BAD_LINES[kind]
    client.force_login(firm_user)
    response = send(client, make(), invoices_zip("f.pdf"), name="lignes.csv")
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["lines_file"])
    assert not ImportJob.objects.exists()


def test_missing_files_are_asked_for(client, firm_user):
    client.force_login(firm_user)
    response = client.post(IMPORT, {})
    errors = response.context["form"].errors
    assert errors["lines_file"] == ["Joignez le fichier des lignes."]
    assert errors["archive"] == ["Joignez l'archive ZIP des copies de factures."]


def test_another_users_job_is_not_found(client, upload):
    job = upload(lines_csv(*GOOD_ROWS), invoices_zip(*GOOD_FILES))
    client.force_login(UserFactory())
    for name in ("import_job", "import_job_report"):
        assert client.get(reverse(f"reimbursements:{name}", kwargs={"pk": job.pk})).status_code == 404
    for name in ("import_job_start", "import_job_file"):
        assert client.post(reverse(f"reimbursements:{name}", kwargs={"pk": job.pk})).status_code == 404


def test_the_report_lists_every_row_with_its_outcome(client, upload):
    job = upload(lines_csv(GOOD_ROWS[0], "=cmd;2023;X;15/03/2023;gnr;1;f1.pdf"), invoices_zip("f1.pdf"))
    response = client.get(reverse("reimbursements:import_job_report", kwargs={"pk": job.pk}))
    rows = list(
        csv.reader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff")), delimiter=";")
    )
    assert rows[0][0] == "Ligne" and rows[1][9] == "Prête à importer"
    assert rows[2][1] == "'=cmd" and rows[2][9] == "Erreur" and "SIRET invalide" in rows[2][10]


def test_the_progress_fragment_is_served_to_htmx(client, upload):
    job = upload(lines_csv(*GOOD_ROWS), invoices_zip(*GOOD_FILES))
    ImportJob.objects.filter(pk=job.pk).update(status="importing", total=3, done=1)
    url = reverse("reimbursements:import_job", kwargs={"pk": job.pk})
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="import-job"') and 'hx-trigger="every 1s"' in fragment
    assert '<progress id="job-progress" max="100" value="33">' in fragment
    page = text(client.get(url))
    assert "1 sur 3 traité (33 %)" in page and "Actualiser la page" in page


def test_filing_files_the_complete_drafts_and_says_why_not_for_the_others(client, upload, run):
    AdvanceOffer.objects.all().delete()  # an offered advance is answered on each request: see below
    moulin = Membership.objects.get(structure__siret=MOULIN).structure
    moulin.bank_accounts.update(is_active=False)
    job = run(
        upload(lines_csv(*GOOD_ROWS), invoices_zip(*GOOD_FILES)),
        "import_job_start",
        {"not_in_difficulty": "on"},
    )
    job = run(job, "import_job_file")
    assert job.status == "filed"
    by_siret = {r["siret"]: r for r in job.results}
    assert by_siret[SAULES]["filed"] and by_siret[SAULES]["number"].startswith("TIC-2023-")
    assert not by_siret[MOULIN]["filed"]
    assert (
        "Choisissez les références bancaires de la structure dans l'en-tête." in by_siret[MOULIN]["problems"]
    )
    page = text(client.get(reverse("reimbursements:import_job", kwargs={"pk": job.pk})))
    assert (
        "1 demande déposée, 1 non déposée" in page
        and "Non déposée : Choisissez les références bancaires" in page
    )
    # A second click does not file twice.
    response = client.post(reverse("reimbursements:import_job_file", kwargs={"pk": job.pk}), follow=True)
    assert "déjà lancé ou terminé" in text(response)


def test_file_every_complete_request_from_mes_clients(client, firm_user, django_capture_on_commit_callbacks):
    AdvanceOffer.objects.all().delete()  # an offered advance is answered on each request: see below
    saules = Membership.objects.get(structure__siret=SAULES).structure
    complete = RefundRequestFactory(structure=saules, bank_account=saules.bank_accounts.get())
    RefundLineFactory(request=complete)
    incomplete = RefundRequestFactory(
        structure=saules, campaign=Campaign.objects.get(year=2022), not_in_difficulty=False
    )
    client.force_login(firm_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reimbursements:portfolio_file"))
    job = ImportJob.objects.get(kind="filing")
    assert response.url == reverse("reimbursements:import_job", kwargs={"pk": job.pk})
    complete.refresh_from_db()
    incomplete.refresh_from_db()
    assert complete.status == "filed" and incomplete.status == "draft"
    assert job.status == "filed" and len(job.results) == 2


def test_bulk_filing_never_answers_an_advance_offer_for_the_filer(
    client, firm_user, django_capture_on_commit_callbacks
):
    """2023 requests carry the 2024 advance offer: its amount and commitment are shown and answered on each
    request's page, never decided in bulk."""
    saules = Membership.objects.get(structure__siret=SAULES).structure
    offered = RefundRequestFactory(structure=saules, bank_account=saules.bank_accounts.get())
    RefundLineFactory(request=offered)
    client.force_login(firm_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reimbursements:portfolio_file"))
    job = ImportJob.objects.get(kind="filing")
    offered.refresh_from_db()
    assert offered.status == "draft"
    assert job.results[0]["problems"] == [
        "Indiquez si vous demandez le versement de l'avance au titre des livraisons 2024."
    ]


def test_nothing_to_file_from_mes_clients_says_so(client, firm_user):
    client.force_login(firm_user)
    response = client.post(reverse("reimbursements:portfolio_file"), follow=True)
    assert "Aucune demande en brouillon ou à compléter n'attend de dépôt." in text(response)


def test_each_imported_line_takes_the_rate_of_its_delivery_window(upload, run):
    from datetime import date

    from reimbursements.models import RefundRate

    campaign, gnr = Campaign.objects.get(year=2024), EnergyProduct.objects.get(code="gnr")
    for start, end, amount in (
        (date(2024, 1, 1), date(2024, 6, 30), "14.96"),
        (date(2024, 7, 1), date(2024, 12, 31), "20.95"),
    ):
        RefundRate.objects.create(
            campaign=campaign,
            product=gnr,
            amount=Decimal(amount),
            legal_reference="Taux de test",
            deliveries_from=start,
            deliveries_until=end,
        )
    job = upload(
        lines_csv(f"{SAULES};2024;A;30/06/2024;gnr;10;f1.pdf", f"{SAULES};2024;B;01/07/2024;gnr;10;f2.pdf"),
        invoices_zip("f1.pdf", "f2.pdf"),
    )
    run(job, "import_job_start")
    lines = RefundLine.objects.filter(request__campaign=campaign).order_by("invoice_number")
    assert [(line.rate, line.amount) for line in lines] == [
        (Decimal("14.9600"), Decimal("149.60")),
        (Decimal("20.9500"), Decimal("209.50")),
    ]
    assert lines[0].request.total_amount == Decimal("359.10")


def test_a_user_detached_between_check_and_import_imports_nothing_there(upload, run, firm_user):
    job = upload(lines_csv(*GOOD_ROWS), invoices_zip(*GOOD_FILES))
    Membership.objects.filter(user=firm_user, structure__siret=SAULES).update(is_active=False)
    job = run(job, "import_job_start")
    assert list(RefundRequest.objects.values_list("structure__siret", flat=True)) == [MOULIN]
    assert "Vous n'êtes plus rattaché à cette structure." in job.rows[0]["message"]


def test_the_progress_poll_does_not_load_the_rows(client, upload, django_assert_max_num_queries):
    job = upload(lines_csv(*GOOD_ROWS), invoices_zip(*GOOD_FILES))
    ImportJob.objects.filter(pk=job.pk).update(status="importing", total=3, done=1)
    with django_assert_max_num_queries(4) as queries:
        client.get(
            reverse("reimbursements:import_job", kwargs={"pk": job.pk}), headers={"HX-Request": "true"}
        )
    assert not any('"rows"' in query["sql"] for query in queries.captured_queries)


def test_admin_lists_jobs_read_only(upload, admin_client):
    job = upload(lines_csv(*GOOD_ROWS), invoices_zip(*GOOD_FILES))
    response = admin_client.get(reverse("admin:reimbursements_importjob_changelist"))
    assert response.status_code == 200 and "lignes.csv" in response.content.decode()
    response = admin_client.get(reverse("admin:reimbursements_importjob_change", args=[job.pk]))
    assert response.status_code == 200


def test_a_broker_that_cannot_take_the_job_fails_it_with_a_message(
    client, firm_user, monkeypatch, django_capture_on_commit_callbacks
):
    from reimbursements import tasks

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.import_job_run, "delay", refuse)
    client.force_login(firm_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, lines_csv(*GOOD_ROWS), invoices_zip(*GOOD_FILES))
    job = ImportJob.objects.get()
    assert job.status == "failed"
    assert "momentanément indisponible" in text(client.get(response.url))


def test_a_storage_outage_keeps_nothing_and_says_so(client, firm_user, monkeypatch):
    from reimbursements.import_models import ImportJob as Job

    def refuse(*args, **kwargs):
        raise OSError("no space left")

    # On the class every backend inherits save() from: the default storage is a lazy object that each test's
    # settings rebuild (a bucket prefix of its own when S3 is configured), so patching the instance leaks.
    monkeypatch.setattr(Storage, "save", refuse)
    client.force_login(firm_user)
    response = send(client, lines_csv(*GOOD_ROWS), invoices_zip(*GOOD_FILES))
    assert response.status_code == 200
    assert "momentanément indisponible" in " ".join(response.context["form"].non_field_errors())
    assert not Job.objects.exists()

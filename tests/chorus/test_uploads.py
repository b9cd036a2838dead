import io

import pytest
from django import forms
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image
from pypdf import PdfWriter
from pypdf.annotations import Link

from chorus import uploads
from chorus.uploads import DocumentField, private_file_response
from tests.documents import (
    EXECUTABLE,
    image_bytes,
    jpeg_claiming_size,
    pdf_bytes,
    pdf_with_action,
    pdf_with_document_javascript,
    pdf_with_pages,
    pdf_with_zeros_streams,
    png_bytes,
    upload,
    valid_jpeg,
    valid_pdf,
    valid_png,
)


class DocumentForm(forms.Form):
    document = DocumentField(max_mb=5)


def clean(file):
    form = DocumentForm(data={}, files={"document": file})
    form.is_valid()
    return form


@pytest.mark.parametrize("make", [valid_pdf, valid_png, valid_jpeg])
def test_real_pdf_png_and_jpeg_are_accepted_under_a_random_name(make):
    uploaded = make()
    form = clean(uploaded)
    assert form.is_valid(), form.errors
    document = form.cleaned_data["document"]
    assert document.original_name == uploaded.original_name
    assert document.name.rsplit(".", 1)[1] in {"pdf", "png", "jpg"}
    assert len(document.name) > 30


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (upload("rib.pdf", EXECUTABLE), "ni un PDF, ni une image"),
        (upload("rib.pdf", b"<html><script>alert(1)</script></html>"), "ni un PDF, ni une image"),
        (upload("rib.pdf", pdf_bytes()[:60]), "endommagé ou incomplet"),
        (upload("rib.png", image_bytes("PNG")[:40], "image/png"), "endommagé ou incomplet"),
        (upload("rib.pdf", b""), "Le fichier est vide."),
        (upload("rib.pdf", b"%PDF-1.4\n" + b"0" * (6 * 1024 * 1024)), "taille maximale de 5 Mo"),
    ],
    ids=["renamed-executable", "html", "truncated-pdf", "truncated-png", "empty", "six-megabytes"],
)
def test_bad_documents_are_refused_with_a_french_message(file, message):
    form = clean(file)
    assert not form.is_valid()
    assert message in form.errors["document"][0]


def test_private_file_is_served_as_a_download_that_browsers_must_not_sniff(db):
    name = default_storage.save("rib/abc.pdf", ContentFile(pdf_bytes()))
    response = private_file_response(default_storage.open(name), download_name="RIB GAEC.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    response.close()


# Upload bombs: images over the pixel budget, PDFs that expand, run long or run code.


def refusal(content: bytes, name: str = "rib.pdf", content_type: str = "application/pdf") -> str:
    form = clean(upload(name, content, content_type))
    assert not form.is_valid()
    return form.errors["document"][0]


def test_image_over_the_pixel_budget_is_refused():
    # The outside test's bomb: 9000×9000 pixels in a small PNG.
    bomb = png_bytes(9000, 9000)
    assert len(bomb) < 300 * 1024
    assert "Cette image est trop grande : elle dépasse 40 millions de pixels" in refusal(
        bomb, "rib.png", "image/png"
    )


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        # The pixel data is cut short: decoding would call the file damaged, so the header alone decided.
        (png_bytes(9000, 9000)[:200], "image/png"),
        (jpeg_claiming_size(10_000, 5_000), "image/jpeg"),
        (jpeg_claiming_size(65_000, 65_000), "image/jpeg"),  # past Pillow's own bomb limit
    ],
    ids=["png-header", "jpeg-50-megapixels", "jpeg-4-gigapixels"],
)
def test_pixel_budget_is_checked_from_the_header_before_decoding(content, content_type):
    assert "trop grande" in refusal(content, "rib.img", content_type)


def test_image_at_the_pixel_budget_is_accepted_one_more_row_is_not(monkeypatch):
    monkeypatch.setattr(uploads, "IMAGE_MAX_PIXELS", 40 * 25)
    assert clean(upload("rib.png", png_bytes(40, 25), "image/png")).is_valid()
    assert "trop grande" in refusal(png_bytes(40, 26), "rib.png", "image/png")


def test_damaged_png_is_refused_by_its_checksums_without_decoding():
    content = png_bytes(400, 300)
    assert clean(upload("rib.png", content, "image/png")).is_valid()
    assert "endommagé ou incomplet" in refusal(content[:-20], "rib.png", "image/png")
    idat = content.index(b"IDAT") + 10
    flipped = content[:idat] + bytes([content[idat] ^ 0xFF]) + content[idat + 1 :]
    assert "endommagé ou incomplet" in refusal(flipped, "rib.png", "image/png")


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_truncated_jpeg_is_refused(progressive):
    photo = io.BytesIO()
    Image.effect_noise((800, 600), 64).convert("RGB").save(photo, format="JPEG", progressive=progressive)
    content = photo.getvalue()
    assert clean(upload("rib.jpg", content, "image/jpeg")).is_valid()
    # Cameras may append data after the end-of-image marker: still a whole picture.
    assert clean(upload("rib.jpg", content + b"\x00trailer", "image/jpeg")).is_valid()
    assert "endommagé ou incomplet" in refusal(content[: len(content) // 2], "rib.jpg", "image/jpeg")
    assert "endommagé ou incomplet" in refusal(content[:-2], "rib.jpg", "image/jpeg")


def test_pdf_expanding_past_the_decoded_budget_is_refused():
    # The outside test's bomb: a 300 MB stream, a few hundred KB once compressed.
    bomb = pdf_with_zeros_streams(300)
    assert len(bomb) < 1024 * 1024
    assert "Ce PDF est trop volumineux une fois décompressé (plus de 100 Mo)" in refusal(bomb)


def test_pdf_whose_streams_together_pass_the_decoded_budget_is_refused():
    assert "trop volumineux une fois décompressé" in refusal(pdf_with_zeros_streams(40, pages=3))
    assert clean(upload("facture.pdf", pdf_with_zeros_streams(40, pages=2))).is_valid()


def test_pdf_with_too_many_pages_is_refused():
    assert clean(upload("facture.pdf", pdf_with_pages(100))).is_valid()
    assert (
        refusal(pdf_with_pages(101)) == "Ce PDF compte 101 pages : joignez un document de 100 pages au plus."
    )


def test_pdf_taking_too_long_to_check_is_refused(monkeypatch):
    monkeypatch.setattr(uploads, "PDF_MAX_SECONDS", -1.0)
    assert "Ce PDF est trop complexe pour être vérifié." in refusal(pdf_bytes())


def _hex_escaped_javascript() -> bytes:
    # "/J#61vaScript" is "/JavaScript" to a viewer; keep the byte count so the cross-reference table holds.
    content = pdf_with_action("/JavaScript")
    escaped = content.replace(b"/JavaScript", b"/J#61vaScript").replace(b"bonjour", b"bonjo")
    assert len(escaped) == len(content)
    return escaped


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(pdf_with_document_javascript(), id="document-javascript"),
        pytest.param(pdf_with_action("/JavaScript"), id="open-action-javascript"),
        pytest.param(pdf_with_action("/Launch"), id="open-action-launch"),
        pytest.param(pdf_with_action("/JavaScript", where="page"), id="page-action-javascript"),
        pytest.param(pdf_with_action("/Launch", where="page"), id="page-action-launch"),
        pytest.param(_hex_escaped_javascript(), id="hex-escaped-name"),
    ],
)
def test_pdf_running_code_when_opened_is_refused(content):
    assert refusal(content).startswith(
        "Ce PDF contient du code qui s'exécute à l'ouverture (JavaScript ou lancement d'un programme)"
    )


def test_pdf_with_a_web_link_is_accepted():
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_annotation(0, Link(rect=(50, 50, 300, 80), url="https://www.impots.gouv.fr/"))
    buffer = io.BytesIO()
    writer.write(buffer)
    assert clean(upload("facture.pdf", buffer.getvalue())).is_valid()


def encrypted_pdf(*, user_password: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password=user_password, owner_password="banque", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_pdf_locked_by_a_password_gets_its_own_message():
    assert (
        refusal(encrypted_pdf(user_password="secret"))
        == "Ce PDF est protégé par un mot de passe. Joignez une copie sans mot de passe."
    )


def test_pdf_encrypted_only_against_changes_is_accepted():
    # Banks often restrict printing or copying with an owner password: anyone can open the file.
    assert clean(upload("rib.pdf", encrypted_pdf(user_password=""))).is_valid()

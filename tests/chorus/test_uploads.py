import pytest
from django import forms
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from chorus.uploads import DocumentField, private_file_response
from tests.documents import EXECUTABLE, image_bytes, pdf_bytes, upload, valid_jpeg, valid_pdf, valid_png


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

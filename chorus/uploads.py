"""Uploaded documents (RIB copies, invoices, ticket attachments) are checked by their content, never by
their name or the browser's declared type: the magic bytes must say PDF, PNG or JPEG, and the file must
parse as such. Accepted files are stored under a random name in the private storage."""

import io
import logging
import secrets

import filetype
from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from chorus.storage import STORAGE_ERRORS, StorageUnavailable

logger = logging.getLogger(__name__)

ACCEPTED_TYPES = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
MB = 1024 * 1024


def _parses(kind: str, data: bytes) -> bool:
    try:
        if kind == "pdf":
            reader = PdfReader(io.BytesIO(data), strict=False)
            return len(reader.pages) > 0
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # verify() does not decode; a truncated image fails here
        return True
    except (PdfReadError, UnidentifiedImageError, OSError, ValueError, KeyError, TypeError):
        return False
    except Exception:
        logger.exception("Unexpected error while parsing an uploaded %s", kind)
        return False


class DocumentField(forms.FileField):
    """A PDF, PNG or JPEG document of at most `max_mb` megabytes, checked by content and parsed."""

    def __init__(self, *, max_mb: int, **kwargs):
        self.max_bytes = max_mb * MB
        kwargs.setdefault("help_text", f"Formats acceptés : PDF, PNG ou JPEG. Taille maximale : {max_mb} Mo.")
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}))
        super().__init__(**kwargs)
        self.error_messages = {
            **self.error_messages,
            "empty": "Le fichier est vide.",
            "required": "Joignez le document.",
            "invalid": "Le fichier n'a pas pu être lu. Joignez-le de nouveau.",
            "missing": "Aucun fichier n'a été reçu. Joignez-le de nouveau.",
        }

    def clean(self, data, initial=None):
        uploaded = super().clean(data, initial)
        if not isinstance(uploaded, UploadedFile):
            return uploaded
        if uploaded.size > self.max_bytes:
            raise forms.ValidationError(
                f"Le fichier dépasse la taille maximale de {self.max_bytes // MB} Mo.", code="too_big"
            )
        uploaded.seek(0)
        data = uploaded.read()
        uploaded.seek(0)
        kind = filetype.guess(data)
        extension = ACCEPTED_TYPES.get(kind.mime if kind else "")
        if extension is None:
            raise forms.ValidationError(
                "Ce fichier n'est ni un PDF, ni une image PNG ou JPEG. Joignez un document dans l'un de ces formats.",
                code="bad_type",
            )
        if not _parses(extension, data):
            raise forms.ValidationError(
                "Ce fichier est endommagé ou incomplet et ne peut pas être ouvert. Joignez une autre copie.",
                code="broken",
            )
        # Keep the user's name for display only; the stored name is random.
        uploaded.original_name = uploaded.name
        uploaded.name = f"{secrets.token_urlsafe(24)}.{extension}"
        return uploaded


def private_file_response(file, *, download_name: str) -> FileResponse:
    """Serve a private file as a download. Callers have already checked, by queryset, that the user may
    read it; the content type comes from the stored content, and the browser must not sniff it."""
    if not file:
        raise Http404
    # Streamed through this view rather than redirected to a presigned bucket URL: the bucket stays on the
    # private network with no public endpoint, no bearer URL can leak through history, logs or a Referer,
    # and the type and no-store headers below are ours whatever the bucket says. Files are 10 MB at most.
    try:
        handle = file.open("rb")
        head = handle.read(262)
        handle.seek(0)
    except FileNotFoundError as exc:
        raise Http404 from exc
    except STORAGE_ERRORS as exc:
        logger.warning("Private file storage unreachable for a download: %s", type(exc).__name__)
        raise StorageUnavailable from exc
    kind = filetype.guess(head)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=download_name,
        content_type=kind.mime if kind and kind.mime in ACCEPTED_TYPES else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response

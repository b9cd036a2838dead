"""Uploaded documents (RIB copies, invoices, ticket attachments) are checked by their content, never by
their name or the browser's declared type: the magic bytes must say PDF, PNG or JPEG, and the file must
parse as such, within bounds that keep a crafted file from exhausting a web worker. Accepted files are stored
under a random name in the private storage."""

import io
import logging
import secrets
import time
import zlib

import filetype
from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader, apply_configuration
from pypdf.errors import FileNotDecryptedError, LimitReachedError
from pypdf.filters import decode_stream_data
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from chorus.storage import STORAGE_ERRORS, StorageUnavailable

logger = logging.getLogger(__name__)

ACCEPTED_TYPES = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
MB = 1024 * 1024

# A scanned A4 page is about 9 megapixels at 300 dpi and 35 at 600 dpi; phones take 12 to 24. Beyond 40, an
# image is a bomb or needlessly large: whoever opens it (an instructor's viewer) needs 4 bytes a pixel.
IMAGE_MAX_PIXELS = 40_000_000
# An invoice or a RIB is a few pages; a compressed PDF stream may expand a thousandfold.
PDF_MAX_PAGES = 100
PDF_MAX_DECODED_BYTES = 100 * MB  # all streams together, once decompressed
PDF_MAX_SECONDS = 5.0
# What pypdf may decode in memory at once (object streams, and streams compressed otherwise than by Flate
# alone); a Flate stream, the usual case, is measured as it inflates, without keeping it. No stream is ever
# handed to an external decoder (jbig2dec), and pypdf's byte-by-byte repair of a damaged stream is kept short.
PDF_STREAM_MAX_BYTES = 32 * MB
PDF_LIMITS = {
    "zlib_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "zlib_maximum_recovery_input_length": MB,
    "lzw_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "run_length_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "brotli_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "jbig2_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "array_based_stream_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "stream_decoding_work_maximum_length": 3 * PDF_STREAM_MAX_BYTES,
    "jbig2dec_binary": None,
}
# Actions a PDF viewer runs on its own: scripts, and programs launched on the reader's computer.
PDF_ACTIVE_ACTIONS = {"/JavaScript", "/Launch"}


def _broken() -> forms.ValidationError:
    return forms.ValidationError(
        "Ce fichier est endommagé ou incomplet et ne peut pas être ouvert. Joignez une autre copie.",
        code="broken",
    )


def _too_many_pixels() -> forms.ValidationError:
    return forms.ValidationError(
        f"Cette image est trop grande : elle dépasse {IMAGE_MAX_PIXELS // 1_000_000} millions de pixels (une "
        "page A4 scannée à 300 ppp en compte environ 9). Réduisez sa définition, puis joignez-la de nouveau.",
        code="too_many_pixels",
    )


def _check_image(data: bytes, extension: str) -> None:
    formats = ["PNG"] if extension == "png" else ["JPEG"]
    try:
        with Image.open(io.BytesIO(data), formats=formats) as image:
            width, height = image.size  # read from the header: nothing is decoded yet
            if width * height > IMAGE_MAX_PIXELS:
                raise _too_many_pixels()
            # Nothing is decoded into memory (a progressive JPEG would take 3 to 8 bytes a pixel): a PNG's
            # every chunk is read and its checksum checked up to the closing chunk; a JPEG's markers are
            # read up to its first scan, which must run to the end-of-image marker (inside scan data a 0xFF
            # byte is always followed by 0x00 or a restart marker, so 0xFFD9 is the true end).
            scan_start = image.tile[0][2] if image.tile else len(data)
            image.verify()
        if extension == "jpg" and data.find(b"\xff\xd9", scan_start) == -1:
            raise _broken()
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels() from exc
    except (UnidentifiedImageError, OSError, ValueError, KeyError, TypeError, SyntaxError, EOFError) as exc:
        raise _broken() from exc


def _pdf_items(reader: PdfReader):
    """Every dictionary, array and stream of the file: each indirect object, then what it holds directly
    (references are not followed, since each one is an indirect object visited in its turn)."""
    numbers = {(idnum, generation) for generation, entries in reader.xref.items() for idnum in entries}
    numbers |= {(idnum, 0) for idnum in reader.xref_objStm}
    for idnum, generation in sorted(numbers):
        stack = [reader.get_object(IndirectObject(idnum, generation, reader))]
        while stack:
            item = stack.pop()
            yield item
            # dict.values / list.__iter__ give the raw items: pypdf's own accessors resolve references.
            if isinstance(item, DictionaryObject):
                stack.extend(dict.values(item))
            elif isinstance(item, ArrayObject):
                stack.extend(list.__iter__(item))


def _is_active(item) -> bool:
    return isinstance(item, DictionaryObject) and (
        dict.get(item, "/S") in PDF_ACTIVE_ACTIONS or "/JS" in item or "/JavaScript" in item
    )


def _inflated_size(data: bytes, *, limit: int) -> int:
    """How many bytes a Flate stream inflates to, counted a megabyte at a time and stopped past `limit`. A
    damaged stream counts what could be inflated."""
    inflater = zlib.decompressobj()
    size = 0
    try:
        while data and size <= limit:
            size += len(inflater.decompress(data, MB))
            data = inflater.unconsumed_tail
    except zlib.error:
        pass
    return size


def _decoded_size(stream: StreamObject, *, limit: int) -> int:
    """The stream's size once decompressed, without keeping it. A filter pypdf cannot decode (an image codec,
    a damaged stream) is the viewer's business, and bounded by the file's size."""
    filters = stream.get("/Filter")
    if isinstance(filters, ArrayObject) and len(filters) == 1:
        filters = filters[0]
    if filters in ("/FlateDecode", "/Fl"):
        # pypdf keeps the encoded bytes in `_data` (its decoders read them there too).
        return _inflated_size(stream._data, limit=limit)
    try:
        return len(decode_stream_data(stream))
    except LimitReachedError:
        raise
    except Exception:
        return 0


def _check_pdf(data: bytes) -> None:
    deadline = time.monotonic() + PDF_MAX_SECONDS
    try:
        with apply_configuration(**PDF_LIMITS):
            reader = PdfReader(io.BytesIO(data), strict=False)
            page_count = len(reader.pages)
            if page_count == 0:
                raise _broken()
            if page_count > PDF_MAX_PAGES:
                raise forms.ValidationError(
                    f"Ce PDF compte {page_count} pages : joignez un document de {PDF_MAX_PAGES} pages au plus.",
                    code="too_many_pages",
                )
            decoded = 0
            for item in _pdf_items(reader):
                if time.monotonic() > deadline:
                    raise forms.ValidationError(
                        "Ce PDF est trop complexe pour être vérifié. Enregistrez-le de nouveau en PDF "
                        "(« Imprimer », puis « Enregistrer au format PDF ») et joignez cette copie.",
                        code="too_slow",
                    )
                if _is_active(item):
                    raise forms.ValidationError(
                        "Ce PDF contient du code qui s'exécute à l'ouverture (JavaScript ou lancement d'un "
                        "programme) : il est refusé par sécurité. Enregistrez-le de nouveau en PDF (« Imprimer », "
                        "puis « Enregistrer au format PDF ») et joignez cette copie.",
                        code="active_content",
                    )
                if isinstance(item, StreamObject):
                    decoded += _decoded_size(item, limit=PDF_MAX_DECODED_BYTES - decoded)
                    if decoded > PDF_MAX_DECODED_BYTES:
                        raise LimitReachedError(f"{decoded} bytes decoded")
    except forms.ValidationError:
        raise
    except LimitReachedError as exc:
        raise forms.ValidationError(
            f"Ce PDF est trop volumineux une fois décompressé (plus de {PDF_MAX_DECODED_BYTES // MB} Mo). "
            "Joignez une copie plus légère, par exemple scannée en noir et blanc.",
            code="too_big_decoded",
        ) from exc
    except FileNotDecryptedError as exc:
        raise forms.ValidationError(
            "Ce PDF est protégé par un mot de passe. Joignez une copie sans mot de passe.", code="encrypted"
        ) from exc
    except Exception as exc:
        # pypdf raises many kinds of errors on a damaged file; none of them may become a 500.
        logger.info("Uploaded PDF refused as unreadable: %r", exc)
        raise _broken() from exc


def _check_content(data: bytes, extension: str) -> None:
    """Raise a ValidationError with a French message unless `data` is a PDF, PNG or JPEG within bounds."""
    if extension == "pdf":
        _check_pdf(data)
    else:
        _check_image(data, extension)


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
        _check_content(data, extension)
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


def document_extension(data: bytes) -> str | None:
    """The extension of `data` when it is a PDF, PNG or JPEG that parses, else None: DocumentField's check
    for documents that come in another way (the invoice copies of a bulk import's archive)."""
    kind = filetype.guess(data)
    extension = ACCEPTED_TYPES.get(kind.mime if kind else "")
    if extension is None:
        return None
    try:
        _check_content(data, extension)
    except forms.ValidationError:
        return None
    return extension

"""Real documents for upload tests: made on the fly with pypdf and Pillow."""

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, StreamObject, TextStringObject


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def image_bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (0, 0, 145)).save(buffer, format=fmt)
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def valid_pdf(name="rib.pdf"):
    return upload(name, pdf_bytes())


def valid_png(name="rib.png"):
    return upload(name, image_bytes("PNG"), "image/png")


def valid_jpeg(name="rib.jpg"):
    return upload(name, image_bytes("JPEG"), "image/jpeg")


# An ELF header: an executable, whatever its name says.
EXECUTABLE = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120


def png_bytes(width: int, height: int) -> bytes:
    """A valid black-and-white PNG of any size, written chunk by chunk: a 9000×9000 one weighs 10 KB."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        )

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then 1 bit a pixel
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def jpeg_claiming_size(width: int, height: int) -> bytes:
    """A small JPEG whose header announces another size (as a decompression bomb does)."""
    data = bytearray(image_bytes("JPEG"))
    frame = data.index(b"\xff\xc0")  # baseline frame header: marker, length, precision, height, width
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _pdf(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_with_pages(count: int) -> bytes:
    writer = PdfWriter()
    for _ in range(count):
        writer.add_blank_page(width=595, height=842)
    return _pdf(writer)


def pdf_with_zeros_streams(megabytes: int, *, pages: int = 1) -> bytes:
    """A PDF whose every page holds a Flate stream that expands to `megabytes` MB of zeros (about 1 KB a MB
    once compressed)."""
    writer = PdfWriter()
    block = b"\x00" * (1024 * 1024)
    for _ in range(pages):
        page = writer.add_blank_page(width=595, height=842)
        compressor = zlib.compressobj(9)
        stream = StreamObject()
        stream._data = b"".join(compressor.compress(block) for _ in range(megabytes)) + compressor.flush()
        stream[NameObject("/Filter")] = NameObject("/FlateDecode")
        page[NameObject("/Contents")] = writer._add_object(stream)
    return _pdf(writer)


def pdf_with_action(action: str, *, where: str = "open") -> bytes:
    """A one-page PDF running `action` ("/JavaScript" or "/Launch") when opened, or when its page is shown."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    payload = {NameObject("/S"): NameObject(action)}
    if action == "/JavaScript":
        payload[NameObject("/JS")] = TextStringObject("app.alert('bonjour')")
    else:
        payload[NameObject("/F")] = TextStringObject("cmd.exe")
    if where == "open":
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(DictionaryObject(payload))
    else:  # the page's "open" additional action, written directly inside the page
        page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): DictionaryObject(payload)})
    return _pdf(writer)


def pdf_with_document_javascript() -> bytes:
    """A one-page PDF with a document-level script (the catalog's /Names → /JavaScript name tree)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    script = writer._add_object(
        DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert('bonjour');"),
            }
        )
    )
    tree = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("init"), script])})
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): tree})
    return _pdf(writer)

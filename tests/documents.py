"""Real documents for upload tests: made on the fly with pypdf and Pillow."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfWriter


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

"""Peak memory of a web worker checking one upload: the largest images and PDFs the portal accepts, and the
bombs it refuses.

    .venv/bin/python bench/upload_memory.py

Each case runs in a fresh Python process that loads Django, reads the file, notes its resident memory (VmRSS),
runs the upload check of « Copie de la facture » (10 MB, the largest field) and reports the peak resident
memory (VmHWM) above that baseline, with the time taken and the verdict. The files are built in a temporary
folder and deleted afterwards.
"""

import io
import json
import os
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chorus.settings.test")
import django
django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from chorus.uploads import DocumentField

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) // 1024

field = DocumentField(max_mb=10)
path = sys.argv[1]
data = open(path, "rb").read()
upload = SimpleUploadedFile(os.path.basename(path), data)
baseline = status("VmRSS")
started = time.perf_counter()
try:
    field.clean(upload)
    verdict = "accepted"
except Exception as exc:
    verdict = "refused: " + str(getattr(exc, "messages", [exc])[0])[:70]
print(json.dumps({"baseline": baseline, "peak": status("VmHWM"), "seconds": time.perf_counter() - started,
                  "verdict": verdict}))
"""


def png(width: int, height: int, *, color_type: int, channels: int) -> bytes:
    import struct

    def chunk(kind, payload):
        return (
            struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        )

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + width * channels)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def jpeg(width: int, height: int, *, noise: bool = False, **options) -> bytes:
    from PIL import Image

    if noise:
        image = Image.merge("RGB", [Image.effect_noise((width, height), 40) for _ in range(3)])
    else:
        image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def main():
    from tests.documents import pdf_with_pages, pdf_with_zeros_streams

    cases = {
        "PNG 8000×5000 RGBA (40 MP, largest accepted)": png(8000, 5000, color_type=6, channels=4),
        "PNG 8000×5000 RGB (40 MP)": png(8000, 5000, color_type=2, channels=3),
        "JPEG 8000×5000 RGB (40 MP, largest accepted)": jpeg(8000, 5000, quality=85),
        "JPEG 8000×5000 RGB noise (40 MP)": jpeg(8000, 5000, noise=True, quality=30),
        "JPEG 8000×5000 RGB progressive (40 MP)": jpeg(8000, 5000, quality=85, progressive=True),
        "JPEG 8000×5000 RGB noise progressive (40 MP)": jpeg(
            8000, 5000, noise=True, quality=30, progressive=True
        ),
        "PNG 9000×9000 (81 MP bomb of the issue)": png(9000, 9000, color_type=0, channels=1),
        "PDF 2 pages × 45 MB streams (90 MB decoded, accepted)": pdf_with_zeros_streams(45, pages=2),
        "PDF 300 MB stream (bomb of the issue)": pdf_with_zeros_streams(300),
        "PDF 100 blank pages (accepted)": pdf_with_pages(100),
    }
    print(f"{'case':58} {'file':>8} {'base':>6} {'peak':>6} {'+RSS':>6} {'time':>7}  verdict")
    with tempfile.TemporaryDirectory() as folder:
        for name, content in cases.items():
            path = Path(folder) / "upload.bin"
            path.write_bytes(content)
            out = subprocess.run(  # noqa: S603
                [sys.executable, "-c", CHILD, str(path)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "DJANGO_ENV": "test"},
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{name:58} {len(content) / 1024:>6.0f}KB {result['baseline']:>4}MB {result['peak']:>4}MB "
                f"{result['peak'] - result['baseline']:>4}MB {result['seconds']:>6.2f}s  {result['verdict']}"
            )


if __name__ == "__main__":
    main()

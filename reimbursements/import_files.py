"""Reading the files of « Importer des lignes »: the lines (CSV or XLSX) and the ZIP of invoice copies.

Files are judged by their content, never their name: a workbook is a ZIP whose parts say « workbook »
(a macro-enabled one or one with external links is refused), anything else must decode as text in UTF-8
(with or without BOM) or Windows-1252. Archives are opened only after their central directory has passed
the bomb checks (entry count, total size, compression ratio, paths, nested archives). Every refusal is an
ImportFileError with a French message, raised before anything is written.
"""

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath

MB = 1024 * 1024
LINES_MAX_BYTES = 10 * MB  # 10,000 rows take about 1 MB
ARCHIVE_MAX_BYTES = 250 * MB
ARCHIVE_MAX_UNCOMPRESSED = 1024 * MB
ARCHIVE_MAX_ENTRIES = 10_000
ARCHIVE_MAX_RATIO = 100  # PDFs and images hardly compress; a bomb compresses a thousandfold
INVOICE_MAX_BYTES = 10 * MB
MAX_ROWS = 20_000
MAX_CELL_CHARS = 1_000
WORKBOOK_MAX_UNCOMPRESSED = 100 * MB

ARCHIVE_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"BZh", b"\xfd7zXZ")
ARCHIVE_SUFFIXES = {".zip", ".rar", ".7z", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".jar", ".cab"}


class ImportFileError(Exception):
    """A file refused as a whole; the message is shown to the user as it is."""


# The columns, by their normalised header (lower case, no accents, single spaces). Several spellings each.
COLUMNS = {
    "siret": "siret",
    "annee": "year",
    "annee de la demande": "year",
    "numero de facture": "invoice_number",
    "n de facture": "invoice_number",
    "date de livraison": "delivery_date",
    "produit": "product",
    "quantite": "quantity",
    "fichier de la facture": "invoice_file",
    "copie de la facture": "invoice_file",
    "facture": "invoice_file",
}
REQUIRED = ("siret", "year", "invoice_number", "delivery_date", "product", "quantity", "invoice_file")
TEMPLATE_HEADER = [
    "SIRET",
    "Année",
    "Numéro de facture",
    "Date de livraison",
    "Produit",
    "Quantité",
    "Fichier de la facture",
]


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


@dataclass
class RawRow:
    """One data row as read, every value a string (typed workbook cells are turned into French text)."""

    number: int  # the row's number in the file, the header being row 1
    values: dict


def read_lines(data: bytes) -> list[RawRow]:
    """The rows of a CSV or XLSX file, or ImportFileError."""
    if not data.strip():
        raise ImportFileError("Le fichier des lignes est vide.")
    if len(data) > LINES_MAX_BYTES:
        raise ImportFileError(
            f"Le fichier des lignes dépasse {LINES_MAX_BYTES // MB} Mo : découpez-le en plusieurs fichiers."
        )
    if data[:4] == b"PK\x03\x04":
        return _read_workbook(data)
    if data[:4] in (b"\xd0\xcf\x11\xe0",):
        raise ImportFileError(
            "Ce classeur est au format Excel 97-2003 (.xls) : enregistrez-le au format .xlsx ou CSV."
        )
    return _read_csv(data)


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise ImportFileError(
            "Ce fichier n'est ni un fichier CSV ni un classeur XLSX. Utilisez le modèle proposé sur cette page."
        )
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _read_csv(data: bytes) -> list[RawRow]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = []
        for record in reader:
            if any(len(cell) > MAX_CELL_CHARS for cell in record):
                raise ImportFileError(_cell_too_long(reader.line_num))
            records.append((reader.line_num, record))
            if len(records) > MAX_ROWS + 1:
                raise ImportFileError(_too_many_rows())
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            # The csv module's own bound (128 KiB) is hit before ours: the same verdict.
            raise ImportFileError(_cell_too_long(reader.line_num)) from exc
        raise ImportFileError(f"Le fichier CSV est mal formé (ligne {reader.line_num}).") from exc
    return _rows_from_records(records)


def _cell_too_long(line: int) -> str:
    return (
        f"La ligne {line} du fichier contient une cellule de plus de {MAX_CELL_CHARS} caractères : "
        "ce n'est pas un fichier de lignes de demande."
    )


def _too_many_rows() -> str:
    return f"Le fichier dépasse {MAX_ROWS:,} lignes : découpez-le en plusieurs fichiers.".replace(
        ",", "\u00a0"
    )


def _rows_from_records(records) -> list[RawRow]:
    if not records:
        raise ImportFileError("Le fichier des lignes est vide.")
    _, header = records[0]
    columns = [COLUMNS.get(normalise(name)) for name in header]
    missing = [TEMPLATE_HEADER[REQUIRED.index(key)] for key in REQUIRED if key not in columns]
    if missing:
        raise ImportFileError(
            "Colonnes manquantes : " + ", ".join(f"« {name} »" for name in missing) + ". Utilisez le modèle "
            "proposé sur cette page (première ligne : les noms des colonnes)."
        )
    rows = []
    for index, (_, record) in enumerate(records[1:], start=2):
        if not any(str(cell).strip() for cell in record):
            continue
        values = dict.fromkeys(REQUIRED, "")
        for key, cell in zip(columns, record, strict=False):
            if key is not None:
                values[key] = str(cell).strip()
        rows.append(RawRow(number=index, values=values))
    if not rows:
        raise ImportFileError("Le fichier ne contient aucune ligne de demande sous la ligne des titres.")
    return rows


def _read_workbook(data: bytes) -> list[RawRow]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ImportFileError("Ce classeur est endommagé et ne peut pas être ouvert.") from exc
    if "xl/workbook.xml" not in names:
        raise ImportFileError(
            "Ce fichier n'est ni un fichier CSV ni un classeur XLSX. Utilisez le modèle proposé sur cette page."
        )
    if sum(info.file_size for info in archive.infolist()) > WORKBOOK_MAX_UNCOMPRESSED:
        raise ImportFileError("Ce classeur est anormalement volumineux une fois décompressé : il est refusé.")
    content_types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
    if any(name.lower().endswith("vbaproject.bin") for name in names) or b"macroEnabled" in content_types:
        raise ImportFileError(
            "Ce classeur contient des macros (.xlsm) : enregistrez-le au format .xlsx (sans macros) ou CSV."
        )
    if any(name.startswith("xl/externalLinks/") for name in names):
        raise ImportFileError(
            "Ce classeur contient des liaisons vers d'autres fichiers : copiez les valeurs dans un nouveau "
            "classeur, ou enregistrez-le au format CSV."
        )
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of errors on a broken file
        raise ImportFileError("Ce classeur est endommagé et ne peut pas être ouvert.") from exc
    try:
        sheet = workbook.worksheets[0]
        records = []
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(value) for value in row]
            if any(len(cell) > MAX_CELL_CHARS for cell in cells):
                raise ImportFileError(_cell_too_long(number))
            records.append((number, cells))
            if len(records) > MAX_ROWS + 1:
                raise ImportFileError(_too_many_rows())
    finally:
        workbook.close()
    return _rows_from_records(records)


def _cell_text(value) -> str:
    """A typed cell as the French text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f").replace(".", ",")
    return str(value)


def parse_decimal(text: str) -> Decimal | None:
    """« 1 250,5 », « 1250.5 » or « 1250 » (spaces, non-breaking or not, as thousands separators)."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d+)?", cleaned):
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def parse_date(text: str) -> date | None:
    """dd/mm/yyyy (French), also with dashes or dots, and yyyy-mm-dd (ISO)."""
    text = text.strip()
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    try:
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?", text)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    return None


class InvoiceArchive:
    """The ZIP of invoice copies, checked on its central directory before any entry is read."""

    def __init__(self, handle, *, close_handle: bool = False):
        self.handle, self.close_handle, self.zip = handle, close_handle, None
        try:
            self._check()
        except BaseException:
            self.close()
            raise

    def _check(self):
        try:
            self.zip = zipfile.ZipFile(self.handle)
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise ImportFileError(
                "L'archive des factures n'est pas un fichier ZIP lisible. Joignez une archive .zip."
            ) from exc
        if len(infos) > ARCHIVE_MAX_ENTRIES:
            raise ImportFileError(
                f"L'archive contient plus de {ARCHIVE_MAX_ENTRIES:,} fichiers : découpez-la.".replace(
                    ",", "\u00a0"
                )
            )
        total = 0
        self.entries: dict[str, zipfile.ZipInfo] = {}
        by_base: dict[str, list[zipfile.ZipInfo]] = {}
        for info in infos:
            name = info.filename
            path = PurePosixPath(name.replace("\\", "/"))
            if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in path.parts:
                raise ImportFileError(
                    f"L'archive contient un chemin interdit (« {name[:100]} ») : elle est refusée."
                )
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise ImportFileError(
                    "L'archive est protégée par un mot de passe : joignez-la sans mot de passe."
                )
            total += info.file_size
            if total > ARCHIVE_MAX_UNCOMPRESSED:
                raise ImportFileError(
                    f"L'archive dépasse {ARCHIVE_MAX_UNCOMPRESSED // MB} Mo une fois décompressée : "
                    "elle est refusée (archive piégée ou trop volumineuse)."
                )
            if info.file_size > MB and info.file_size > ARCHIVE_MAX_RATIO * max(info.compress_size, 1):
                raise ImportFileError(
                    f"Le fichier « {name[:100]} » de l'archive est anormalement compressé : l'archive est "
                    "refusée (archive piégée)."
                )
            if path.suffix.lower() in ARCHIVE_SUFFIXES:
                raise ImportFileError(_nested(name))
            self.entries[str(path)] = info
            by_base.setdefault(path.name.lower(), []).append(info)
        self.by_base = {base: found[0] for base, found in by_base.items() if len(found) == 1}
        for info in self.entries.values():
            with self.zip.open(info) as entry:
                if entry.read(8).startswith(ARCHIVE_MAGICS):
                    raise ImportFileError(_nested(info.filename))

    def find(self, name: str) -> zipfile.ZipInfo | None:
        """The entry a row names: its path in the archive, or its file name alone when that is unique."""
        path = str(PurePosixPath(name.strip().replace("\\", "/")))
        return self.entries.get(path) or self.by_base.get(PurePosixPath(path).name.lower())

    def read(self, info: zipfile.ZipInfo) -> bytes:
        if info.file_size > INVOICE_MAX_BYTES:
            raise ImportFileError(f"dépasse {INVOICE_MAX_BYTES // MB} Mo")
        with self.zip.open(info) as entry:
            return entry.read(INVOICE_MAX_BYTES + 1)

    def close(self):
        if self.zip is not None:
            self.zip.close()
        if self.close_handle:
            self.handle.close()


def _nested(name: str) -> str:
    return (
        f"L'archive contient une autre archive (« {name[:100]} ») : mettez les copies des factures "
        "directement dans une seule archive ZIP."
    )

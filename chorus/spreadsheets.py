"""Exports for spreadsheet software (CSV the French way, XLSX through openpyxl), safe against CSV injection.

A cell a user typed (a structure's name, an invoice number) may start with `=`, `+`, `-`, `@`, a tab or a
carriage return: a spreadsheet would run it as a formula. Every text cell goes through `safe_cell`, which
prefixes such a value with an apostrophe, the mark spreadsheets read as « this is text » (OWASP's advice).
Numbers and dates are written as typed values and need nothing.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value):
    """The value itself, or, for text a spreadsheet would run as a formula, the text prefixed with `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def french_decimal(value: Decimal | None) -> str:
    """2 decimals with a comma, as French spreadsheet software reads a number in a CSV file."""
    return "" if value is None else f"{value:.2f}".replace(".", ",")


class _Echo:
    def write(self, value):
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """UTF-8 CSV lines with a BOM, « ; » between cells, every cell neutralised."""
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")
    yield BOM + writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([_csv_value(cell) for cell in row])


def _csv_value(value):
    """Neutralise the text users typed, not the numbers we format: a negative amount stays a number."""
    if isinstance(value, str):
        return safe_cell(value)
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return french_decimal(value)
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    return value


def _no_store(response):
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _no_store(response)


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence], *, title: str = "Export") -> bytes:
    """A one-sheet workbook written in openpyxl's write-only mode (constant memory per row)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([_xlsx_cell(sheet, cell) for cell in header])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, cell) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(sheet, value):
    from openpyxl.cell import WriteOnlyCell

    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=safe_cell(value))
    # openpyxl would store a text such as « #N/A » as an error value; what a user typed stays text.
    cell.data_type = "s"
    return cell


def xlsx_response(filename: str, header: Sequence[str], rows: Iterable[Sequence], *, title: str = "Export"):
    response = HttpResponse(xlsx_bytes(header, rows, title=title), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _no_store(response)

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from chorus.spreadsheets import csv_lines, safe_cell, xlsx_bytes


@pytest.mark.parametrize("value", ["=1+1", "+33 6", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_text_a_spreadsheet_would_run_as_a_formula_is_prefixed(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["GAEC des Saules", "", "1=1", 12, Decimal("-3.5"), None])
def test_other_values_are_kept(value):
    assert safe_cell(value) == value


def test_csv_is_french_and_neutralised():
    content = "".join(
        csv_lines(["Nom", "Montant"], [["=HYPERLINK(1)", Decimal("1234.5")], [None, date(2024, 3, 1)]])
    )
    assert content == "\ufeffNom;Montant\r\n'=HYPERLINK(1);1234,50\r\n;01/03/2024\r\n"


def test_xlsx_keeps_numbers_typed_and_text_neutralised():
    data = xlsx_bytes(["Nom", "Montant"], [["@cmd", Decimal("12.30")], ["EARL", 7]], title="Clients")
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows == [("Nom", "Montant"), ("'@cmd", 12.3), ("EARL", 7)]
    assert sheet.title == "Clients"

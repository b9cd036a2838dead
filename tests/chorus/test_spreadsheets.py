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


def test_csv_keeps_negative_amounts_as_numbers():
    content = "".join(csv_lines(["Solde"], [[Decimal("-12.5")], ["-12,50"]]))
    assert content == "\ufeffSolde\r\n-12,50\r\n'-12,50\r\n"


def test_xlsx_text_that_looks_like_an_error_value_stays_text():
    data = xlsx_bytes(["Nom"], [["#N/A"], ["=1+1"]])
    sheet = load_workbook(io.BytesIO(data)).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [(cell.data_type, cell.value) for cell in cells] == [("s", "#N/A"), ("s", "'=1+1")]

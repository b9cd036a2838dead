from decimal import Decimal

import pytest

from reimbursements.models import RefundRate, line_amount

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("year", "product", "quantity", "expected"),
    [
        # one line per product and year with its seeded rate
        (2023, "gnr", "100", "1496.00"),
        (2023, "fioul-lourd", "100", "1376.00"),
        (2023, "gpl-combustible", "100", "572.00"),
        (2023, "gaz-naturel-combustible", "100", "783.00"),
        (2023, "gaz-naturel-carburant", "100", "469.00"),
        (2020, "gaz-naturel", "100", "833.10"),
        (2017, "gnr", "100", "1123.00"),
        # the half cent goes up (banker's rounding would give 13.76 and 0.04)
        (2022, "fioul-lourd", "1", "13.77"),
        (2020, "gaz-naturel", "0.5", "4.17"),  # 4.1655
        (2023, "gaz-naturel-carburant", "0.5", "2.35"),  # 2.345
        (2023, "gnr", "0.001", "0.01"),  # 0.01496
        (2023, "gaz-naturel-combustible", "0.001", "0.01"),  # 0.00783
        (2023, "gaz-naturel-carburant", "0.001", "0.00"),  # 0.00469
        # large quantities stay exact (no float)
        (2023, "gnr", "99999.999", "1495999.99"),  # 1 495 999.985 04
        (2022, "fioul-lourd", "99999.999", "1376499.99"),  # 1 376 499.986 235
        (2023, "gpl-combustible", "87654.321", "501382.72"),  # 501 382.716 12
    ],
)
def test_line_amount_is_quantity_times_seeded_rate_rounded_half_up(year, product, quantity, expected):
    rate = RefundRate.objects.get(campaign__year=year, product__code=product).amount
    amount = line_amount(Decimal(quantity), rate)
    assert amount == Decimal(expected)
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("quantity", "rate", "expected"),
    [("0.5", "0.01", "0.01"), ("0.5", "0.03", "0.02"), ("1", "2.345", "2.35"), ("1", "2.3449", "2.34")],
)
def test_rounding_is_half_up_at_the_half_cent(quantity, rate, expected):
    assert line_amount(Decimal(quantity), Decimal(rate)) == Decimal(expected)

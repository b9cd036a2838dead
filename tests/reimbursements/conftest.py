from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from reimbursements.models import Campaign, EnergyProduct
from structures.models import BeneficiaryCategory
from tests.factories import BankAccountFactory, MembershipFactory, StructureFactory

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def spring_2025():
    """A day when the 2023 campaign is open (and the 2022 GNR one is closed)."""
    with time_machine.travel(datetime(2025, 6, 2, 10, 0, tzinfo=PARIS), tick=False) as traveller:
        yield traveller


@pytest.fixture
def farm(db):
    return StructureFactory(
        name="GAEC des Tilleuls",
        beneficiary_category=BeneficiaryCategory.objects.get(code="societe-agricole"),
        pacage="035987654",
    )


@pytest.fixture
def farmer(farm):
    return MembershipFactory(structure=farm, main_manager=True).user


@pytest.fixture
def bank_account(farm, farmer):
    return BankAccountFactory(structure=farm, created_by=farmer)


@pytest.fixture
def campaign_2023(db):
    return Campaign.objects.get(year=2023)


@pytest.fixture
def gnr(db):
    return EnergyProduct.objects.get(code="gnr")


@pytest.fixture
def gas_fuel(db):
    return EnergyProduct.objects.get(code="gaz-naturel-combustible")

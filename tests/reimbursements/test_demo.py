import pytest
from django.core.management import call_command

from reimbursements.demo import INSTRUCTOR_EMAIL
from reimbursements.models import RefundRequest
from structures.demo import FARM_SIRET

pytestmark = pytest.mark.django_db


def test_demo_gives_the_farm_a_filed_request_and_a_draft_and_an_instructor(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    requests = RefundRequest.objects.filter(structure__siret=FARM_SIRET).order_by("campaign__year")
    assert [(r.campaign.year, r.status, r.number) for r in requests] == [
        (2022, "filed", "TIC-2022-000001"),
        (2023, "draft", None),
    ]
    filed = requests[0]
    assert filed.total_amount == sum(line.amount for line in filed.lines.all()) > 0
    assert all(line.invoice_copy for line in filed.lines.all())
    assert filed.events.get().label == "Mise à disposition"
    out = capsys.readouterr().out
    assert (
        f"Instructeur (administration, groupe « Instructeurs ») : {INSTRUCTOR_EMAIL} / Demo-Agri-2026!" in out
    )
    from accounts.models import User

    instructor = User.objects.get(email=INSTRUCTOR_EMAIL)
    assert instructor.is_staff and instructor.has_perm("reimbursements.instruct_refundrequest")

import pytest

from support import demo
from support.models import SupportTicket

pytestmark = pytest.mark.django_db


def test_demo_has_one_open_ticket_and_is_idempotent():
    first = demo.seed()
    second = demo.seed()
    ticket = SupportTicket.objects.get()
    assert ticket.status == SupportTicket.Status.NEW
    assert ticket.user.email == "exploitant@chorus-agri.example"
    assert first == second
    assert ticket.number in first[0]

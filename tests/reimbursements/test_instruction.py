from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reimbursements import services
from reimbursements.models import EnergyProduct, RefundEvent, RefundRequest
from tests.conftest import verify_session
from tests.factories import MembershipFactory, StructureFactory, UserFactory
from tests.reimbursements.factories import RefundLineFactory, RefundRequestFactory, text

pytestmark = pytest.mark.django_db
S = RefundRequest.Status

ALLOWED = {
    (S.FILED, S.IN_REVIEW),
    (S.IN_REVIEW, S.TO_COMPLETE),
    (S.IN_REVIEW, S.PAID),
    (S.IN_REVIEW, S.REJECTED),
}


@pytest.fixture
def instructor(db):
    user = UserFactory(staff=True, email="agent@ddfip.example")
    user.groups.add(Group.objects.get(name="Instructeurs"))
    return user


def make_request(status, farmer=None):
    membership = MembershipFactory(main_manager=True) if farmer is None else None
    filer = farmer or membership.user
    refund_request = RefundRequestFactory(
        structure=membership.structure if membership else StructureFactory(),
        status=status,
        number=None if status == S.DRAFT else "TIC-2023-000099",
        filed_at=None if status == S.DRAFT else timezone.now(),
        filed_by=None if status == S.DRAFT else filer,
        paid_amount=Decimal("1") if status == S.PAID else None,
        created_by=filer,
    )
    RefundLineFactory(request=refund_request, quantity=Decimal("10"))
    return refund_request


def args_for(to_status):
    return {
        "comment": "Motif détaillé." if to_status in (S.TO_COMPLETE, S.REJECTED) else "",
        "paid_amount": Decimal("149.60") if to_status == S.PAID else None,
    }


@pytest.mark.parametrize("from_status", list(S))
@pytest.mark.parametrize("to_status", list(S))
def test_every_transition_is_allowed_or_refused_as_the_procedure_says(instructor, from_status, to_status):
    refund_request = make_request(from_status)
    if (from_status, to_status) in ALLOWED:
        services.refund_request_transition(
            refund_request_id=refund_request.pk, actor=instructor, to_status=to_status, **args_for(to_status)
        )
        refund_request.refresh_from_db()
        assert refund_request.status == to_status
        event = RefundEvent.objects.get(request=refund_request)
        assert (event.from_status, event.to_status, event.actor) == (from_status, to_status, instructor)
    else:
        with pytest.raises(services.RefundError) as error:
            services.refund_request_transition(
                refund_request_id=refund_request.pk,
                actor=instructor,
                to_status=to_status,
                **args_for(to_status),
            )
        assert "ne peut pas passer à l'état" in error.value.messages[0]
        refund_request.refresh_from_db()
        assert refund_request.status == from_status
        assert not RefundEvent.objects.exists()


@pytest.mark.parametrize(
    ("to_status", "kwargs", "message"),
    [
        (S.TO_COMPLETE, {"comment": "  "}, "Indiquez au déposant ce qu'il doit compléter."),
        (S.REJECTED, {"comment": ""}, "Indiquez le motif du rejet."),
        (S.PAID, {"paid_amount": None}, "Indiquez le montant mis en paiement."),
        (S.PAID, {"paid_amount": Decimal("149.61")}, "ne peut pas dépasser le montant demandé"),
    ],
)
def test_decisions_need_their_message_reason_or_amount(instructor, to_status, kwargs, message):
    refund_request = make_request(S.IN_REVIEW)
    with pytest.raises(services.RefundError) as error:
        services.refund_request_transition(
            refund_request_id=refund_request.pk, actor=instructor, to_status=to_status, **kwargs
        )
    assert message in error.value.messages[0]


def test_each_decision_mails_the_filer_and_the_managers(
    instructor, django_capture_on_commit_callbacks, mailoutbox
):
    refund_request = make_request(S.IN_REVIEW)
    manager = MembershipFactory(structure=refund_request.structure, manager=True).user
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_request_transition(
            refund_request_id=refund_request.pk,
            actor=instructor,
            to_status=S.REJECTED,
            comment="Les factures ne portent pas l'adresse de livraison.",
        )
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert sorted(mail.to) == sorted([refund_request.filed_by.email, manager.email])
    assert mail.subject == "Demande TIC-2023-000099 : Rejetée"
    assert "Les factures ne portent pas l'adresse de livraison." in mail.body


def test_filer_sees_the_feed_with_date_actor_and_comment(client, instructor):
    refund_request = make_request(S.FILED)
    for status in (S.IN_REVIEW, S.TO_COMPLETE):
        services.refund_request_transition(
            refund_request_id=refund_request.pk,
            actor=instructor,
            to_status=status,
            comment="Joignez la facture 12.",
        )
    client.force_login(refund_request.filed_by)
    page = text(client.get(reverse("reimbursements:detail", kwargs={"pk": refund_request.pk})))
    assert "Prise en charge par le service instructeur" in page
    assert "Demande à compléter" in page and "Joignez la facture 12." in page
    assert "Service instructeur" in page and instructor.email not in page
    assert "Déposer la demande" in page  # « À compléter »: the filer can edit and file again


class TestAdmin:
    def test_instructor_lists_requests_with_filters_and_search(self, client, instructor):
        filed = make_request(S.FILED)
        draft = make_request(S.DRAFT)
        RefundLineFactory(request=draft, product=EnergyProduct.objects.get(code="fioul-lourd"))
        verify_session(client, instructor)
        url = reverse("admin:reimbursements_refundrequest_changelist")
        page = text(client.get(url))
        for filter_title in ("état", "année", "produit", "département de la structure"):
            assert f"Par {filter_title}" in page, filter_title
        for params in (
            {"q": "TIC-2023-000099"},
            {"q": filed.structure.siret},
            {"status__exact": "filed"},
            {"departement": "35"},
            {"lines__product__id__exact": filed.lines.first().product_id},
        ):
            response = client.get(url, params)
            assert response.status_code == 200, params
            assert filed in response.context["cl"].result_list, params

    def test_instructor_moves_a_request_through_the_transition_page(
        self, client, instructor, django_capture_on_commit_callbacks, mailoutbox
    ):
        refund_request = make_request(S.IN_REVIEW)
        verify_session(client, instructor)
        change = reverse("admin:reimbursements_refundrequest_change", args=[refund_request.pk])
        assert "Instruire la demande" in text(client.get(change))
        url = reverse("admin:reimbursements_refundrequest_transition", args=[refund_request.pk])
        response = client.post(url, {"to_status": "paid", "paid_amount": ""})
        assert "Indiquez le montant mis en paiement." in text(response)
        response = client.post(url, {"to_status": "filed"})
        assert "Sélectionnez un choix valide" in text(response)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, {"to_status": "paid", "paid_amount": "149,60"}, follow=True)
        refund_request.refresh_from_db()
        assert (refund_request.status, refund_request.paid_amount) == (S.PAID, Decimal("149.60"))
        assert "est passée à l'état « Mise en paiement »" in text(response)
        assert len(mailoutbox) == 1

    def test_requests_are_never_edited_field_by_field_in_admin(self, client, instructor):
        refund_request = make_request(S.FILED)
        verify_session(client, instructor)
        change = reverse("admin:reimbursements_refundrequest_change", args=[refund_request.pk])
        client.post(change, {"status": "paid", "total_amount": "999999"})
        refund_request.refresh_from_db()
        assert (refund_request.status, refund_request.total_amount) == (S.FILED, Decimal("149.60"))

    def test_staff_outside_the_instructors_group_cannot_decide(self, client):
        refund_request = make_request(S.FILED)
        verify_session(client, UserFactory(staff=True))
        url = reverse("admin:reimbursements_refundrequest_transition", args=[refund_request.pk])
        assert client.post(url, {"to_status": "in_review"}).status_code == 403
        refund_request.refresh_from_db()
        assert refund_request.status == S.FILED

    def test_administrator_enters_the_rates_of_a_new_year(self, client):
        admin = UserFactory(staff=True, is_superuser=True)
        verify_session(client, admin)
        response = client.get(reverse("admin:reimbursements_campaign_changelist"))
        assert "2023" in text(response)
        response = client.post(
            reverse("admin:reimbursements_campaign_add"),
            {
                "year": "2026",
                "opens_on": "01/02/2027",
                "closes_on": "",
                "rates-TOTAL_FORMS": "0",
                "rates-INITIAL_FORMS": "0",
                "advance_offer-TOTAL_FORMS": "0",
                "advance_offer-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 302, text(response)
        from reimbursements.models import Campaign

        assert str(Campaign.objects.get(year=2026).closes_on) == "2029-12-31"


def test_instructor_opens_the_invoice_copies_from_the_admin(client, instructor):
    refund_request = make_request(S.FILED)
    line = refund_request.lines.get()
    verify_session(client, instructor)
    page = client.get(reverse("admin:reimbursements_refundrequest_change", args=[refund_request.pk])).text
    url = reverse("admin:reimbursements_refundrequest_invoice", args=[refund_request.pk, line.pk])
    assert f'href="{url}"' in page
    outsider = Client()
    verify_session(outsider, UserFactory(staff=True))  # staff without the group's view permission
    assert outsider.get(url).status_code == 403
    response = client.get(url)
    assert response["Content-Type"] == "application/pdf"
    response.close()


def test_instructor_opens_the_rib_copy_from_the_admin(client, instructor):
    refund_request = make_request(S.FILED)
    verify_session(client, instructor)
    page = client.get(reverse("admin:reimbursements_refundrequest_change", args=[refund_request.pk])).text
    rib_url = reverse("structures:bank_account_rib", args=[refund_request.bank_account_id])
    assert f'href="{rib_url}"' in page
    response = client.get(rib_url)
    assert response["Content-Type"] == "application/pdf"
    response.close()

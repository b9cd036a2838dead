import threading
from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django.urls import reverse

from reimbursements import services
from reimbursements.models import Campaign, EnergyProduct, FilingCounter, RefundEvent, RefundRequest
from structures.models import BeneficiaryCategory
from tests.conftest import requires_postgresql
from tests.factories import BankAccountFactory, MembershipFactory, StructureFactory
from tests.reimbursements.conftest import PARIS
from tests.reimbursements.factories import (
    RefundLineFactory,
    RefundRequestFactory,
    text,
)


@pytest.fixture
def ready(farm, farmer, bank_account):
    """A complete draft: header, a GNR line and a gas line, each with its invoice copy."""
    refund_request = RefundRequestFactory(structure=farm, bank_account=bank_account, created_by=farmer)
    RefundLineFactory(request=refund_request, quantity=Decimal("100"))
    RefundLineFactory(
        request=refund_request,
        product=EnergyProduct.objects.get(code="gaz-naturel-combustible"),
        quantity=Decimal("12.5"),
    )
    return refund_request


def file_url(refund_request):
    return reverse("reimbursements:file", kwargs={"pk": refund_request.pk})


@pytest.mark.django_db
@pytest.mark.usefixtures("spring_2025")
class TestFiling:
    def test_deposer_la_demande_numbers_and_files_it_with_the_event_mise_a_disposition(
        self, client, farmer, ready, django_capture_on_commit_callbacks, mailoutbox
    ):
        manager = MembershipFactory(structure=ready.structure, manager=True).user
        MembershipFactory(structure=ready.structure)  # a plain member is not mailed
        client.force_login(farmer)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(file_url(ready), {"advance": "non"}, follow=True)
        ready.refresh_from_db()
        assert ready.status == RefundRequest.Status.FILED
        assert ready.number == "TIC-2023-000001"
        assert (ready.filed_by, ready.total_amount) == (farmer, Decimal("1593.88"))  # 1496 + 97.875
        event = RefundEvent.objects.get(request=ready)
        assert (event.label, event.from_status, event.to_status, event.actor) == (
            "Mise à disposition",
            "draft",
            "filed",
            farmer,
        )
        page = text(response)
        assert "Votre demande est déposée sous le numéro TIC-2023-000001" in page
        assert "Fil d'évènements" in page and "Mise à disposition" in page
        assert "Déposer la demande" not in page
        assert len(mailoutbox) == 1
        mail = mailoutbox[0]
        assert sorted(mail.to) == sorted([farmer.email, manager.email])
        assert mail.subject == "Demande de remboursement TIC-2023-000001 déposée"
        assert "1\u00a0593,88\u00a0€" in mail.body
        assert f"/remboursements/{ready.pk}/" in mail.body

    def test_numbers_follow_each_other_per_year(self, farmer, ready, bank_account):
        services.refund_request_file(refund_request_id=ready.pk, user=farmer, advance=False)
        other_farm = MembershipFactory(user=farmer, structure=StructureFactory(), main_manager=True).structure
        second = RefundRequestFactory(structure=other_farm, created_by=farmer)
        RefundLineFactory(request=second)
        assert (
            services.refund_request_file(refund_request_id=second.pk, user=farmer, advance=False).number
            == "TIC-2023-000002"
        )
        older = RefundRequestFactory(structure=other_farm, campaign=Campaign.objects.get(year=2022))
        RefundLineFactory(request=older, product=EnergyProduct.objects.get(code="fioul-lourd"))
        assert (
            services.refund_request_file(refund_request_id=older.pk, user=farmer, advance=False).number
            == "TIC-2022-000001"
        )

    def test_double_click_files_once(
        self, client, farmer, ready, django_capture_on_commit_callbacks, mailoutbox
    ):
        client.force_login(farmer)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(file_url(ready), {"advance": "non"})
            response = client.post(file_url(ready), {"advance": "non"}, follow=True)
        assert "Cette demande a déjà été déposée sous le numéro TIC-2023-000001" in text(response)
        assert RefundEvent.objects.count() == 1
        assert FilingCounter.objects.get(year=2023).last_number == 1
        assert len(mailoutbox) == 1

    @pytest.mark.parametrize(
        ("breakage", "message"),
        [
            ("no_lines", "Ajoutez au moins une ligne de demande."),
            ("no_invoice_copy", "joignez la copie de la facture."),
            ("no_bank_account", "Choisissez les références bancaires de la structure"),
            ("inactive_bank_account", "Choisissez les références bancaires de la structure"),
            ("no_rib", "n'ont pas de copie du RIB"),
            ("no_declaration", "Cochez la déclaration sur l'honneur"),
            ("no_category", "Indiquez la catégorie de bénéficiaire"),
            (
                "delivery_outside_year",
                "La date de livraison doit être comprise dans l'année de la demande (2023).",
            ),
            (
                "rate_removed",
                "Aucun taux de remboursement n'est fixé pour le produit « Gazole non routier (GNR) »",
            ),
        ],
    )
    def test_filing_checks_everything_again_on_the_server(self, client, farmer, ready, breakage, message):
        line = ready.lines.first()
        match breakage:
            case "no_lines":
                ready.lines.all().delete()
            case "no_invoice_copy":
                ready.lines.filter(pk=line.pk).update(invoice_copy="")
            case "no_bank_account":
                RefundRequest.objects.filter(pk=ready.pk).update(bank_account=None)
            case "inactive_bank_account":
                ready.bank_account.is_active = False
                ready.bank_account.save()
            case "no_rib":
                type(ready.bank_account).objects.filter(pk=ready.bank_account_id).update(rib_document="")
            case "no_declaration":
                RefundRequest.objects.filter(pk=ready.pk).update(not_in_difficulty=False)
            case "no_category":
                RefundRequest.objects.filter(pk=ready.pk).update(beneficiary_category=None)
            case "delivery_outside_year":
                ready.lines.filter(pk=line.pk).update(delivery_date=date(2022, 12, 31))
            case "rate_removed":
                ready.campaign.rates.filter(product__code="gnr").delete()
        client.force_login(farmer)
        response = client.post(file_url(ready), {"advance": "non"}, follow=True)
        assert message in text(response)
        ready.refresh_from_db()
        assert (ready.status, ready.number) == (RefundRequest.Status.DRAFT, None)
        assert not RefundEvent.objects.exists()
        assert not FilingCounter.objects.filter(last_number__gt=0).exists()

    def test_filing_recomputes_amounts_from_the_current_rate(self, farmer, ready):
        ready.lines.update(rate=Decimal("1"), amount=Decimal("1"))
        filed = services.refund_request_file(refund_request_id=ready.pk, user=farmer, advance=False)
        assert filed.total_amount == Decimal("1593.88")

    def test_to_complete_request_is_filed_again_under_the_same_number(self, farmer, ready):
        services.refund_request_file(refund_request_id=ready.pk, user=farmer, advance=False)
        instructor = MembershipFactory().user
        for status, comment in [("in_review", ""), ("to_complete", "Joignez la facture de mars lisible.")]:
            services.refund_request_transition(
                refund_request_id=ready.pk, actor=instructor, to_status=status, comment=comment
            )
        RefundLineFactory(request=ready, quantity=Decimal("1"))
        refiled = services.refund_request_file(refund_request_id=ready.pk, user=farmer, advance=False)
        assert (refiled.status, refiled.number) == ("filed", "TIC-2023-000001")
        assert refiled.events.last().label == "Demande complétée, mise à disposition de nouveau"
        assert FilingCounter.objects.get(year=2023).last_number == 1


@pytest.mark.django_db
def test_closed_campaign_cannot_be_filed(farmer, ready):
    with (
        time_machine.travel(datetime(2027, 1, 1, 9, 0, tzinfo=PARIS), tick=False),
        pytest.raises(services.RefundError) as error,
    ):
        services.refund_request_file(refund_request_id=ready.pk, user=farmer, advance=False)
    assert "Le dépôt des demandes de l'année 2023 n'est pas ouvert." in error.value.messages


@pytest.mark.django_db
def test_2022_gnr_is_closed_while_other_2022_products_are_still_open(farm, farmer, bank_account):
    draft = RefundRequestFactory(
        structure=farm, bank_account=bank_account, campaign=Campaign.objects.get(year=2022)
    )
    line = RefundLineFactory(request=draft)  # GNR
    with time_machine.travel(datetime(2025, 6, 2, 10, 0, tzinfo=PARIS), tick=False):
        with pytest.raises(services.RefundError) as error:
            services.refund_request_file(refund_request_id=draft.pk, user=farmer, advance=False)
        assert any("est clos depuis le 31/12/2024" in message for message in error.value.messages)
        line.product = EnergyProduct.objects.get(code="fioul-lourd")
        line.save()
        assert (
            services.refund_request_file(refund_request_id=draft.pk, user=farmer, advance=False).number
            == "TIC-2022-000001"
        )


@pytest.mark.django_db
def test_a_rolled_back_filing_gives_its_number_back(farmer, ready, spring_2025):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        services.refund_request_file(refund_request_id=ready.pk, user=farmer, advance=False)
        raise Boom
    assert FilingCounter.objects.filter(year=2023, last_number__gt=0).count() == 0
    assert (
        services.refund_request_file(refund_request_id=ready.pk, user=farmer, advance=False).number
        == "TIC-2023-000001"
    )


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_filings_get_distinct_gapless_numbers(spring_2025):
    """Eight requests of eight structures filed at once, each from its own thread and connection."""
    drafts = []
    for _ in range(8):
        membership = MembershipFactory(main_manager=True)
        draft = RefundRequestFactory(
            structure=membership.structure,
            bank_account=BankAccountFactory(structure=membership.structure),
            created_by=membership.user,
        )
        RefundLineFactory(request=draft)
        drafts.append((draft.pk, membership.user))
    barrier = threading.Barrier(len(drafts))
    numbers, errors = [], []

    def file(pk, user):
        try:
            barrier.wait()
            numbers.append(
                services.refund_request_file(refund_request_id=pk, user=user, advance=False).number
            )
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=file, args=draft) for draft in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(numbers) == [f"TIC-2023-{n:06d}" for n in range(1, 9)]
    assert FilingCounter.objects.get(year=2023).last_number == 8


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_file_the_request_once(spring_2025):
    farm = StructureFactory(beneficiary_category=BeneficiaryCategory.objects.get(code="societe-agricole"))
    farmer = MembershipFactory(structure=farm, main_manager=True).user
    bank_account = BankAccountFactory(structure=farm)
    draft = RefundRequestFactory(structure=farm, bank_account=bank_account, created_by=farmer)
    RefundLineFactory(request=draft)
    barrier = threading.Barrier(2)
    outcomes = []

    def file():
        try:
            barrier.wait()
            outcomes.append(
                services.refund_request_file(refund_request_id=draft.pk, user=farmer, advance=False).number
            )
        except services.AlreadyFiledError:
            outcomes.append("already filed")
        finally:
            connection.close()

    threads = [threading.Thread(target=file) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["TIC-2023-000001", "already filed"]
    assert RefundEvent.objects.filter(request=draft).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("lines", [1, 50])
def test_filing_runs_a_constant_number_of_queries(
    farm, farmer, bank_account, spring_2025, lines, django_assert_max_num_queries
):
    from reimbursements.models import RefundLine

    draft = RefundRequestFactory(structure=farm, bank_account=bank_account, created_by=farmer)
    gnr = EnergyProduct.objects.get(code="gnr")
    RefundLine.objects.bulk_create(
        RefundLine(
            request=draft,
            invoice_number=f"F{n}",
            delivery_date=date(2023, 5, 1),
            product=gnr,
            quantity=Decimal("1"),
            rate=Decimal("14.96"),
            amount=Decimal("14.96"),
            invoice_copy=f"invoices/f{n}.pdf",
        )
        for n in range(lines)
    )
    with django_assert_max_num_queries(20):
        services.refund_request_file(refund_request_id=draft.pk, user=farmer, advance=False)

"""Advances and their regularisation: the offer is data, the filer chooses explicitly, instructors record
« Avance versée », the advance is deducted from the refund of its year, and a structure that received one
regularises it, with an empty filing when it has nothing to declare."""

import csv
import io
import threading
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from reimbursements import advances, services
from reimbursements.models import (
    Advance,
    AdvanceOffer,
    Campaign,
    EnergyProduct,
    RefundEvent,
    RefundRate,
    RefundRequest,
    advance_amount,
)
from tests.conftest import requires_postgresql, verify_session
from tests.factories import BankAccountFactory, MembershipFactory, UserFactory
from tests.reimbursements.factories import RefundLineFactory, RefundRequestFactory, text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("spring_2025")]
S = RefundRequest.Status


@pytest.fixture
def instructor(db):
    user = UserFactory(staff=True, email="agent@ddfip.example")
    user.groups.add(Group.objects.get(name="Instructeurs"))
    return user


@pytest.fixture
def ready_2023(farm, farmer, bank_account):
    draft = RefundRequestFactory(structure=farm, bank_account=bank_account, created_by=farmer)
    RefundLineFactory(request=draft, quantity=Decimal("100"))  # 1 496,00 €
    return draft


def paid_advance(structure, user, amount: str, instructor=None) -> Advance:
    """A 2023 request mise en paiement whose 2024 advance was paid."""
    request_2023 = RefundRequestFactory(
        structure=structure,
        status=S.PAID,
        number=f"TIC-2023-{structure.pk:06d}",
        filed_at=timezone.now(),
        filed_by=user,
        created_by=user,
        paid_amount=Decimal("1"),
    )
    return Advance.objects.create(
        request=request_2023,
        offer=AdvanceOffer.objects.get(for_year=2024),
        structure=structure,
        for_year=2024,
        requested_amount=Decimal(amount),
        paid_amount=Decimal(amount),
        paid_on=date(2025, 5, 1),
        recorded_by=instructor or UserFactory(staff=True),
    )


@pytest.fixture
def campaign_2024():
    return Campaign.objects.get(year=2024)


@pytest.fixture
def gnr_2024_rates(campaign_2024, gnr):
    """Test rates typed by a test administrator (no 2024 rate is published)."""
    for start, end, amount in (
        (date(2024, 1, 1), date(2024, 6, 30), "14.96"),
        (date(2024, 7, 1), date(2024, 12, 31), "20.95"),
    ):
        RefundRate.objects.create(
            campaign=campaign_2024,
            product=gnr,
            amount=Decimal(amount),
            legal_reference="Taux de test",
            deliveries_from=start,
            deliveries_until=end,
        )


def detail(refund_request):
    return reverse("reimbursements:detail", kwargs={"pk": refund_request.pk})


def file_url(refund_request):
    return reverse("reimbursements:file", kwargs={"pk": refund_request.pk})


# The offers: data from shared/domain.md


def test_the_2024_advance_of_decret_2024_76_and_the_2022_acompte_of_decret_2022_745_are_seeded():
    advance_2024 = AdvanceOffer.objects.get(campaign__year=2023)
    assert (advance_2024.for_year, advance_2024.rate, advance_2024.label) == (2024, Decimal("50"), "avance")
    assert "2024-76" in advance_2024.legal_reference
    assert "au plus tard le 31 décembre 2027" in advance_2024.commitment
    assert (advance_2024.repayment_deadline, advance_2024.repayment_deadline_applied) == (
        date(2027, 12, 31),
        date(2025, 12, 31),
    )
    assert "déclaration de TVA de décembre 2025" in advance_2024.repayment_instructions
    acompte_2022 = AdvanceOffer.objects.get(campaign__year=2021)
    assert (acompte_2022.for_year, acompte_2022.rate, acompte_2022.label) == (2022, Decimal("25"), "acompte")
    assert "2022-745" in acompte_2022.legal_reference


@pytest.mark.parametrize(
    ("refund", "rate", "expected"),
    [
        ("1496.00", "50", "748.00"),
        ("1234.57", "50", "617.29"),  # 617.285: the half cent goes up
        ("0.01", "50", "0.01"),  # 0.005
        ("0.03", "25", "0.01"),  # 0.0075
        ("0.01", "25", "0.00"),  # 0.0025
        ("1593.88", "25", "398.47"),
        ("0.00", "50", "0.00"),
    ],
)
def test_advance_is_rate_times_refund_rounded_half_up(refund, rate, expected):
    assert advance_amount(Decimal(refund), Decimal(rate)) == Decimal(expected)


@pytest.mark.parametrize("rate", ["0", "-5", "100.01", "250"])
def test_advance_rate_outside_0_100_percent_is_refused(rate):
    offer = AdvanceOffer.objects.get(campaign__year=2023)
    offer.rate = Decimal(rate)
    with pytest.raises(ValidationError) as error:
        offer.full_clean()
    assert "entre 0 et 100 %" in str(error.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        offer.save()


def test_advance_offer_for_the_campaign_year_itself_is_refused():
    offer = AdvanceOffer.objects.get(campaign__year=2023)
    offer.for_year = 2023
    with pytest.raises(ValidationError) as error:
        offer.full_clean()
    assert "suivant celle de la campagne (2023)" in " ".join(error.value.message_dict["for_year"])


# Filing with the offer: never pre-ticked


def test_advance_is_offered_with_its_amount_and_commitment_and_nothing_is_ticked(client, farmer, ready_2023):
    client.force_login(farmer)
    response = client.get(detail(ready_2023))
    page = text(response)
    assert "Avance au titre des livraisons 2024" in page
    assert "50 % du remboursement de cette demande, soit 748,00\u00a0€" in page
    assert (
        "Je m'engage à demander le remboursement des livraisons 2024 au plus tard le 31 décembre 2027" in page
    )
    assert "Décret n° 2024-76" in page
    html = response.content.decode()
    assert 'name="advance" value="oui"' in html and 'name="advance" value="non"' in html
    assert "checked" not in html.split('name="advance"')[1].split(">")[0]
    assert "checked" not in html.split('value="non"')[1].split(">")[0]


def test_filing_without_answering_about_the_advance_is_refused_beside_the_choice(client, farmer, ready_2023):
    client.force_login(farmer)
    response = client.post(file_url(ready_2023))
    assert response.status_code == 200
    assert "Indiquez si vous demandez le versement de l'avance" in " ".join(
        response.context["filing_form"].errors["advance"]
    )
    ready_2023.refresh_from_db()
    assert (ready_2023.status, ready_2023.number) == (S.DRAFT, None)
    assert not Advance.objects.exists()
    with pytest.raises(services.RefundError, match="Indiquez si vous demandez le versement de l'avance"):
        services.refund_request_file(refund_request_id=ready_2023.pk, user=farmer)


def test_filer_who_asks_for_the_advance_gets_it_recorded_in_the_feed_and_the_mail(
    client, farmer, ready_2023, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(farmer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(file_url(ready_2023), {"advance": "oui"}, follow=True)
    advance = Advance.objects.get()
    assert (advance.request, advance.structure, advance.for_year, advance.requested_amount) == (
        ready_2023,
        ready_2023.structure,
        2024,
        Decimal("748.00"),
    )
    assert not advance.is_paid
    assert RefundEvent.objects.get().comment == "Avance demandée au titre de 2024 : 748,00\u00a0€."
    page = text(response)
    assert "Avance demandée : 748,00\u00a0€. Elle est versée après validation de la demande." in page
    assert "Avance demandée au titre de 2024 : 748,00\u00a0€." in mailoutbox[0].body


def test_filer_who_declines_gets_no_advance(client, farmer, ready_2023):
    client.force_login(farmer)
    page = text(client.post(file_url(ready_2023), {"advance": "non"}, follow=True))
    assert not Advance.objects.exists()
    assert "Aucune avance n'a été demandée." in page


def test_year_without_offer_asks_nothing_about_an_advance(client, farm, farmer, bank_account):
    draft = RefundRequestFactory(
        structure=farm, bank_account=bank_account, campaign=Campaign.objects.get(year=2022)
    )
    RefundLineFactory(request=draft, product=EnergyProduct.objects.get(code="fioul-lourd"))
    client.force_login(farmer)
    assert 'name="advance"' not in client.get(detail(draft)).content.decode()
    assert services.refund_request_file(refund_request_id=draft.pk, user=farmer).status == S.FILED


# « Avance versée » in the admin


def in_review_with_advance(farmer, ready_2023):
    services.refund_request_file(refund_request_id=ready_2023.pk, user=farmer, advance=True)
    RefundRequest.objects.filter(pk=ready_2023.pk).update(status=S.IN_REVIEW)
    return ready_2023


def test_instructor_records_the_advance_paid_shown_in_the_feed_and_mailed(
    client, farmer, ready_2023, instructor, django_capture_on_commit_callbacks, mailoutbox
):
    refund_request = in_review_with_advance(farmer, ready_2023)
    refund_request.refresh_from_db()
    verify_session(client, instructor)
    change = reverse("admin:reimbursements_refundrequest_change", args=[refund_request.pk])
    assert "Avance versée" in text(client.get(change))
    url = reverse("admin:reimbursements_refundrequest_advance_paid", args=[refund_request.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"amount": "748,00", "paid_on": "2025-06-02"})
    assert response.status_code == 302
    advance = Advance.objects.get()
    assert (advance.paid_amount, advance.paid_on, advance.recorded_by) == (
        Decimal("748.00"),
        date(2025, 6, 2),
        instructor,
    )
    event = RefundEvent.objects.filter(label="Avance versée").get()
    assert event.comment == "Avance au titre de 2024 : 748,00\u00a0€ versés le 02/06/2025."
    assert mailoutbox[-1].subject == f"Demande {refund_request.number} : avance versée"
    assert "Avance au titre de 2024 : 748,00\u00a0€, versée le 02/06/2025." in mailoutbox[-1].body
    assert "avant le 31/12/2027" in mailoutbox[-1].body
    client.force_login(farmer)
    assert "Versée le 02/06/2025 : 748,00\u00a0€." in text(client.get(detail(refund_request)))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"amount": "748,01", "paid_on": "2025-06-01"},
            "amount",
            "ne peut pas dépasser l'avance demandée (748,00",
        ),
        ({"amount": "0", "paid_on": "2025-06-01"}, "amount", "doit être supérieur à zéro"),
        ({"amount": "abc", "paid_on": "2025-06-01"}, "amount", "Saisissez un nombre."),
        ({"amount": "100", "paid_on": "2025-06-03"}, "paid_on", "ne peut pas être dans le futur"),
        ({"amount": "100", "paid_on": "31/02/2025"}, "paid_on", "Saisissez une date valide."),
        ({"amount": "100", "paid_on": "2024-01-01"}, "paid_on", "ne peut pas précéder le dépôt"),
    ],
)
def test_bad_advance_payment_is_refused_beside_the_field(
    client, farmer, ready_2023, instructor, data, field, message
):
    refund_request = in_review_with_advance(farmer, ready_2023)
    verify_session(client, instructor)
    url = reverse("admin:reimbursements_refundrequest_advance_paid", args=[refund_request.pk])
    response = client.post(url, data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Advance.objects.get().is_paid
    assert not RefundEvent.objects.filter(label="Avance versée").exists()


def test_an_advance_recorded_twice_is_refused(farmer, ready_2023, instructor):
    refund_request = in_review_with_advance(farmer, ready_2023)
    advances.advance_record_payment(
        refund_request_id=refund_request.pk, actor=instructor, amount=Decimal("748"), paid_on=date(2025, 6, 2)
    )
    with pytest.raises(advances.AdvanceError, match="déjà enregistrée : 748,00\u00a0€ versés le 02/06/2025"):
        advances.advance_record_payment(
            refund_request_id=refund_request.pk,
            actor=instructor,
            amount=Decimal("1"),
            paid_on=date(2025, 6, 2),
        )
    assert RefundEvent.objects.filter(label="Avance versée").count() == 1


def test_advance_is_paid_only_once_the_request_is_taken_in_hand(farmer, ready_2023, instructor):
    services.refund_request_file(refund_request_id=ready_2023.pk, user=farmer, advance=True)
    with pytest.raises(advances.AdvanceError, match="à l'état « Déposée »"):
        advances.advance_record_payment(
            refund_request_id=ready_2023.pk, actor=instructor, amount=Decimal("1"), paid_on=date(2025, 6, 2)
        )


def test_only_instructors_record_an_advance(client, farmer, ready_2023):
    refund_request = in_review_with_advance(farmer, ready_2023)
    verify_session(client, UserFactory(staff=True))
    url = reverse("admin:reimbursements_refundrequest_advance_paid", args=[refund_request.pk])
    assert client.post(url, {"amount": "1", "paid_on": "2025-06-01"}).status_code == 403
    assert not Advance.objects.get().is_paid


# Deduction, balance and regularisation


@pytest.mark.parametrize(
    ("quantity", "advance", "deducted", "balance", "shown"),
    [
        ("100", "1000.00", "1000.00", "1095.00", "Solde : 1\u00a0095,00\u00a0€"),  # 2 095,00 − 1 000,00
        ("100", "2095.00", "2095.00", "0.00", "Solde : 0,00\u00a0€"),
        ("10", "1000.00", "1000.00", "-790.50", "Montant à reverser : 790,50\u00a0€"),  # 209,50 − 1 000,00
        ("0.001", "0.01", "0.01", "0.01", "Solde : 0,01\u00a0€"),  # 0.02095 → 0,02
    ],
)
def test_filed_request_of_the_advance_year_keeps_the_advance_and_the_balance(
    client,
    farm,
    farmer,
    bank_account,
    campaign_2024,
    gnr,
    gnr_2024_rates,
    quantity,
    advance,
    deducted,
    balance,
    shown,
):
    paid_advance(farm, farmer, advance)
    draft = RefundRequestFactory(
        structure=farm, bank_account=bank_account, campaign=campaign_2024, created_by=farmer
    )
    RefundLineFactory(request=draft, delivery_date=date(2024, 7, 1), quantity=Decimal(quantity))
    client.force_login(farmer)
    assert f"Avance perçue au titre de 2024 {advances.euros(Decimal(advance))}" in text(
        client.get(detail(draft))
    )
    filed = services.refund_request_file(refund_request_id=draft.pk, user=farmer)
    assert (filed.advance_deducted, filed.balance) == (Decimal(deducted), Decimal(balance))
    event = RefundEvent.objects.get(request=draft)
    assert shown in event.comment
    page = text(client.get(detail(draft)))
    assert "Avance perçue au titre de 2024" in page
    if Decimal(balance) < 0:
        assert "Montant à reverser 790,50\u00a0€" in page
        assert "sont à reverser au plus tard le 31/12/2025" in page
        assert "déclaration de TVA de décembre 2025" in page
        assert "formulaire annexe" in page
    else:
        assert f"Solde {advances.euros(Decimal(balance))}" in page


def test_structure_that_received_an_advance_files_an_empty_regularisation_before_rates_exist(
    client, farm, farmer, bank_account, campaign_2024, mailoutbox, django_capture_on_commit_callbacks
):
    paid_advance(farm, farmer, "748.00")
    client.force_login(farmer)
    form = client.get(reverse("reimbursements:create")).context["form"]
    labels = [label for _, label in form.fields["campaign"].choices]
    assert "2024 (taux non encore publiés : régularisation d'avance sans livraison)" in labels
    response = client.post(
        reverse("reimbursements:create"),
        {
            "structure": farm.siret,
            "campaign": campaign_2024.pk,
            "bank_account": bank_account.pk,
            "beneficiary_category": farm.beneficiary_category_id,
            "pacage": "035987654",
            "not_in_difficulty": "on",
        },
    )
    draft = RefundRequest.objects.get(campaign=campaign_2024)
    assert response.status_code == 302
    page = text(client.get(detail(draft)))
    assert "Taux non encore publiés pour 2024" in page
    assert "Je n'ai pas de livraison à déclarer pour 2024" in page
    assert "Ajouter ligne de demande" not in page
    response = client.post(file_url(draft), follow=True)
    assert "cochez « Je n'ai pas de livraison à déclarer pour 2024 »" in text(response)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(file_url(draft), {"nothing_to_declare": "on"}, follow=True)
    draft.refresh_from_db()
    assert (draft.status, draft.number, draft.nothing_to_declare) == (S.FILED, "TIC-2024-000001", True)
    assert (draft.total_amount, draft.advance_deducted, draft.balance) == (
        Decimal("0"),
        Decimal("748.00"),
        Decimal("-748.00"),
    )
    assert draft.amount_to_repay == Decimal("748.00")
    page = text(response)
    assert "Montant à reverser 748,00\u00a0€" in page
    assert "Aucune livraison déclarée pour 2024 (régularisation de l'avance)." in mailoutbox[-1].body
    assert "Montant à reverser : 748,00\u00a0€." in mailoutbox[-1].body


def test_empty_declaration_with_lines_is_refused_and_nothing_is_filed(
    farm, farmer, bank_account, campaign_2024, gnr_2024_rates
):
    paid_advance(farm, farmer, "748.00")
    draft = RefundRequestFactory(structure=farm, bank_account=bank_account, campaign=campaign_2024)
    RefundLineFactory(request=draft)
    with pytest.raises(services.RefundError, match="supprimez d'abord les lignes de demande"):
        services.refund_request_file(refund_request_id=draft.pk, user=farmer, nothing_to_declare=True)
    draft.refresh_from_db()
    assert (draft.status, draft.nothing_to_declare, draft.balance) == (S.DRAFT, False, None)


def test_empty_declaration_without_an_advance_to_regularise_is_refused(
    farm, farmer, bank_account, campaign_2024
):
    draft = RefundRequestFactory(structure=farm, bank_account=bank_account, campaign=campaign_2024)
    with pytest.raises(services.RefundError, match="n'en a pas perçu au titre de 2024"):
        services.refund_request_file(refund_request_id=draft.pk, user=farmer, nothing_to_declare=True)


def test_structure_without_advance_cannot_open_a_year_without_rates(
    client, farm, farmer, bank_account, campaign_2024
):
    client.force_login(farmer)
    years = [
        c.year
        for c in client.get(reverse("reimbursements:create")).context["form"].fields["campaign"].queryset
    ]
    assert 2024 not in years
    with pytest.raises(services.RefundError, match="Le dépôt des demandes de l'année 2024 n'est pas ouvert"):
        services.refund_request_create(
            user=farmer,
            structure=farm,
            campaign=campaign_2024,
            header=services.Header(bank_account, None, "", True),
        )


def test_regularisation_waits_for_the_campaign_opening_date(
    farm, farmer, bank_account, campaign_2024, time_machine
):
    paid_advance(farm, farmer, "748.00")
    time_machine.move_to(date(2025, 5, 31))
    with pytest.raises(services.RefundError, match="n'est pas ouvert"):
        services.refund_request_create(
            user=farmer,
            structure=farm,
            campaign=campaign_2024,
            header=services.Header(bank_account, None, "", True),
        )


def test_pending_regularisation_shows_on_the_list_and_home_until_the_year_is_filed(
    client, farm, farmer, bank_account, campaign_2024
):
    paid_advance(farm, farmer, "748.00")
    client.force_login(farmer)
    expected = "GAEC des Tilleuls a perçu 748,00\u00a0€ d'avance au titre de 2024 : déposez sa demande 2024 avant le 31/12/2027"
    assert expected in text(client.get(reverse("reimbursements:list")))
    assert expected in text(client.get(reverse("home")))
    draft = RefundRequestFactory(structure=farm, bank_account=bank_account, campaign=campaign_2024)
    assert expected in text(client.get(reverse("home")))  # a draft regularises nothing
    services.refund_request_file(refund_request_id=draft.pk, user=farmer, nothing_to_declare=True)
    assert "à régulariser" not in text(client.get(reverse("reimbursements:list")))
    assert "à régulariser" not in text(client.get(reverse("home")))


def test_pending_regularisations_are_counted_beyond_five(client, farmer, django_assert_max_num_queries):
    structures = [MembershipFactory(user=farmer, main_manager=True).structure for _ in range(7)]
    for structure in structures:
        paid_advance(structure, farmer, "10.00")
    client.force_login(farmer)
    with django_assert_max_num_queries(25):
        page = text(client.get(reverse("reimbursements:list")))
    assert page.count("d'avance au titre de 2024") == 5
    assert "Et 2 autres structures." in page


def test_receipt_csv_and_admin_show_advance_and_balance(
    client, farm, farmer, bank_account, campaign_2024, instructor
):
    paid_advance(farm, farmer, "748.00")
    draft = RefundRequestFactory(structure=farm, bank_account=bank_account, campaign=campaign_2024)
    services.refund_request_file(refund_request_id=draft.pk, user=farmer, nothing_to_declare=True)
    client.force_login(farmer)
    pdf = client.get(reverse("reimbursements:receipt", kwargs={"pk": draft.pk})).content
    content = PdfReader(io.BytesIO(pdf)).pages[0].extract_text().replace("\u00a0", " ")
    for expected in (
        "Aucune livraison à déclarer pour 2024 :",
        "Total\n0,00 €",
        "Avance perçue au titre de 2024\n748,00 €",
        "Montant à reverser\n748,00 €",
    ):
        assert expected in content, expected
    body = b"".join(client.get(reverse("reimbursements:export")).streaming_content).decode("utf-8-sig")
    rows = {row[0]: row for row in csv.reader(io.StringIO(body), delimiter=";")}
    assert rows["TIC-2024-000001"][-2:] == ["748,00", "-748,00"]
    assert rows[f"TIC-2023-{farm.pk:06d}"][-2:] == ["", ""]
    verify_session(client, instructor)
    changelist = reverse("admin:reimbursements_refundrequest_changelist")
    page = text(client.get(changelist, {"solde": "negatif"}))
    assert "TIC-2024-000001" in page and "748.00 € à reverser" in page
    assert f"TIC-2023-{farm.pk:06d}" not in page


def test_paid_amount_cannot_exceed_the_balance(
    farm, farmer, bank_account, campaign_2024, gnr_2024_rates, instructor
):
    paid_advance(farm, farmer, "1000.00")
    draft = RefundRequestFactory(structure=farm, bank_account=bank_account, campaign=campaign_2024)
    RefundLineFactory(request=draft, delivery_date=date(2024, 7, 1), quantity=Decimal("100"))  # 2 095,00
    services.refund_request_file(refund_request_id=draft.pk, user=farmer)
    services.refund_request_transition(refund_request_id=draft.pk, actor=instructor, to_status=S.IN_REVIEW)
    with pytest.raises(services.RefundError, match="ne peut pas dépasser le solde"):
        services.refund_request_transition(
            refund_request_id=draft.pk, actor=instructor, to_status=S.PAID, paid_amount=Decimal("1095.01")
        )
    paid = services.refund_request_transition(
        refund_request_id=draft.pk, actor=instructor, to_status=S.PAID, paid_amount=Decimal("1095.00")
    )
    assert paid.paid_amount == Decimal("1095.00")


def test_advance_paid_after_the_year_was_filed_updates_its_balance(
    farm, farmer, bank_account, campaign_2024, instructor
):
    advance = paid_advance(farm, farmer, "748.00")
    Advance.objects.filter(pk=advance.pk).update(paid_amount=None, paid_on=None, recorded_by=None)
    RefundRequest.objects.filter(pk=advance.request_id).update(status=S.IN_REVIEW)
    draft = RefundRequestFactory(structure=farm, bank_account=bank_account, campaign=campaign_2024)
    RefundRequest.objects.filter(pk=draft.pk).update(
        status=S.FILED, number="TIC-2024-000009", filed_at=timezone.now(), filed_by=farmer
    )
    advances.advance_record_payment(
        refund_request_id=advance.request_id,
        actor=instructor,
        amount=Decimal("500"),
        paid_on=date(2025, 6, 2),
    )
    draft.refresh_from_db()
    assert (draft.advance_deducted, draft.balance) == (Decimal("500.00"), Decimal("-500.00"))


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_regularisation_filings_still_give_one_request_per_structure_and_year(spring_2025):
    from structures.models import BeneficiaryCategory
    from tests.factories import StructureFactory

    farm = StructureFactory(beneficiary_category=BeneficiaryCategory.objects.get(code="societe-agricole"))
    farmer = MembershipFactory(structure=farm, main_manager=True).user
    bank_account = BankAccountFactory(structure=farm)
    paid_advance(farm, farmer, "748.00")
    campaign_2024 = Campaign.objects.get(year=2024)
    barrier = threading.Barrier(2)
    outcomes = []

    def create():
        try:
            barrier.wait()
            services.refund_request_create(
                user=farmer,
                structure=farm,
                campaign=campaign_2024,
                header=services.Header(bank_account, farm.beneficiary_category, "", True),
            )
            outcomes.append("created")
        except services.DuplicateRequestError:
            outcomes.append("duplicate")
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "duplicate"]
    assert RefundRequest.objects.filter(structure=farm, campaign=campaign_2024).count() == 1


@pytest.mark.parametrize(("rate", "message"), [("150", "entre 0 et 100 %"), ("0", "entre 0 et 100 %")])
def test_admin_refuses_an_advance_rate_outside_0_100_and_saves_nothing(client, rate, message):
    verify_session(client, UserFactory(staff=True, is_superuser=True))
    campaign = Campaign.objects.get(year=2023)
    offer = campaign.advance_offer
    data = {
        "year": 2023,
        "opens_on": "2024-02-01",
        "closes_on": "2026-12-31",
        "rates-TOTAL_FORMS": 0,
        "rates-INITIAL_FORMS": 0,
        "advance_offer-TOTAL_FORMS": 1,
        "advance_offer-INITIAL_FORMS": 1,
        "advance_offer-0-id": offer.pk,
        "advance_offer-0-campaign": campaign.pk,
        "advance_offer-0-for_year": 2024,
        "advance_offer-0-rate": rate,
        "advance_offer-0-label": "avance",
        "advance_offer-0-legal_reference": offer.legal_reference,
        "advance_offer-0-commitment": offer.commitment,
        "advance_offer-0-repayment_deadline": "2027-12-31",
        "advance_offer-0-repayment_deadline_applied": "2025-12-31",
        "advance_offer-0-repayment_instructions": offer.repayment_instructions,
    }
    response = client.post(reverse("admin:reimbursements_campaign_change", args=[campaign.pk]), data)
    assert response.status_code == 200
    assert message in text(response)
    offer.refresh_from_db()
    assert offer.rate == Decimal("50")
    data["advance_offer-0-rate"] = "40"  # the same form with a valid rate is saved
    assert (
        client.post(reverse("admin:reimbursements_campaign_change", args=[campaign.pk]), data).status_code
        == 302
    )
    offer.refresh_from_db()
    assert offer.rate == Decimal("40")


def test_a_path_that_is_not_an_id_under_a_request_change_page_is_not_an_error(client, instructor, ready_2023):
    verify_session(client, instructor)
    url = reverse("admin:reimbursements_refundrequest_change", args=[ready_2023.pk]) + "widgets.css/change/"
    assert client.get(url).status_code in (302, 404)

"""Every structures URL that takes an id, tried by a signed-in user who is not attached, and by one who is
attached but not manager where it matters: 404, nothing leaked."""

import pytest
from django.urls import reverse

from structures.models import BankAccount, Membership, Structure
from tests.factories import BankAccountFactory, MembershipFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET_NAME = "SCEA Confidentielle"
# Read-only pages answer 405 to POST before looking anything up: the same for every id, so nothing leaks.
READ_ONLY = {"members", "bank_account_rib"}
WRITE_ONLY = {"service_toggle"}


def expected_status(name, method):
    if (method == "post" and name in READ_ONLY) or (method == "get" and name in WRITE_ONLY):
        return 405
    return 404


@pytest.fixture
def target():
    main = MembershipFactory(main_manager=True, structure__name=SECRET_NAME)
    member = MembershipFactory(structure=main.structure)
    account = BankAccountFactory(structure=main.structure, label="Compte secret")
    ServiceFactory(structure=main.structure)
    return main, member, account


def id_urls(main, member, account):
    structure = main.structure
    return {
        "update": reverse("structures:update", args=[structure.pk]),
        "members": reverse("structures:members", args=[structure.pk]),
        "member_transfer": reverse("structures:member_transfer", args=[structure.pk, member.pk]),
        "member_detach": reverse("structures:member_detach", args=[structure.pk, member.pk]),
        "bank_account_deactivate": reverse("structures:bank_account_deactivate", args=[account.pk]),
        "bank_account_rib": reverse("structures:bank_account_rib", args=[account.pk]),
        "service_list": reverse("structures:service_list", args=[structure.pk]),
        "service_toggle": reverse(
            "structures:service_toggle", args=[structure.pk, structure.services.get().pk]
        ),
    }


def assert_untouched(main, member, account):
    assert Structure.objects.get(pk=main.structure.pk).pacage == ""
    assert Membership.objects.filter(is_active=True, structure=main.structure).count() == 2
    assert Membership.objects.get(pk=main.pk).role == Membership.Role.MAIN_MANAGER
    assert BankAccount.objects.get(pk=account.pk).is_active
    assert main.structure.services.get().is_active


@pytest.mark.parametrize(
    "name",
    [
        "update",
        "members",
        "member_transfer",
        "member_detach",
        "bank_account_deactivate",
        "bank_account_rib",
        "service_list",
        "service_toggle",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_user_not_attached_gets_404_and_nothing_leaks(client, target, name, method):
    client.force_login(MembershipFactory(main_manager=True).user)
    url = id_urls(*target)[name]
    response = getattr(client, method)(url, {"pacage": "035123456"})
    assert response.status_code == expected_status(name, method)
    assert SECRET_NAME not in response.content.decode()
    assert_untouched(*target)


@pytest.mark.parametrize(
    "name",
    [
        "update",
        "members",
        "member_transfer",
        "member_detach",
        "bank_account_deactivate",
        "service_list",
        "service_toggle",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_attached_plain_member_gets_404_on_manager_urls(client, target, name, method):
    main, member, account = target
    client.force_login(member.user)
    response = getattr(client, method)(id_urls(main, member, account)[name], {"pacage": "035123456"})
    assert response.status_code == expected_status(name, method)
    assert_untouched(main, member, account)


def test_detached_member_can_no_longer_download_the_rib(client, target):
    _main, member, account = target
    member.is_active = False
    member.save()
    client.force_login(member.user)
    assert client.get(reverse("structures:bank_account_rib", args=[account.pk])).status_code == 404


def test_unknown_ids_are_404_like_foreign_ones(client, target):
    client.force_login(UserFactory())
    for url in [
        reverse("structures:update", args=[999999]),
        reverse("structures:bank_account_rib", args=[999999]),
        reverse("structures:member_detach", args=[999999, 1]),
    ]:
        assert client.get(url).status_code == 404


def test_visitor_is_sent_to_sign_in_for_every_structures_page(client, target):
    urls = [*id_urls(*target).values(), reverse("structures:index"), reverse("structures:create")]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))

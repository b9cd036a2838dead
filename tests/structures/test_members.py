import pytest
from django.urls import reverse

from structures.models import Membership
from tests.factories import MembershipFactory, StructureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(client):
    structure = StructureFactory(name="GAEC du Ruisseau")
    main = MembershipFactory(structure=structure, main_manager=True)
    manager = MembershipFactory(structure=structure, manager=True)
    member = MembershipFactory(structure=structure, user__email="parti@example.fr")
    client.force_login(main.user)
    return main, manager, member


def members_url(structure):
    return reverse("structures:members", args=[structure.pk])


def test_members_page_lists_active_members_with_their_role(client, team):
    main, manager, member = team
    former = MembershipFactory(structure=main.structure, detached=True)
    response = client.get(members_url(main.structure))
    text = response.text
    for membership, role in [
        (main, "Gestionnaire principal"),
        (manager, "Gestionnaire"),
        (member, "Utilisateur"),
    ]:
        assert membership.user.email in text
        assert role in text
    assert former.user.email not in text
    assert text.index(main.user.email) < text.index(manager.user.email) < text.index(member.user.email)


def test_members_page_is_paginated_with_its_total_in_constant_queries(
    client, team, django_assert_max_num_queries
):
    """A management centre's own structure may have hundreds of members: one page at a time."""
    main, _, _ = team
    with django_assert_max_num_queries(20) as small:
        response = client.get(members_url(main.structure))
    assert "3 membres" in response.text and "Page suivante" not in response.text
    MembershipFactory.create_batch(120, structure=main.structure)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(members_url(main.structure))
    assert "123 membres" in response.text and "Page suivante" in response.text
    assert response.text.count("<tr>") == 1 + 50  # the header row and one page
    last = client.get(members_url(main.structure), {"page": 3})
    assert last.text.count("<tr>") == 1 + 23
    assert (
        "Confier le rôle de gestionnaire principal" in last.text
    )  # the main manager's actions on every page


def test_main_manager_hands_the_role_to_a_member_who_is_told_by_mail(
    client, team, mailoutbox, django_capture_on_commit_callbacks
):
    main, _manager, member = team
    url = reverse("structures:member_transfer", args=[main.structure.pk, member.pk])
    assert "Confier le rôle de gestionnaire principal" in client.get(url).text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    assert "est désormais gestionnaire principal" in response.text
    main.refresh_from_db()
    member.refresh_from_db()
    assert (main.role, member.role) == (Membership.Role.MANAGER, Membership.Role.MAIN_MANAGER)
    assert member.updated_by == main.user
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["parti@example.fr"]
    assert "gestionnaire principal de GAEC du Ruisseau" in mailoutbox[0].subject
    assert members_url(main.structure) in mailoutbox[0].body


def test_main_manager_detaches_a_member_who_left_and_history_stays(
    client, team, mailoutbox, django_capture_on_commit_callbacks
):
    main, _manager, member = team
    url = reverse("structures:member_detach", args=[main.structure.pk, member.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    assert "est détaché de la structure" in response.text
    member.refresh_from_db()
    assert member.is_active is False
    assert member.updated_by == main.user
    assert Membership.objects.filter(pk=member.pk).exists()
    assert [m.to for m in mailoutbox] == [["parti@example.fr"]]
    assert "n'est plus rattaché à GAEC du Ruisseau" in mailoutbox[0].subject


def test_main_manager_cannot_detach_themselves(client, team):
    main, _manager, _member = team
    url = reverse("structures:member_detach", args=[main.structure.pk, main.pk])
    assert client.post(url).status_code == 404
    main.refresh_from_db()
    assert main.is_active


def test_service_refuses_the_main_manager_detaching_themselves(team):
    from structures import services

    main, _manager, _member = team
    with pytest.raises(services.StructureError, match="confiez d'abord ce rôle"):
        services.membership_detach(structure_id=main.structure_id, by=main.user, membership_id=main.pk)


@pytest.mark.parametrize("name", ["structures:member_transfer", "structures:member_detach"])
def test_a_manager_who_is_not_main_manager_gets_404_on_member_actions(client, team, name, mailoutbox):
    main, manager, member = team
    client.force_login(manager.user)
    assert "Seul le gestionnaire principal" in client.get(members_url(main.structure)).text
    for method in (client.get, client.post):
        assert method(reverse(name, args=[main.structure.pk, member.pk])).status_code == 404
    member.refresh_from_db()
    assert member.is_active and member.role == Membership.Role.MEMBER
    assert mailoutbox == []


def test_member_actions_on_a_detached_membership_are_404(client, team):
    main, _manager, _member = team
    former = MembershipFactory(structure=main.structure, detached=True)
    assert (
        client.post(reverse("structures:member_detach", args=[main.structure.pk, former.pk])).status_code
        == 404
    )


def test_member_of_another_structure_cannot_be_targeted(client, team):
    main, _manager, _member = team
    stranger = MembershipFactory()
    url = reverse("structures:member_transfer", args=[main.structure.pk, stranger.pk])
    assert client.post(url).status_code == 404
    stranger.refresh_from_db()
    assert stranger.role == Membership.Role.MEMBER


@pytest.mark.parametrize("rows", [3, 45])
def test_members_page_queries_do_not_grow_with_members(client, team, django_assert_max_num_queries, rows):
    main, _manager, _member = team
    for _ in range(rows):
        MembershipFactory(structure=main.structure)
    with django_assert_max_num_queries(7):  # session, user, badge, structure, main manager?, count, page
        response = client.get(members_url(main.structure))
    assert response.text.count("Détacher<span") == rows + 2

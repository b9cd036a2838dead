"""The structure picker: server-side search within the user's scope, suggestions for htmx, a results
page without JavaScript, and pages whose size and query count do not grow with the number of
structures a user may reach."""

import pytest
from django.urls import reverse

from attachments.models import AttachmentRequest
from structures.models import Membership, Structure
from tests.factories import MembershipFactory, StructureFactory, UserFactory, valid_siret

pytestmark = pytest.mark.django_db

SEARCH = reverse("structures:search")
HTMX = {"HX-Request": "true"}


def suggest(client, scope, text, field="q"):
    return client.get(
        SEARCH, {"scope": scope, "field": field, field: text, "list": "id_x_suggestions"}, headers=HTMX
    )


@pytest.fixture
def firm_user(client):
    user = UserFactory()
    for name in ["EARL des Saules", "GAEC des Saules Nord", "SCEA du Moulin"]:
        MembershipFactory(user=user, structure=StructureFactory(name=name))
    client.force_login(user)
    return user


def test_suggestions_search_names_and_siret_prefixes_among_the_users_structures_only(client, firm_user):
    StructureFactory(name="EARL des Saules d'un autre")
    response = suggest(client, "attached", "saules")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('role="option"') == 2 and "d&#x27;un autre" not in body
    assert 'id="id_x_suggestions"' in body and 'data-total="2"' in body
    moulin = Structure.objects.get(name="SCEA du Moulin")
    spaced = f"{moulin.siret[:3]} {moulin.siret[3:6]} {moulin.siret[6:9]}"
    assert suggest(client, "attached", spaced).content.decode().count('role="option"') == 1


def test_suggestions_say_how_many_match_beyond_the_ten_shown(client, firm_user):
    for i in range(12):
        MembershipFactory(user=firm_user, structure=StructureFactory(name=f"Ferme {i:02d}"))
    body = suggest(client, "attached", "ferme").content.decode()
    assert body.count('role="option"') == 10 and 'data-total="12"' in body


def test_managed_scope_leaves_out_structures_the_user_only_belongs_to(client, firm_user):
    managed = MembershipFactory(user=firm_user, main_manager=True, structure__name="EARL Gérée").structure
    body = suggest(client, "managed", "").content.decode()
    assert managed.siret in body and "SCEA du Moulin" not in body


def test_directory_answers_a_siren_or_siret_never_a_name(client, firm_user):
    stranger = StructureFactory(name="GAEC Inconnu")
    assert 'role="option"' not in suggest(client, "directory", "GAEC").content.decode()
    assert 'role="option"' not in suggest(client, "directory", stranger.siret[:8]).content.decode()
    assert "GAEC Inconnu" in suggest(client, "directory", stranger.siret[:9]).content.decode()


@pytest.mark.parametrize("params", [{"scope": "everything"}, {"scope": "attached", "list": "<script>"}])
def test_unknown_scope_or_malformed_list_id_is_a_404(client, firm_user, params):
    assert client.get(SEARCH, params, headers=HTMX).status_code == 404


def test_without_javascript_the_results_page_lists_and_counts_the_matches(client, firm_user):
    response = client.get(SEARCH, {"scope": "attached", "q": "saules"})
    body = response.content.decode()
    assert "2 structures trouvées" in body and "EARL des Saules" in body and "SCEA du Moulin" not in body


def test_list_filter_with_an_ambiguous_name_lists_the_matches_next_to_the_field(client, firm_user):
    body = client.get(reverse("reimbursements:list"), {"structure": "saules"}).content.decode()
    assert "Plusieurs structures correspondent à « saules »" in body
    assert "EARL des Saules" in body and "GAEC des Saules Nord" in body


def test_list_filter_takes_a_unique_name_or_the_picked_suggestion(client, firm_user):
    moulin = Structure.objects.get(name="SCEA du Moulin")
    for typed in ["moulin", f"{moulin.siret} — SCEA du Moulin"]:
        response = client.get(reverse("reimbursements:list"), {"structure": typed})
        assert response.context["form"].cleaned_data["structure"] == moulin


def _reach(user, count, *, role=Membership.Role.MEMBER):
    creator = UserFactory()
    structures = Structure.objects.bulk_create(
        Structure(
            siret=valid_siret(700000 + i),
            name=f"Client {i:05d}",
            street="1 rue",
            postcode="35000",
            city="Rennes",
            created_by=creator,
        )
        for i in range(count)
    )
    Membership.objects.bulk_create(Membership(user=user, structure=s, role=role) for s in structures)


@pytest.mark.parametrize("count", [20, 2000])
def test_pickers_render_no_option_per_structure_and_constant_queries(
    client, django_assert_max_num_queries, count
):
    user = UserFactory()
    _reach(user, count, role=Membership.Role.MANAGER)
    client.force_login(user)
    pages = [
        (reverse("reimbursements:list"), 12),
        (reverse("reimbursements:create"), 12),
        (reverse("structures:manage"), 8),
        (reverse("attachments:request_create"), 8),
        (reverse("structures:index"), 8),
        (reverse("structures:bank_account_create"), 8),
    ]
    for url, queries in pages:
        with django_assert_max_num_queries(queries):
            response = client.get(url)
        body = response.content.decode()
        assert response.status_code == 200
        # « Organisation » lists the user's structures, one page of them; the other pages none at all.
        if url == reverse("structures:index"):
            assert body.count('<th scope="row">Client 0') == min(count, 50)
        else:
            assert "Client 0" not in body, url
        assert len(response.content) < 100 * 1024, url
    assert f"{count} au total" in client.get(reverse("structures:index")).content.decode()
    with django_assert_max_num_queries(5):
        response = suggest(client, "filing", "client 0001")
    assert response.content.decode().count('role="option"') == 10


def test_attachment_request_picks_a_suggestion_and_resolves_its_siret(client, firm_user):
    target = StructureFactory(name="GAEC Voisin")
    MembershipFactory(structure=target, main_manager=True)
    response = client.post(
        reverse("attachments:request_create"), {"siret": f"{target.siret} — GAEC Voisin", "comment": ""}
    )
    assert response.status_code == 302
    assert AttachmentRequest.objects.get().structure == target

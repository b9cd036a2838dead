import copy
import tomllib

import pytest
from django.urls import reverse

from support.assistant import TREE_PATH, TreeError, tree_link_problems, tree_load, tree_parse
from support.checks import assistant_tree_check

pytestmark = pytest.mark.django_db

TREE = tree_load()


def test_tree_file_has_no_dead_end_and_every_link_resolves():
    tree = tree_load()
    assert tree_link_problems(tree) == []
    for node in tree.nodes.values():
        assert node.paragraphs, node.id
        for child in tree.choices(node):
            assert tree.parents[child.id] == node.id
    assert tree.answers, "the tree has answers"


def test_system_check_accepts_the_shipped_tree():
    assert assistant_tree_check(None) == []


def test_guide_path_to_the_activation_answer_exists():
    root = TREE.nodes[TREE.root]
    connection = next(
        n for n in TREE.choices(root) if n.question == "Je rencontre des problèmes à la connexion"
    )
    activation = next(
        n for n in TREE.choices(connection) if n.question == "Je n'ai pas reçu le mail d'activation"
    )
    assert activation.is_answer
    assert [(link.label, link.url) for link in activation.links] == [
        ("Mot de passe oublié ?", reverse("accounts:password_reset"))
    ]


@pytest.mark.parametrize("node_id", sorted(TREE.nodes))
def test_every_node_renders_as_a_page(client, node_id):
    node = TREE.nodes[node_id]
    url = (
        reverse("support:assistant")
        if node_id == TREE.root
        else reverse("support:assistant_node", args=[node_id])
    )
    response = client.get(url)
    assert response.status_code == 200
    assert node.paragraphs[0] in response.text.replace("&#x27;", "'")
    if node.is_answer:
        assert "Cette réponse vous a-t-elle aidé ?" in response.text
    else:
        for child in TREE.choices(node):
            assert reverse("support:assistant_node", args=[child.id]) in response.text


def test_unknown_node_is_a_404(client):
    assert client.get(reverse("support:assistant_node", args=["inexistant"])).status_code == 404


def _raw():
    with TREE_PATH.open("rb") as handle:
        return copy.deepcopy(tomllib.load(handle))


def _broken(change):
    data = _raw()
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["nodes"]["connexion"]["choices"].append("nulle_part"), "ne mène à aucun nœud"),
        (lambda d: d["nodes"].update(orphelin={"question": "Q", "text": "T"}), "inaccessible"),
        (lambda d: d["nodes"]["mail_activation"].update(choices=["connexion"]), "proposé par"),
        (lambda d: d["nodes"]["mail_activation"].pop("text"), "« text » manquant"),
        (lambda d: d["nodes"]["mail_activation"].update(choices=[]), "« choices » est vide"),
        (lambda d: d["nodes"]["mail_activation"].update(data="meteo"), "« data » inconnue"),
        (lambda d: d["nodes"]["mail_activation"].update(links=[{"label": "X"}]), "« label » et « url »"),
        (lambda d: d["nodes"]["mail_activation"].update(couleur="bleu"), "clés inconnues"),
        (lambda d: d.update(root="absente"), "La racine"),
    ],
)
def test_broken_trees_are_refused_with_the_reason(change, expected):
    with pytest.raises(TreeError) as excinfo:
        tree_parse(_broken(change))
    assert any(expected in problem for problem in excinfo.value.problems), excinfo.value.problems


def test_a_link_to_an_unknown_url_name_is_reported():
    data = _raw()
    data["nodes"]["mail_activation"]["links"] = [{"label": "Perdu", "url": "accounts:nexiste_pas"}]
    problems = tree_link_problems(tree_parse(data))
    assert problems == [
        "nœud 'mail_activation' : le lien « Perdu » vise l'URL inconnue 'accounts:nexiste_pas'."
    ]

"""The assistant « Claudia »: loads and checks the decision tree kept in support/assistant.toml.

The tree is data: adding a question or an answer means editing the file, never this module. Links are
Django URL names, resolved each time a page is shown, so a renamed URL breaks the tree's test, not a page.
"""

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.urls import NoReverseMatch, reverse

TREE_PATH = Path(__file__).with_name("assistant.toml")
# Live data an answer may show under its text (see support/selectors.py).
DATA_SOURCES = {"campaigns", "advances"}
NODE_KEYS = {"question", "text", "steps", "choices", "links", "data"}
NODE_ID = re.compile(r"^[a-z0-9_]{1,80}$")


class TreeError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Link:
    label: str
    url_name: str

    @property
    def url(self) -> str:
        return reverse(self.url_name)


@dataclass(frozen=True)
class Node:
    id: str
    question: str
    paragraphs: tuple[str, ...]
    steps: tuple[str, ...] = ()
    choice_ids: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    data: str = ""

    @property
    def is_answer(self) -> bool:
        """An answer ends the branch and asks « Cette réponse vous a-t-elle aidé ? »."""
        return not self.choice_ids


@dataclass(frozen=True)
class Tree:
    root: str
    nodes: dict[str, Node]
    parents: dict[str, str] = field(default_factory=dict)

    def choices(self, node: Node) -> list[Node]:
        return [self.nodes[child] for child in node.choice_ids]

    def trail(self, node: Node) -> list[Node]:
        """The questions the user picked to reach `node`, from the root's first choice."""
        trail = []
        current = node.id
        while current != self.root:
            trail.append(self.nodes[current])
            current = self.parents[current]
        return trail[::-1]

    @property
    def answers(self) -> list[Node]:
        return [node for node in self.nodes.values() if node.is_answer]


def _paragraphs(text: str) -> tuple[str, ...]:
    return tuple(" ".join(block.split()) for block in re.split(r"\n\s*\n", text) if block.strip())


def _strings(value, where: str, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        problems.append(f"{where} : une liste de textes non vides est attendue.")
        return ()
    return tuple(value)


def tree_parse(data: dict) -> Tree:
    """Build the tree from parsed TOML and check its shape; raise TreeError listing every problem."""
    problems: list[str] = []
    root = data.get("root")
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        raise TreeError(["Aucun nœud : la table [nodes] est vide ou absente."])
    nodes: dict[str, Node] = {}
    for node_id, raw in raw_nodes.items():
        where = f"nœud {node_id!r}"
        if not NODE_ID.match(node_id):
            problems.append(
                f"{where} : identifiant invalide (minuscules, chiffres et _ ; 80 caractères au plus)."
            )
        if not isinstance(raw, dict):
            problems.append(f"{where} : une table est attendue.")
            continue
        unknown = set(raw) - NODE_KEYS
        if unknown:
            problems.append(f"{where} : clés inconnues {sorted(unknown)}.")
        question = raw.get("question")
        if not isinstance(question, str) or not question.strip():
            problems.append(f"{where} : « question » manquante.")
            question = ""
        text = raw.get("text")
        paragraphs = _paragraphs(text) if isinstance(text, str) else ()
        if not paragraphs:
            problems.append(f"{where} : « text » manquant : chaque nœud dit quelque chose.")
        steps = _strings(raw["steps"], f"{where}, steps", problems) if "steps" in raw else ()
        choice_ids = _strings(raw["choices"], f"{where}, choices", problems) if "choices" in raw else ()
        if "choices" in raw and not choice_ids:
            problems.append(f"{where} : « choices » est vide ; retirez la clé pour en faire une réponse.")
        links = []
        for index, link in enumerate(raw.get("links", [])):
            if (
                not isinstance(link, dict)
                or set(link) != {"label", "url"}
                or not all(isinstance(v, str) and v.strip() for v in link.values())
            ):
                problems.append(
                    f"{where}, lien {index + 1} : « label » et « url » (un nom d'URL) sont attendus."
                )
                continue
            links.append(Link(label=link["label"], url_name=link["url"]))
        data_source = raw.get("data", "")
        if data_source and data_source not in DATA_SOURCES:
            problems.append(
                f"{where} : « data » inconnue {data_source!r} (possibles : {sorted(DATA_SOURCES)})."
            )
        nodes[node_id] = Node(
            id=node_id,
            question=question.strip(),
            paragraphs=paragraphs,
            steps=steps,
            choice_ids=choice_ids,
            links=tuple(links),
            data=data_source if isinstance(data_source, str) else "",
        )

    if root not in nodes:
        problems.append(f"La racine {root!r} n'est pas un nœud.")
    parents: dict[str, str] = {}
    for node in nodes.values():
        if len(set(node.choice_ids)) != len(node.choice_ids):
            problems.append(f"nœud {node.id!r} : un choix est proposé deux fois.")
        for child in node.choice_ids:
            if child not in nodes:
                problems.append(f"nœud {node.id!r} : le choix {child!r} ne mène à aucun nœud.")
            elif child == root:
                problems.append(f"nœud {node.id!r} : la racine ne peut pas être un choix.")
            elif child in parents and parents[child] != node.id:
                problems.append(f"nœud {child!r} : proposé par {parents[child]!r} et par {node.id!r}.")
            else:
                parents[child] = node.id
    if root in nodes:
        reached, stack = set(), [root]
        while stack:
            current = stack.pop()
            if current in reached:
                problems.append(f"nœud {current!r} : boucle dans l'arbre.")
                continue
            reached.add(current)
            stack.extend(child for child in nodes[current].choice_ids if child in nodes)
        for orphan in sorted(set(nodes) - reached):
            problems.append(f"nœud {orphan!r} : inaccessible depuis la racine.")
    if problems:
        raise TreeError(problems)
    return Tree(root=root, nodes=nodes, parents=parents)


def tree_load(path: Path = TREE_PATH) -> Tree:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise TreeError([f"{path.name} : TOML invalide ({exc})."]) from exc
    return tree_parse(data)


def tree_link_problems(tree: Tree) -> list[str]:
    """Links whose URL name does not resolve (run once the URLconf is loaded)."""
    problems = []
    for node in tree.nodes.values():
        for link in node.links:
            try:
                link.url  # noqa: B018 — resolving is the check
            except NoReverseMatch:
                problems.append(
                    f"nœud {node.id!r} : le lien « {link.label} » vise l'URL inconnue {link.url_name!r}."
                )
    return problems


@cache
def assistant_tree() -> Tree:
    return tree_load()

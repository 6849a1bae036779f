"""Step 3: the knowledge graph (NetworkX) and entity linking.

Entities are nodes carrying their attributes (each attribute is one fact);
relations are labelled edges (each one fact). Entity linking finds the
entities a message names, by alias, in any case and with small typos. The
lookup follows relations: `card_plus -> atm_fee -> amount` reads the fee
of the ATM-fee entity that the Plus card points to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import networkx as nx
import numpy as np
from rapidfuzz import fuzz, process

from agent.bot.schemas import GraphFile, ProcedureSpec
from agent.config import BotConfig, GraphConfig
from agent.exceptions import BuildError
from agent.types import Embedder, EntityMention, Fact, GraphResult, Turn

TOKEN = re.compile(r"[\w']+|[€$£¥%]")
MAX_NGRAM = 4


def tokenize(text: str) -> list[str]:
    """Lower-case word and currency-symbol tokens; apostrophes stay inside words."""
    return TOKEN.findall(text.lower())


class KnowledgeGraph:
    """Entities, relations and procedures, with alias-based entity linking."""

    name = "graph"
    artifact = "graph"

    def __init__(self, graph: nx.MultiDiGraph, procedures: dict[str, ProcedureSpec], config: GraphConfig) -> None:
        self.graph = graph
        self.procedures = procedures
        self.config = config
        self.aliases: dict[str, str] = {}  # normalised alias -> entity id
        for node, data in graph.nodes(data=True):
            for alias in [data["name"], *data["aliases"]]:
                key = " ".join(tokenize(alias))
                if key:
                    self.aliases.setdefault(key, node)
        # Fuzzy matching only on longer aliases: short ones ("usd", "pin") would match noise.
        self._fuzzy_keys = [k for k in self.aliases if len(k) >= config.fuzzy_min_length]

    @classmethod
    def from_spec(cls, spec: GraphFile, config: GraphConfig) -> KnowledgeGraph:
        graph = nx.MultiDiGraph()
        for entity in spec.entities:
            graph.add_node(
                entity.id,
                type=entity.type,
                name=entity.name,
                aliases=list(entity.aliases),
                attributes=dict(entity.attributes),
            )
        for rel in spec.relations:
            graph.add_edge(rel.source, rel.target, key=rel.relation)
        return cls(graph, dict(spec.procedures), config)

    # --- facts --------------------------------------------------------------

    def fact_count(self) -> int:
        """Attributes plus relations: every single fact the graph states."""
        attributes = sum(len(d["attributes"]) for _, d in self.graph.nodes(data=True))
        return attributes + self.graph.number_of_edges()

    def entity(self, entity_id: str) -> dict:
        return self.graph.nodes[entity_id]

    def has_entity(self, entity_id: str) -> bool:
        return entity_id in self.graph

    def entities_of_type(self, entity_type: str) -> list[str]:
        return [n for n, d in self.graph.nodes(data=True) if d["type"] == entity_type]

    def follow(self, entity_id: str, relation: str) -> str | None:
        """The target of `relation` from `entity_id`, if the edge exists."""
        for _, target, key in self.graph.out_edges(entity_id, keys=True):
            if key == relation:
                return target
        return None

    def resolve(self, entity_id: str, path: Sequence[str]) -> tuple[str, list[Fact]] | None:
        """Read `path` (relations then an attribute) from an entity; None if it does not resolve."""
        current = entity_id
        facts: list[Fact] = []
        for i, part in enumerate(path):
            last = i == len(path) - 1
            attributes = self.entity(current)["attributes"]
            if last and part == "name":
                name = self.entity(current)["name"]
                return name, [*facts, Fact(subject=current, attribute="name", value=name)]
            if last and part in attributes:
                facts.append(Fact(subject=current, attribute=part, value=attributes[part]))
                return attributes[part], facts
            target = self.follow(current, part)
            if target is None:
                return None
            facts.append(Fact(subject=current, attribute=part, value=target))
            current = target
        name = self.entity(current)["name"]  # a path ending on a relation names its target
        return name, [*facts, Fact(subject=current, attribute="name", value=name)]

    def facts_about(self, entity_id: str) -> list[Fact]:
        """Every attribute and outgoing relation of one entity."""
        data = self.entity(entity_id)
        facts = [Fact(subject=entity_id, attribute=k, value=v) for k, v in data["attributes"].items()]
        facts += [
            Fact(subject=entity_id, attribute=key, value=target)
            for _, target, key in self.graph.out_edges(entity_id, keys=True)
        ]
        return facts

    # --- entity linking -----------------------------------------------------

    def link(self, text: str, fuzzy: bool = True) -> list[EntityMention]:
        """Entities named in `text`: exact alias n-grams first (longest wins), then close typos."""
        tokens = tokenize(text)
        used = [False] * len(tokens)
        found: dict[str, EntityMention] = {}
        for size in range(min(MAX_NGRAM, len(tokens)), 0, -1):
            for start in range(len(tokens) - size + 1):
                if any(used[start : start + size]):
                    continue
                gram = " ".join(tokens[start : start + size])
                entity_id = self.aliases.get(gram)
                if entity_id is not None:
                    used[start : start + size] = [True] * size
                    found.setdefault(entity_id, self._mention(entity_id, gram, 100.0))
        if fuzzy and self._fuzzy_keys:
            self._link_fuzzy(tokens, used, found)
        return list(found.values())

    def _link_fuzzy(self, tokens: list[str], used: list[bool], found: dict[str, EntityMention]) -> None:
        """Close typos of aliases in the words not linked exactly: 2-grams first, then single words."""
        spans = [
            (start, size, gram)
            for size in (2, 1)
            for start in range(len(tokens) - size + 1)
            if len(gram := " ".join(tokens[start : start + size])) >= self.config.fuzzy_min_length
        ]
        if not spans:
            return
        # One C call scores every candidate against every alias (per-gram extractOne calls dominated
        # the step); float64 and first-best argmax give exactly extractOne's matches and scores.
        scores = process.cdist(
            [gram for _, _, gram in spans],
            self._fuzzy_keys,
            scorer=fuzz.ratio,
            score_cutoff=self.config.fuzzy_min_score,
            dtype=np.float64,
        )
        for (start, size, gram), row in zip(spans, scores, strict=True):
            if any(used[start : start + size]):
                continue
            best = int(row.argmax())
            if row[best] < self.config.fuzzy_min_score or row[best] == 0:
                continue
            entity_id = self.aliases[self._fuzzy_keys[best]]
            used[start : start + size] = [True] * size
            found.setdefault(entity_id, self._mention(entity_id, gram, float(row[best])))

    def _mention(self, entity_id: str, surface: str, score: float) -> EntityMention:
        data = self.entity(entity_id)
        return EntityMention(id=entity_id, type=data["type"], name=data["name"], surface=surface, score=score)

    def __call__(self, turns: Sequence[Turn]) -> None:
        for turn in turns:
            mentions = self.link(turn.text)
            facts = [fact for m in mentions for fact in self.facts_about(m.id)]
            turn.graph = GraphResult(entities=mentions, facts=facts)

    # --- persistence --------------------------------------------------------

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        data = {
            "graph": nx.node_link_data(self.graph, edges="links"),
            "procedures": {k: v.model_dump() for k, v in self.procedures.items()},
        }
        (folder / "graph.json").write_text(json.dumps(data))

    @classmethod
    def load(cls, folder: Path, config: BotConfig, encoder: Embedder) -> KnowledgeGraph:
        """The graph `train` saved in `folder` (the encoder is not needed: entity linking is by alias)."""
        try:
            data = json.loads((folder / "graph.json").read_text())
            graph = nx.node_link_graph(data["graph"], directed=True, multigraph=True, edges="links")
        except (OSError, KeyError, ValueError) as exc:
            raise BuildError(
                f"Knowledge graph in {folder} is missing or unreadable ({exc}); run `python -m agent train`."
            ) from None
        procedures = {k: ProcedureSpec.model_validate(v) for k, v in data["procedures"].items()}
        return cls(graph, procedures, config.graph)

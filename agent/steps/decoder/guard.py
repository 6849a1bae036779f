"""The grounding guard: a generated reply may only state what its grounding supports.

Besides the claims, a reply must not loop (a repeated run of words) and must stay
close to the policy's own answer (ROUGE-L against it), so a garbled but number-free
sentence from a small model is refused too.

A claim is a number with its unit (amount, currency, percentage, time span,
count, phone number), a price or time in words ("free", "instantly") or a
product name the knowledge graph knows (a card, a currency, a country, a
top-up method ...). Every claim in the reply must also
be a claim of the grounding (facts and FAQ answer given to the decoder, and the
policy's own answer, which the bot would send without the decoder), and
every number the policy's own answer states must still be there, so a fluent
reply can neither invent a fee nor drop one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.steps.decoder.prompt import Grounding
from agent.steps.graph import KnowledgeGraph

# Longest patterns first: "3-5 working days" must be one claim, not "3" and "5 working days".
_NUMBER = r"\d+(?:[.,:/]\d+)*"
_UNIT = (
    r"(?:working\s+days?|business\s+days?|days?|hours?|minutes?|mins?|seconds?|weeks?|months?|years?|"
    r"eur|euros?|usd|gbp|chf|pln|sek|nok|dkk|czk|huf|ron|jpy|aud|cad)"
)
# Prices and times said in words are values too: a reply that drops the "free" of "free on Premium"
# states a wrong fee ("EUR 6 on Standard and Premium") with every number still grounded.
_WORD_VALUES = r"free(?:\s+of\s+charge)?|instantly"
CLAIM = re.compile(
    rf"(?:\b(?:{_WORD_VALUES})\b"
    rf"|[€$£]\s?{_NUMBER}"
    rf"|(?:eur|usd|gbp|chf)\s?{_NUMBER}"
    rf"|{_NUMBER}(?:\s?(?:-|–|to)\s?{_NUMBER})?\s?(?:%|{_UNIT}\b)?"
    rf"|\+\d[\d ]{{5,}}\d)",
    re.IGNORECASE,
)
_SYMBOLS = {"€": "eur ", "$": "usd ", "£": "gbp "}


def claims(text: str) -> set[str]:
    """Normalised numeric claims of `text` ("€5" and "EUR 5" are the same claim)."""
    found = set()
    for match in CLAIM.finditer(text):
        claim = match.group(0).lower()
        for symbol, code in _SYMBOLS.items():
            claim = claim.replace(symbol, code)
        claim = re.sub(r"\s*(?:–|-|to)\s*", "-", claim) if re.search(r"\d\s*(?:–|-|to)\s*\d", claim) else claim
        found.add(re.sub(r"\s+", " ", claim).strip())
    return found


@dataclass(frozen=True)
class GuardResult:
    ok: bool
    problems: list[str]


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 on lower-cased word tokens (longest common subsequence)."""
    a, b = candidate.lower().split(), reference.lower().split()
    if not a or not b:
        return 0.0
    prev = [0] * (len(b) + 1)
    for x in a:
        row = [0]
        for j, y in enumerate(b, 1):
            row.append(prev[j - 1] + 1 if x == y else max(prev[j], row[-1]))
        prev = row
    lcs = prev[-1]
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(a), lcs / len(b)
    return 2 * precision * recall / (precision + recall)


def repeated_run(text: str, size: int = 4) -> str | None:
    """The first run of `size` words that occurs twice, if any."""
    words = text.lower().split()
    seen: set[tuple[str, ...]] = set()
    for i in range(len(words) - size + 1):
        gram = tuple(words[i : i + size])
        if gram in seen:
            return " ".join(gram)
        seen.add(gram)
    return None


class GroundingGuard:
    """Checks a generated reply against the grounding it was given."""

    def __init__(self, graph: KnowledgeGraph, min_draft_overlap: float = 0.0) -> None:
        self.graph = graph
        self.min_draft_overlap = min_draft_overlap

    def names(self, text: str) -> set[str]:
        """Entity ids named in `text` by exact alias (no typo matching: this is a check, not a guess)."""
        return {mention.id for mention in self.graph.link(text, fuzzy=False)}

    def check(self, reply: str, grounding: Grounding) -> GuardResult:
        problems: list[str] = []
        if not reply.strip():
            return GuardResult(False, ["empty reply"])
        # The draft counts as grounding too: it is the answer the bot gives without the decoder (a
        # reviewed template filled from the graph, or a FAQ answer), so restating it is no less grounded.
        source_text = "\n".join([*grounding.texts(), grounding.draft])
        supported = claims(source_text)
        for claim in sorted(claims(reply) - supported):
            problems.append(f"unsupported value '{claim}'")
        known_names = self.names(source_text) | self.names(grounding.message)
        known_names |= {self._id_of(fact.subject) for fact in grounding.facts}
        for name in sorted(self.names(reply) - known_names):
            problems.append(f"unsupported name '{self.graph.entity(name)['name']}'")
        for claim in sorted(claims(grounding.draft) - claims(reply)):
            problems.append(f"dropped value '{claim}'")
        loop = repeated_run(reply)
        if loop and loop != repeated_run(grounding.draft):
            problems.append(f"repeats '{loop}'")
        overlap = rouge_l(reply, grounding.draft)
        if overlap < self.min_draft_overlap:
            problems.append(f"strays from the grounded answer (overlap {overlap:.2f} < {self.min_draft_overlap})")
        return GuardResult(not problems, problems)

    def _id_of(self, display_name: str) -> str:
        return self.graph.aliases.get(display_name.lower(), display_name)

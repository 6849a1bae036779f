"""`python -m agent eval faq`: index a FAQ CSV with the bot's own FAQ index and score ranked answers to queries.

The index is `agent.steps.faq.FaqIndex`, built with `upsert` exactly as
`train` builds a bot's, with the bot's FAQ settings (bot.yaml's `faq` section
when `--config` names one) and its encoder.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

from agent.config import BotConfig
from agent.eval.csvdata import read_faq, read_queries
from agent.eval.metrics import RetrievalMetrics, retrieval_metrics
from agent.steps.encoder import Encoder
from agent.steps.faq import FaqIndex

RANK_DEPTH = 10  # ids ranked per query: enough for recall@5 and a meaningful MRR


@dataclass
class FaqEvalReport:
    """Figures of one `eval faq` run."""

    metrics: RetrievalMetrics
    n_entries: int
    index_seconds: float
    search_seconds: float
    answer_weight: float

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = dict(self.metrics.as_dict())
        out.update({k: v for k, v in asdict(self).items() if k != "metrics"})
        return out


def evaluate_faq(
    faq_csv: str | Path, queries_csv: str | Path, config: BotConfig, progress: bool = False
) -> FaqEvalReport:
    """Index every entry of `faq_csv`, rank entries for each query of `queries_csv`, score the rankings."""
    entries = read_faq(faq_csv)
    queries = read_queries(queries_csv, known_ids={e.id for e in entries})
    encoder = Encoder(config.encoder)
    started = time.perf_counter()
    index = FaqIndex(encoder.dim, config.faq, encoder.fingerprint)
    index.upsert(entries, lambda texts: encoder.encode(texts, progress=progress))
    index_seconds = time.perf_counter() - started
    started = time.perf_counter()
    hits = index.search(encoder.encode([q.text for q in queries], progress=progress), top_k=RANK_DEPTH)
    search_seconds = time.perf_counter() - started
    return FaqEvalReport(
        metrics=retrieval_metrics([q.faq_id for q in queries], [[h.id for h in row] for row in hits]),
        n_entries=len(entries),
        index_seconds=round(index_seconds, 1),
        search_seconds=round(search_seconds, 1),
        answer_weight=config.faq.answer_weight,
    )


def format_report(report: FaqEvalReport, faq_csv: str, queries_csv: str) -> str:
    """A short human-readable summary of `report`."""
    m = report.metrics
    return "\n".join(
        [
            f"indexed {report.n_entries} entries of {faq_csv} in {report.index_seconds:.1f}s; "
            f"{m.n_queries} queries from {queries_csv}",
            f"P@1        {m.p_at_1:.4f}",
            f"MRR        {m.mrr:.4f}",
            f"recall@5   {m.recall_at_5:.4f}",
            f"ranking    (1 - {report.answer_weight}) * best phrasing + {report.answer_weight} * question+answer",
        ]
    )

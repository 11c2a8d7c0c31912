"""Evaluate the configured engine on the question set, per mode, beside the chunk baseline."""

from __future__ import annotations

from policyqa.corpus import Corpus
from policyqa.qa.search import Searcher

from .baseline import ChunkBaseline
from .dataset import Question
from .report import Row, run_system, searcher_system, summarise

EVAL_MODES = ("lexical", "hybrid", "dense")


def evaluate(
    searcher: Searcher,
    corpus: Corpus,
    questions: list[Question],
    modes: tuple[str, ...] = EVAL_MODES,
    *,
    baseline: bool = True,
) -> tuple[dict, list[Row], dict[str, str]]:
    """Returns (report, rows, unavailable) where unavailable maps a mode to why it was not run."""
    rows: list[Row] = []
    unavailable: dict[str, str] = {}
    for mode in modes:
        used, notice = searcher.resolve_mode(mode)
        if used != mode:
            unavailable[mode] = searcher.dense_unavailable_reason or notice or "unavailable"
            continue
        rows += run_system(mode, searcher_system(searcher, mode), questions)
    if baseline:
        rows += run_system("baseline (fixed chunks + BM25)", ChunkBaseline.build(corpus).search, questions)
    return summarise(rows), rows, unavailable

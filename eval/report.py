"""Run the question set through the searcher (and the chunk baseline) and report ranking quality."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from policyqa.qa.search import Searcher

from .dataset import Question
from .metrics import hit_at, mean, mrr_at, ndcg_at, recall_at

METRICS = ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "recall@10")


@dataclass(frozen=True)
class Row:
    question: Question
    system: str  # e.g. "lexical", "hybrid", "baseline"
    ranked: tuple[str, ...]

    def scores(self) -> dict[str, float]:
        g = self.question.gold
        return {
            "hit@1": hit_at(self.ranked, g, 1),
            "hit@5": hit_at(self.ranked, g, 5),
            "hit@10": hit_at(self.ranked, g, 10),
            "mrr@10": mrr_at(self.ranked, g, 10),
            "ndcg@10": ndcg_at(self.ranked, g, 10),
            "recall@10": recall_at(self.ranked, g, 10),
        }


def run_system(name: str, search: Callable[[str], list[str]], questions: Iterable[Question]) -> list[Row]:
    return [Row(q, name, tuple(search(q.question))) for q in questions]


def searcher_system(searcher: Searcher, mode: str, k: int = 10) -> Callable[[str], list[str]]:
    def search(query: str) -> list[str]:
        result = searcher.search(query, top_k=k, mode=mode)
        if result.mode != mode:
            raise RuntimeError(f"{mode} mode is not available: {result.notice}")
        return [h.clause.clause_id for h in result.hits]

    return search


def _aggregate(rows: list[Row]) -> dict:
    scored = [r.scores() for r in rows if r.question.answerable and r.question.gold]
    out = {"n": len(scored)}
    for m in METRICS:
        out[m] = mean([s[m] for s in scored])
    multi = [r.scores()["recall@10"] for r in rows if len(r.question.gold) >= 2]
    out["multi_recall@10"] = mean(multi)
    out["n_multi"] = len(multi)
    return out


def summarise(rows: list[Row]) -> dict:
    """Metrics per system: overall, by question type, by language, and Chinese only."""
    by_system: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_system[r.system].append(r)
    report = {}
    for system, srows in by_system.items():
        groups: dict[str, dict] = {"overall": _aggregate(srows), "zh": _aggregate([r for r in srows if r.question.lang == "zh"])}
        groups["by_type"] = {
            t: _aggregate([r for r in srows if r.question.type == t])
            for t in sorted({r.question.type for r in srows})
            if t != "unanswerable"
        }
        groups["by_lang"] = {lang: _aggregate([r for r in srows if r.question.lang == lang]) for lang in sorted({r.question.lang for r in srows})}
        report[system] = groups
    return report


def misses(rows: list[Row], system: str, k: int = 5) -> list[dict]:
    """Answerable questions whose gold is not in the top k — for reading, not for tuning on test."""
    out = []
    for r in rows:
        if r.system == system and r.question.gold and not hit_at(r.ranked, r.question.gold, k):
            out.append({"id": r.question.id, "question": r.question.question, "gold": list(r.question.gold), "got": list(r.ranked[:k])})
    return out


def render_table(report: dict) -> str:
    """A plain-text table: one block per system, rows = overall / zh / types / languages."""
    lines = []
    head = f"{'group':<22}{'n':>4}" + "".join(f"{m:>10}" for m in METRICS) + f"{'multi-r@10':>12}"
    for system, groups in report.items():
        lines.append(f"== {system} ==")
        lines.append(head)
        entries = [("overall", groups["overall"]), ("zh only", groups["zh"])]
        entries += [(f"type:{t}", g) for t, g in groups["by_type"].items()]
        entries += [(f"lang:{lang}", g) for lang, g in groups["by_lang"].items()]
        for name, g in entries:
            cells = "".join(f"{(g[m] if g[m] is not None else float('nan')):>10.3f}" for m in METRICS)
            mr = g["multi_recall@10"]
            lines.append(f"{name:<22}{g['n']:>4}{cells}{(f'{mr:.3f}' if mr is not None else '-'):>12}")
        lines.append("")
    return "\n".join(lines)


def write_chart(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = list(report)
    groups = ["overall", "zh"] + [f"type:{t}" for t in next(iter(report.values()))["by_type"]] + ["lang:en"]

    def value(system: str, group: str, metric: str):
        g = report[system]
        if group.startswith("type:"):
            g = g["by_type"].get(group[5:])
        elif group.startswith("lang:"):
            g = g["by_lang"].get(group[5:])
        else:
            g = g[group]
        return (g or {}).get(metric) or 0.0

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    for ax, metric in zip(axes, ("hit@5", "mrr@10")):
        width = 0.8 / max(1, len(systems))
        for i, system in enumerate(systems):
            xs = [j + i * width for j in range(len(groups))]
            ax.bar(xs, [value(system, g, metric) for g in groups], width, label=system)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(groups))])
        ax.set_xticklabels(groups, rotation=30, ha="right", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(metric)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("Retrieval quality on the hand-labelled questions")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(report: dict, extra: dict, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "table": out_dir / "report.txt", "chart": out_dir / "report.png"}
    paths["json"].write_text(json.dumps({**extra, "systems": report}, ensure_ascii=False, indent=1), encoding="utf-8")
    paths["table"].write_text(render_table(report), encoding="utf-8")
    write_chart(report, paths["chart"])
    return paths

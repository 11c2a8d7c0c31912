"""Helpers shared by the benchmark scripts: timing, latency statistics, peak memory, questions, output.

Nothing here knows about retrieval; ``bench_retrieval.py`` imports it (``scripts/`` is on ``sys.path``
when a script in it is run directly).
"""

from __future__ import annotations

import ctypes
import gc
import json
import math
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = REPO / "eval" / "questions.jsonl"


# --- timing ---------------------------------------------------------------------------------------


def latency_stats(samples_ns: Sequence[int]) -> dict[str, Any]:
    """p50/p99 (numpy's default linear interpolation) and friends, in milliseconds."""
    a = np.asarray(samples_ns, dtype=np.float64) / 1e6
    p50, p99 = np.percentile(a, [50, 99])
    return {
        "n": int(a.size),
        "p50_ms": float(p50),
        "p99_ms": float(p99),
        "mean_ms": float(a.mean()),
        "min_ms": float(a.min()),
        "max_ms": float(a.max()),
    }


class Timed(list):
    """Per-call durations in ns, plus how the series ran: wall and process CPU seconds, and the number of
    times the kernel preempted this process meanwhile (``ru_nivcsw``). Many preemptions mean other work
    competed for the cores, which inflates p99 first."""

    wall_s: float = 0.0
    cpu_s: float = 0.0
    preempted: int = 0

    def context(self) -> dict[str, Any]:
        return {"wall_s": round(self.wall_s, 3), "cpu_s": round(self.cpu_s, 3), "preempted": self.preempted}


def time_each(
    fn: Callable[[Any], Any], inputs: Sequence[Any], *, repeats: int, warmup: Sequence[Any] | None = None
) -> Timed:
    """Call ``fn`` on every input ``repeats`` times (inputs interleaved, not back to back) and return
    each call's duration in ns. An untimed pass over ``warmup`` (default: all inputs) first warms
    caches, lazy loaders and the allocator.

    The garbage collector stays on: production calls pay for its pauses too, and they belong in p99.
    """
    for x in inputs if warmup is None else warmup:
        fn(x)
    gc.collect()
    out = Timed()
    clock = time.perf_counter_ns
    ru0, cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.process_time(), time.perf_counter()
    for _ in range(repeats):
        for x in inputs:
            t0 = clock()
            fn(x)
            out.append(clock() - t0)
    out.wall_s = time.perf_counter() - wall0
    out.cpu_s = time.process_time() - cpu0
    out.preempted = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw - ru0.ru_nivcsw
    return out


def repeats_for(n_inputs: int, min_calls: int) -> int:
    """How many passes over ``n_inputs`` inputs give at least ``min_calls`` timed calls."""
    return max(1, math.ceil(min_calls / max(1, n_inputs)))


def time_runs(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """Run ``fn`` ``runs`` times; return every run's wall time in seconds and the last result."""
    times: list[float] = []
    result = None
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter_ns()
        result = fn()
        times.append((time.perf_counter_ns() - t0) / 1e9)
    return times, result


def build_stats(times_s: Sequence[float]) -> dict[str, Any]:
    return {"runs": len(times_s), "median_s": float(statistics.median(times_s)), "runs_s": [float(t) for t in times_s]}


# --- memory ---------------------------------------------------------------------------------------


def _rusage_mib() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS; this benchmark targets Linux)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def release_free_memory() -> None:
    """Collect garbage and hand the C allocator's free pages back to the OS (glibc ``malloc_trim``), so
    that the RSS at the start of a phase is close to the memory actually live then. Without it, memory
    an earlier phase freed stays resident and a later phase reuses it without raising the peak."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM, which ``ru_maxrss`` reports) to the current RSS.

    Linux ≥ 4.0 allows a process to do this to itself by writing 5 to /proc/self/clear_refs. Without it
    ``ru_maxrss`` is the peak since start-up, and every phase would report the largest one so far.
    """
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


@dataclass
class PeakRSS:
    """``with PeakRSS() as m: ...`` → ``m.peak_mib``: the process's peak RSS while the block ran.

    Measured with ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after releasing free memory and
    resetting the peak mark at the start of the block. RSS counts everything resident: Python objects,
    numpy/FAISS buffers, torch. ``start_mib`` is the RSS when the block began, ``end_mib`` when it ended
    (after releasing free memory again), so ``end - start`` is roughly what the block left alive, e.g.
    an index it built.
    """

    label: str = ""
    start_mib: float = 0.0
    peak_mib: float = 0.0
    end_mib: float = 0.0
    reset: bool = False

    def __enter__(self) -> "PeakRSS":
        release_free_memory()
        self.reset = _reset_peak_rss()
        self.start_mib = current_rss_mib()
        return self

    def __exit__(self, *exc) -> None:
        self.peak_mib = _rusage_mib()
        release_free_memory()
        self.end_mib = current_rss_mib()

    def as_dict(self) -> dict[str, Any]:
        return {
            "start_rss_mib": round(self.start_mib, 1),
            "peak_rss_mib": round(self.peak_mib, 1),
            "end_rss_mib": round(self.end_mib, 1),
            "retained_mib": round(self.end_mib - self.start_mib, 1),
            "peak_is_per_phase": self.reset,
        }


# --- inputs ---------------------------------------------------------------------------------------


def load_questions(n: int, *, lang: str = "zh", path: Path = QUESTIONS) -> list[str]:
    """``n`` questions of one language from the labelled set, spread evenly over it (the file is grouped
    by question type, so taking the first ``n`` would give only agency questions). Deterministic."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    qs = [r["question"] for r in rows if r.get("lang") == lang and r.get("question", "").strip()]
    if len(qs) <= n:
        return qs
    step = len(qs) / n
    return [qs[int(i * step)] for i in range(n)]


# --- output ---------------------------------------------------------------------------------------


def fmt_ms(ms: float | None) -> str:
    if ms is None or (isinstance(ms, float) and math.isnan(ms)):
        return "–"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"


def fmt_s(s: float) -> str:
    return fmt_ms(s * 1000)


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(x).replace("|", "\\|") for x in row) + " |")
    return "\n".join(lines)


def package_versions(names: Iterable[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment(packages: Iterable[str]) -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "packages": package_versions(packages),
    }


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


@dataclass
class Table:
    """Rows collected while the benchmark runs, printed as one Markdown table at the end."""

    headers: tuple[str, ...] = ("Corpus", "What", "n", "p50 / median", "p99", "Notes")
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def latency(self, corpus: str, what: str, stats: dict[str, Any], notes: str = "", timed: Timed | None = None) -> None:
        # flag series during which the process was preempted often: other work competed for the cores
        if timed is not None and timed.preempted > 0.05 * len(timed):
            notes = f"{notes}; preempted {timed.preempted}× (CPU contention)".lstrip("; ")
        self.rows.append((corpus, what, stats["n"], fmt_ms(stats["p50_ms"]), fmt_ms(stats["p99_ms"]), notes))

    def build(self, corpus: str, what: str, stats: dict[str, Any], notes: str = "") -> None:
        self.rows.append((corpus, what, stats["runs"], fmt_s(stats["median_s"]), "–", notes))

    def value(self, corpus: str, what: str, value: str, notes: str = "", n: Any = 1) -> None:
        self.rows.append((corpus, what, n, value, "–", notes))

    def markdown(self) -> str:
        return md_table(self.headers, self.rows)

"""The ``qa`` command: the composition root that wires settings into the layers."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Question answering over Shanghai policy documents.")
err = Console(stderr=True)


@app.callback()
def main() -> None:
    """Question answering over Shanghai policy documents."""


def _settings():
    from pydantic import ValidationError

    from policyqa.qa.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:  # a bad setting names the variable and the reason, not a traceback
        for e in exc.errors():
            name = "QA_" + "_".join(str(p) for p in e["loc"]).upper()
            err.print(f"[red]{name}: {str(e['msg']).removeprefix('Value error, ')}[/red]")
        raise typer.Exit(2) from None


def _load_corpus(settings):
    from policyqa.ingest.library import load_all

    corpus = load_all(settings.corpus_dir, settings.data_dir, settings.registry_url)
    for e in corpus.errors:
        err.print(f"[yellow]skipped[/yellow] {e}")
    if not corpus.documents:
        err.print(f"[red]no document could be loaded from {settings.corpus_dir}[/red]")
        raise typer.Exit(1)
    return corpus


@app.command()
def corpus(as_json: bool = typer.Option(False, "--json", help="print every clause record as one JSON object per line")) -> None:
    """Parse the documents: a table of documents with clause counts, or every clause as JSON lines."""
    c = _load_corpus(_settings())
    if as_json:
        out = sys.stdout
        for pd in c.documents:
            for clause in pd.clauses:
                out.write(json.dumps(clause.to_dict(), ensure_ascii=False) + "\n")
        return
    table = Table(title="Corpus")
    for col in ("doc_id", "文号", "title", "issued", "valid until", "clauses", "by kind"):
        table.add_column(col, no_wrap=col in ("doc_id", "文号", "issued"))
    for pd in c.documents:
        d = pd.document
        kinds = Counter(cl.kind for cl in pd.clauses)
        until = d.valid_until.isoformat() if d.valid_until else (f"plan {d.plan_period[0]}–{d.plan_period[1]}" if d.plan_period else "—")
        table.add_row(
            d.doc_id,
            d.doc_number or "—",
            d.title,
            d.issued.isoformat() if d.issued else "—",
            until,
            str(len(pd.clauses)),
            ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
        )
    Console().print(table)


def _library(settings):
    from policyqa.ingest.library import Library

    return Library(settings.data_dir, seeds_dir=settings.corpus_dir, registry_url=settings.registry_url)


def _rebuild_index(settings) -> bool:
    """Rebuild the persisted index through the engine (its vector cache embeds only new passages); both stages
    of a service's staged add happen here before returning. True when the index has dense vectors."""
    eng = _engine(settings)
    path = eng.build()
    err.print(f"index rebuilt: {path}")
    return json.loads((path / "manifest.json").read_text(encoding="utf-8")).get("dense") is not None


@app.command()
def add(
    paths: list[Path] = typer.Argument(..., help="documents: HTML, PDF (scans by OCR), DOCX, DOC/WPS, Markdown, text"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per file"),
    reindex: bool = typer.Option(True, "--index/--no-index", help="rebuild the index after adding"),
) -> None:
    """Add documents: parse each, store it with its report under QA_DATA_DIR, update the index."""
    settings = _settings()
    lib = _library(settings)
    seeds = lib._seed_ids()
    results = [lib.add(p, seed_ids=seeds) for p in paths]
    if reindex and any(r.status in ("added", "updated") for r in results):
        dense = _rebuild_index(settings)
        for r in results:
            r.vectors = ("ready" if dense else "none") if r.ok else None
    if as_json:
        for r in results:
            print(json.dumps(r.to_dict(), ensure_ascii=False))
    else:
        console = Console()
        for r in results:
            if r.ok:
                console.print(
                    f"[green]{r.status}[/green] {r.file} → {r.doc_id}  《{r.title}》{r.doc_number or ''}  clauses {r.clauses}, "
                    f"agency notes {r.agency_notes_found}, agencies {r.agency_names_extracted}", markup=True,
                )
                for w in r.warnings:
                    console.print(f"  warning: {w}", style="yellow", markup=False)
            else:
                console.print(f"[red]error[/red] {r.file}: {r.error}")
    raise typer.Exit(0 if all(r.ok for r in results) else 1)


@app.command()
def remove(
    doc_id: str = typer.Argument(..., help="the doc_id qa add printed"),
    reindex: bool = typer.Option(True, "--index/--no-index", help="rebuild the index after removing"),
) -> None:
    """Remove an added document (the package's own documents cannot be removed)."""
    from policyqa.ingest.library import LibraryError

    settings = _settings()
    try:
        _library(settings).remove(doc_id)
    except LibraryError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    err.print(f"removed {doc_id}")
    if reindex:
        _rebuild_index(settings)


@app.command("status")
def set_status(
    doc_id: str = typer.Argument(..., help="an added document's doc_id"),
    status: str = typer.Argument(..., help="revoked | superseded | expired | in_force | auto (judge by the text's dates)"),
    note: str = typer.Option("", "--note", help="why, e.g. the document that replaces it"),
) -> None:
    """Record in the registry what the text cannot say: that a document was revoked, superseded or has expired."""
    from policyqa.ingest.library import LibraryError

    try:
        _library(_settings()).set_status(doc_id, status, note)
    except (LibraryError, ValueError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    err.print(f"{doc_id}: {status}" + (f" ({note})" if note else ""))


@app.command("feedback")
def feedback_export(
    as_csv: bool = typer.Option(False, "--csv", help="CSV instead of JSON"),
) -> None:
    """Export the widget's "was this helpful?" votes from the registry (the question only if it was stored:
    QA_LOG_QUERIES on when the vote was given)."""
    from policyqa.api.feedback import export_rows
    from policyqa.ingest.registry import Registry

    settings = _settings()
    rows = Registry.in_dir(settings.data_dir, settings.registry_url).feedback()
    if as_csv:
        sys.stdout.write(export_rows(rows))
        return
    helpful = sum(r["helpful"] for r in rows)
    print(json.dumps({"helpful": helpful, "not_helpful": len(rows) - helpful, "votes": rows}, ensure_ascii=False, indent=1))


@app.command("agencies-update")
def agencies_update(
    write: bool = typer.Option(False, "--write", help="append the new units to qa/data/agencies.json (default: only list them)"),
) -> None:
    """Regenerate the agency directory: every unit the loaded documents print that the directory cannot resolve is
    appended as printed (kind "other"; full and English names are left to curation). Nothing is changed or reordered."""
    from policyqa.qa.agencies import DEFAULT_PATH, AgencyDirectory

    corpus = _load_corpus(_settings())
    base = AgencyDirectory.load()
    grown = base.with_printed(n for c in corpus.clauses for n in c.agencies)
    new = grown.agencies[len(base.agencies) :]
    for a in new:
        print(a.name)
    err.print(f"{len(new)} unit(s) printed in the documents are not in the directory")
    if write and new:
        raw = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
        raw += [a.to_dict() for a in new]
        DEFAULT_PATH.write_text(json.dumps(raw, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        err.print(f"appended to {DEFAULT_PATH}")


def _engine(settings, mode: str | None = None):
    from policyqa.qa.engine import Engine

    try:
        return Engine(settings.engine_config(mode))
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


@app.command()
def index() -> None:
    """Build the search index (keyword legs, and dense vectors when the model loads) and persist it."""
    import time

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from policyqa.index.store import read_manifest

    settings = _settings()
    eng = _engine(settings)
    started = time.perf_counter()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("loading corpus", total=None)
        path = eng.build(progress=lambda msg: bar.update(task, description=msg))
    elapsed = time.perf_counter() - started
    m = read_manifest(settings.index_dir)
    dense = m["dense"]
    err.print(
        f"index written to {path}\n"
        f"  passages:  {len(m['passage_ids'])} from {len(m['documents'])} documents\n"
        f"  keyword:   {', '.join(m['tokenizers'])}\n"
        f"  dense:     {dense['model'] + ', dimension ' + str(dense['dimension']) + ', ' + dense['faiss_index'] if dense else 'none — ' + (m['dense_unavailable_reason'] or 'lexical mode')}\n"
        f"  time:      {elapsed:.1f} s"
    )


@app.command("migrate-index")
def migrate_index() -> None:
    """Copy the current embedded index into Milvus (QA_MILVUS_URI) as a new version, without re-embedding."""
    import time
    from dataclasses import replace

    from policyqa.index.milvus_store import MilvusUnavailable, migrate
    from policyqa.index.store import IndexMismatch, IndexMissing
    from policyqa.qa.engine import Engine

    settings = _settings()
    eng = Engine(replace(settings.engine_config(), index_backend="milvus"))
    started = time.perf_counter()
    try:
        path = migrate(
            settings.index_dir, eng._load_corpus(), embedder=eng.embedder(), uri=eng.config.milvus,
            prefix=settings.milvus_prefix, progress=lambda msg: err.print(msg),
        )
    except (ValueError, MilvusUnavailable, IndexMissing, IndexMismatch) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    err.print(
        f"index copied into Milvus at {eng.config.milvus} as {path} in {time.perf_counter() - started:.1f} s;\n"
        "set QA_INDEX_BACKEND=milvus (and QA_MILVUS_URI if not the default) for qa serve and qa ask"
    )


def _print_notice(notice: str, searcher) -> None:
    """The user-facing sentence, and for the operator at the terminal the technical reason behind it."""
    err.print(f"[yellow]{notice}[/yellow]")
    if reason := getattr(searcher, "dense_unavailable_reason", None):
        from rich.markup import escape

        err.print(f"[dim]reason: {escape(reason)}[/dim]")


@app.command()
def search(
    query: str = typer.Argument(..., help="the question"),
    top_k: int = typer.Option(10, "--top-k", "-k", min=1, max=50),
    mode: str = typer.Option(None, "--mode", help="auto | hybrid | lexical | dense (default: QA_MODE)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Search the clauses; builds the index first if there is none."""
    from policyqa.index.store import IndexMismatch
    from policyqa.qa.present import translation_to_dict

    settings = _settings()
    eng = _engine(settings, mode)
    try:
        loaded = eng.warm_up(build_if_missing=True)
    except IndexMismatch as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    result = loaded.searcher.search(query, top_k=top_k)
    if result.notice:
        _print_notice(result.notice, loaded.searcher)
    if as_json:
        print(
            json.dumps(
                {
                    "query": result.query,
                    "mode": result.mode,
                    "translation": translation_to_dict(result.translation),
                    "results": [
                        {**h.clause.to_dict(), "score": h.score, "passage": h.passage.text, "ranks": dict(h.ranks)}
                        for h in result.hits
                    ],
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    console = Console()
    console.print(f"[dim]mode: {result.mode}[/dim]")
    if not result.hits:
        console.print("no matching clause")
    for i, h in enumerate(result.hits, 1):
        c = h.clause
        doc = loaded.corpus.document(c.doc_id)
        console.print(f"[bold]{i}. {c.clause_id}[/bold]  {h.score:.4f}  《{doc.title}》{doc.doc_number or ''}")
        if c.section_path:
            console.print("   " + " › ".join(c.section_path), style="dim", markup=False)
        console.print("   " + (f"【{c.heading}】" if c.heading else "") + h.passage.text[:160].replace("\n", " "), markup=False)
        if c.agencies:
            console.print("   责任单位: " + "、".join(c.agencies), style="cyan", markup=False)


def _answer_json(ans, corpus, directory=None) -> dict:
    from policyqa.qa.present import answer_to_dict

    return answer_to_dict(ans, corpus, directory)


@app.command()
def ask(
    query: str = typer.Argument(..., help="the question"),
    as_of: str = typer.Option(None, "--as-of", help="judge whether documents are in force on this date (YYYY-MM-DD); default today"),
    mode: str = typer.Option(None, "--mode", help="auto | hybrid | lexical | dense (default: QA_MODE)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Answer a question: responsible agencies, support measures with their status, checkable citations."""
    import datetime as dt

    try:
        day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        err.print(f"[red]--as-of must be a date like 2026-11-22, got {as_of!r}[/red]")
        raise typer.Exit(2) from None
    settings = _settings()
    loaded = _engine(settings, mode).warm_up(build_if_missing=True)
    ans = loaded.answerer.ask(loaded.searcher, query, as_of=day)
    if ans.notice:
        _print_notice(ans.notice, loaded.searcher)
    if as_json:
        print(json.dumps(_answer_json(ans, loaded.corpus, loaded.answerer.directory), ensure_ascii=False, indent=1))
        return
    console = Console()
    console.print(f"[dim]mode: {ans.mode} · intent: {ans.intent}[/dim]")
    if ans.translation:
        console.print(f"searched as: {ans.translation.text}", style="dim", markup=False)
    if not ans.answerable:
        console.print(ans.message, markup=False)
        if ans.refusal:
            console.print(f"reason: {ans.refusal.kind} {ans.refusal.detail}".rstrip(), style="dim", markup=False)
        if ans.closest:
            console.print(
                "The closest clauses, which do not answer the question:" if ans.translation else "以下条款最接近，但不能回答您的问题：",
                style="dim",
            )
            for c in ans.closest:
                console.print(f"  · {c.citation}", markup=False)
        return
    from policyqa.qa.english import english_answer

    en = english_answer(ans, loaded.corpus, loaded.answerer.directory)
    console.print(en["text"] if en else ans.answer, markup=False)
    if en:
        console.print(en["authoritative"], style="dim", markup=False)
    for a in ans.agencies:
        extra = f"（{a.agency.full_name} / {a.agency.english_name}）" if a.agency else ""
        console.print(f"  [cyan]{a.name}[/cyan]{extra}  ← {', '.join(a.clause_ids)}")
    console.print("[bold]依据[/bold]")
    for c in ans.citations:
        flag = "" if c.status.current else f" [red]{c.status.label}[/red]"
        console.print(f"  · {c.citation}{flag}", markup=False) if not flag else console.print(f"  · {c.citation}{flag}")
        if c.highlight:
            console.print(f"    “{c.highlight.text}”  [source {c.highlight.source.start}–{c.highlight.source.end}]", style="dim", markup=False)


@app.command()
def serve(
    host: str = typer.Option(None, "--host", help="default: QA_HOST (127.0.0.1)"),
    port: int = typer.Option(None, "--port", help="default: QA_PORT (8000)"),
    workers: int = typer.Option(None, "--workers", min=1, help="worker processes over one index (default: QA_WORKERS, 1)"),
) -> None:
    """Serve the API, the staff page and the chat widget; builds the index on first start."""
    import uvicorn

    from policyqa.api.app import configure_logging, create_app
    from policyqa.api.server import uvicorn_options, worker_thread_env

    settings = _settings()
    configure_logging()
    workers = workers or settings.workers
    if workers > 1 and settings.index_backend == "milvus" and "://" not in (settings.milvus_uri or ""):
        err.print(
            "[red]Milvus Lite is a file one process opens: several workers need a Milvus server "
            "(QA_MILVUS_URI=http://host:19530; README, Milvus)[/red]"
        )
        raise typer.Exit(2)
    os.environ.update(worker_thread_env(workers, os.cpu_count() or 1, dict(os.environ)))  # inherited by workers
    # several workers each import the app from the environment's settings (QA_*); they share the index
    # folder: one builds under its lock, all follow its `current` version (QA_INDEX_WATCH_SECONDS).
    # Sizes, timeouts and the concurrency cap come from settings (api/server.py); proxy headers are off.
    uvicorn.run(
        create_app(settings) if workers == 1 else "policyqa.api.app:create_worker_app",
        factory=workers > 1,
        workers=workers,
        host=host or settings.host,
        port=port or settings.port,
        **uvicorn_options(settings),
    )


@app.command("eval")
def eval_(
    split: str = typer.Option("test", help="dev | test | blind | all"),
    modes: str = typer.Option("lexical,hybrid,dense", help="comma-separated modes to measure"),
    questions_file: Path = typer.Option(
        None, "--questions", help="another question file (e.g. a blind batch, eval/blind/*.jsonl); default eval/questions.jsonl"
    ),
    out: Path = typer.Option(Path("artifacts/eval"), help="folder for report.json, report.txt, report.png"),
    baseline: bool = typer.Option(True, help="also run the fixed-chunk BM25 baseline"),
) -> None:
    """Measure retrieval on the hand-labelled questions: table, JSON and a PNG chart."""
    from policyqa.eval.dataset import load_questions
    from policyqa.eval.report import misses, render_table, write_report
    from policyqa.eval.runner import evaluate

    settings = _settings()
    loaded = _engine(settings).warm_up(build_if_missing=True)
    try:
        questions = load_questions(questions_file, split=split) if questions_file else load_questions(split=split)
        wanted = tuple(m.strip() for m in modes.split(",") if m.strip())
        report, rows, unavailable = evaluate(loaded.searcher, loaded.corpus, questions, wanted, baseline=baseline)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    answers = {}
    if "lexical" in report or any(m in report for m in ("hybrid", "dense")):
        import datetime as dt

        from policyqa.eval.answers import answer_metrics, run_answers

        # the default mode the service runs in; documents judged as of the evaluation day
        arows = run_answers(loaded.answerer, loaded.searcher, questions, dt.date.today())
        answers[loaded.searcher.resolve_mode()[0]] = answer_metrics(arows, loaded.answerer, loaded.corpus)
    extra = {
        "answers": answers,
        "split": split,
        "questions": len(questions),
        "unanswerable": sum(not q.answerable for q in questions),
        "unavailable_modes": unavailable,
        "misses@5": {s: misses(rows, s) for s in report},
    }
    paths = write_report(report, extra, out)
    print(render_table(report))
    for mode, m in answers.items():
        from policyqa.eval.answers import plot_curve, render_curve

        print(f"== answers ({mode}) ==")
        for k, v in m.items():
            if k != "refusal_curve":
                print(f"{k:<32}{v}")
        print(f"== refusal decision ({mode}): answerable answered vs unanswerable refused, threshold swept ==")
        print(render_curve(m["refusal_curve"]))
        plot_curve(m["refusal_curve"], out / f"refusal_curve_{mode}.png")
    for mode, why in unavailable.items():
        err.print(f"[yellow]{mode}: not measured — {why}[/yellow]")
    err.print(f"written: {paths['json']}, {paths['table']}, {paths['chart']}")


if __name__ == "__main__":  # pragma: no cover
    app()

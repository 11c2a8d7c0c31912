"""The ``qa`` command: the composition root that wires settings into the layers."""

from __future__ import annotations

import json
import sys
from collections import Counter

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Question answering over Shanghai policy documents.")
err = Console(stderr=True)


@app.callback()
def main() -> None:
    """Question answering over Shanghai policy documents."""


def _settings():
    from policyqa.qa.settings import Settings

    return Settings()


def _load_corpus(settings):
    from policyqa.corpus import load_corpus

    corpus = load_corpus(settings.corpus_dir)
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
        table.add_column(col)
    for pd in c.documents:
        d = pd.document
        kinds = Counter(cl.kind for cl in pd.clauses)
        until = d.valid_until.isoformat() if d.valid_until else (f"plan {d.plan_period[0]}–{d.plan_period[1]}" if d.plan_period else "—")
        table.add_row(
            d.doc_id,
            d.doc_number or "—",
            d.title,
            d.issued.isoformat(),
            until,
            str(len(pd.clauses)),
            ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
        )
    Console().print(table)


if __name__ == "__main__":  # pragma: no cover
    app()

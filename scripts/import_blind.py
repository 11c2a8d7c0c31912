"""Turn a blind question batch (gold given as verbatim quotes of the source files) into eval records
(gold given as clause ids), mechanically: a quote's offset in its file → the clause whose span holds it.

    .venv/bin/python scripts/import_blind.py /work/blind/batch4.jsonl eval/blind/batch4.jsonl

The batch's author saw only the documents, never the code or its output; this script reads only the
quotes, so the questions stay unread until the batch is run once.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path


def main(src: str, dst: str) -> int:
    from policyqa.corpus import load_corpus

    corpus = load_corpus()
    by_file = {Path(pd.document.source_path).name: pd for pd in corpus.documents}
    out, problems = [], []
    for line in Path(src).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        q = json.loads(line)
        gold: list[str] = []
        for quote in q.get("gold_quotes", []):
            found = None
            for name in q.get("gold_doc", []) or list(by_file):
                pd = by_file.get(name)
                if pd is None:
                    continue
                text = pd.text
                pos = text.find(quote)
                if pos < 0:  # the parsed text may be normalised where the file is not
                    pos = unicodedata.normalize("NFKC", text).find(unicodedata.normalize("NFKC", quote))
                if pos < 0:
                    continue
                inside = [c for c in pd.clauses if c.kind != "section" and c.span.start <= pos < c.span.end]
                if inside:
                    found = min(inside, key=lambda c: c.span.end - c.span.start).clause_id
                    break
            if found is None:
                problems.append(f"{q['id']}: quote not inside any clause: {quote}")
            elif found not in gold:
                gold.append(found)
        rec = {
            "id": q["id"],
            "question": q["question"],
            "lang": q["lang"],
            "type": q["type"],
            "intent": q["intent"],
            "persona": q.get("persona", ""),
            "answerable": bool(q["answerable"]),
            "gold": gold,
            "gold_agencies": q.get("gold_agencies", []),
            "split": "blind",
            "note": q.get("note", ""),
        }
        out.append(rec)
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    Path(dst).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out), encoding="utf-8")
    print(f"{len(out)} questions written to {dst}; {len(problems)} quotes not mapped", file=sys.stderr)
    for p in problems:
        print("  " + p, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))

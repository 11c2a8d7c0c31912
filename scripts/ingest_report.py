"""Load every document of a folder (default: ../shared/wild-dev) the way `qa add` does and report, per file:
loaded or not, clause counts by kind, 第X条 articles printed vs parsed, agency notes printed (an independent
regex over the converted text) vs found by the parser and landed in the clause that prints them, body characters
lost, warnings.  Usage: .venv/bin/python scripts/ingest_report.py [FOLDER] [--json OUT]
(default folder: ../shared/wild-dev, else tests/fixtures/wild)"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

from policyqa.corpus import ParseError, parse_converted
from policyqa.ingest import IngestError, convert_file

# printed agency notes, counted independently of the parser: a bracket naming a role word
PRINTED_NOTE_RE = re.compile(
    r"[（(][^（）()\n]{0,160}?(?:责任单位|责任部门|牵头单位|牵头部门|配合单位|配合部门|负责部门|负责单位|负责(?!人)|牵头)[^（）()\n]{0,160}?[）)]"
)
ARTICLE_RE = re.compile(r"(?m)^[\s\u3000\u00a0\u2003*#]*第([一二三四五六七八九十百零〇]+)条")


def report(path: Path) -> dict:
    t0 = time.perf_counter()
    row: dict = {"file": path.name}
    try:
        conv = convert_file(path)
        pd = parse_converted(conv, path.name)
    except (IngestError, ParseError) as exc:
        row.update(status="error", error=str(exc))
        return row
    text = pd.text
    row.update(status="loaded", doc_id=pd.document.doc_id, title=pd.document.title, doc_number=pd.document.doc_number,
               issued=pd.document.issued.isoformat() if pd.document.issued else None, format=conv.fmt,
               clauses=len(pd.clauses), kinds=dict(Counter(c.kind for c in pd.clauses)), warnings=list(pd.warnings))
    # articles
    printed_articles = len(ARTICLE_RE.findall(text))
    parsed_articles = sum(1 for c in pd.clauses if c.number and re.fullmatch(r"第.+条", c.number))
    row["articles"] = {"printed_line_starts": printed_articles, "clauses": parsed_articles}
    # agency notes
    owner = {}
    for c in pd.clauses:
        for off in c.offsets:
            owner[off] = c
    printed = list(PRINTED_NOTE_RE.finditer(text))
    landed = 0
    misses = []
    names_printed = names_landed = 0
    for m in printed:
        c = owner.get(m.start()) or owner.get(m.start() + 1)
        if c is not None and c.agencies:
            landed += 1
        else:
            misses.append(m.group(0)[:60])
        # the units the note prints, cut independently of the parser: split on 、，；： and drop role words
        inner = m.group(0)[1:-1]
        inner = re.split(r"[。]", inner)[0]
        for part in re.split(r"[、，,；;：:]", inner):
            part = re.sub(r"^(?:责任|牵头|配合|负责)(?:单位|部门)$|(?:等|按职责分工|按职责|分别)?(?:负责(?!人).*|牵头.*|参与.*|配合.*|指导.*)$", "", part).strip()
            if len(part) < 2 or re.search(r"第一位|下同|以下", part):
                continue
            names_printed += 1
            if c is not None and any(part == a or part in a or a in part for a in c.agencies):
                names_landed += 1
    table_rows = sum(1 for c in pd.clauses if c.kind == "clause" and c.clause_id.split(":")[1].split(".")[-1].startswith("r") and c.agencies)
    row["agency_notes"] = {"printed_grep": len(printed), "landed_in_a_clause_with_agencies": landed,
                           "names_printed_in_notes": names_printed, "names_landed": names_landed,
                           "parser_notes_and_table_rows": pd.agency_notes, "table_rows_with_agencies": table_rows,
                           "clauses_with_agencies": sum(1 for c in pd.clauses if c.agencies), "missed": misses[:8]}
    # body characters lost (neither in a clause nor in named boilerplate)
    cover = bytearray(len(text))
    for c in pd.clauses:
        for i in range(c.span.start, min(c.span.end, len(text))):
            cover[i] = 1
    for b in pd.boilerplate:
        for i in range(b.span.start, min(b.span.end, len(text))):
            cover[i] = 1
    lost = [i for i, ch in enumerate(text) if not cover[i] and not ch.isspace() and ch not in "\ufeff"]
    row["lost_chars"] = len(lost)
    row["lost_sample"] = "".join(text[i] for i in lost[:40])
    row["boilerplate_chars"] = sum(b.span.end - b.span.start for b in pd.boilerplate)
    row["seconds"] = round(time.perf_counter() - t0, 2)
    return row


def main(argv: list[str]) -> int:
    args = [a for i, a in enumerate(argv) if not a.startswith("--") and (i == 0 or argv[i - 1] != "--json")]
    default = Path(__file__).resolve().parents[2] / "shared" / "wild-dev"
    if not default.is_dir():  # the same 23 files, byte for byte, ship with the tests
        default = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "wild"
    folder = Path(args[0]) if args else default
    rows = [report(p) for p in sorted(folder.iterdir()) if p.is_file() and p.name != "README.md"]
    for r in rows:
        if r["status"] != "loaded":
            print(f"{r['file'][:48]:48s} ERROR {r['error']}")
            continue
        a = r["agency_notes"]
        print(f"{r['file'][:48]:48s} {r['doc_id'][:22]:22s} clauses {r['clauses']:3d} art {r['articles']['clauses']:2d}/{r['articles']['printed_line_starts']:2d} "
              f"notes printed {a['printed_grep']:3d} landed {a['landed_in_a_clause_with_agencies']:3d} rows {a['table_rows_with_agencies']:3d} lost {r['lost_chars']:4d} "
              f"{r['seconds']:5.1f}s {'; '.join(r['warnings'])}")
    loaded = [r for r in rows if r["status"] == "loaded"]
    tot = lambda k: sum(r["agency_notes"][k] for r in loaded)  # noqa: E731
    print(f"\nloaded {len(loaded)}/{len(rows)}; clauses {sum(r['clauses'] for r in loaded)}; articles "
          f"{sum(r['articles']['clauses'] for r in loaded)}/{sum(r['articles']['printed_line_starts'] for r in loaded)}; agency notes printed "
          f"{tot('printed_grep')}, landed {tot('landed_in_a_clause_with_agencies')}; names in them {tot('names_printed_in_notes')}, landed "
          f"{tot('names_landed')}; agency table rows {tot('table_rows_with_agencies')}; "
          f"lost chars {sum(r['lost_chars'] for r in loaded)}")
    if "--json" in argv:
        out = Path(argv[argv.index("--json") + 1])
        out.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if len(loaded) == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

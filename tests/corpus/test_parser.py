"""Golden and property tests of the parser on the five real documents."""

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from policyqa.corpus import BOILERPLATE_KINDS, load_corpus, split_passages

GOLDEN = Path(__file__).parent / "golden"


SEED_IDS = ["hff2026-1", "hfbf2025-5", "hfbf2021-7", "hfbf2024-5", "sw2025-1225"]


def test_all_five_documents_load(corpus):
    # the five seeds, in file order; a sixth document in corpus/ does not break the seed tests
    assert corpus.errors == ()
    assert [pd.document.doc_id for pd in corpus.documents if pd.document.doc_id in SEED_IDS] == SEED_IDS


def test_clause_counts_per_document(corpus):
    expected = json.loads((GOLDEN / "counts.json").read_text(encoding="utf-8"))
    got = {pd.document.doc_id: dict(sorted(Counter(c.kind for c in pd.clauses).items())) for pd in corpus.documents}
    assert {k: got.get(k) for k in expected} == expected


@pytest.mark.parametrize("golden", json.loads((GOLDEN / "clauses.json").read_text(encoding="utf-8")), ids=lambda g: g["clause_id"])
def test_hand_checked_clause(corpus, golden):
    clause = corpus.clause(golden["clause_id"])
    assert clause is not None
    assert clause.kind == golden["kind"]
    assert clause.number == golden["number"]
    assert list(clause.section_path) == golden["section_path"]
    assert clause.heading == golden["heading"]
    assert list(clause.agencies) == golden["agencies"]
    assert clause.text.startswith(golden["text_start"])
    assert clause.text.endswith(golden["text_end"])


def test_document_metadata_is_parsed_from_text(corpus):
    docs = {pd.document.doc_id: pd.document for pd in corpus.documents}
    d = docs["hfbf2025-5"]
    assert (d.title, d.doc_number, d.issuer) == ("上海市促进服务业创新发展若干措施", "沪府办发〔2025〕5号", "上海市人民政府办公厅")
    assert (d.issued.isoformat(), d.valid_from.isoformat(), d.valid_until.isoformat()) == ("2025-03-12", "2025-03-20", "2028-03-19")
    assert d.printed.isoformat() == "2025-03-13"
    p = docs["hfbf2021-7"]
    assert p.plan_period == (2021, 2025) and p.title == "上海市服务业发展“十四五”规划"
    assert docs["hff2026-1"].title == "上海市人民政府关于推进服务业扩能提质的实施意见"
    assert docs["hff2026-1"].issued.isoformat() == "2026-05-25"
    assert docs["hfbf2024-5"].issued.isoformat() == "2024-03-01"
    s = docs["sw2025-1225"]
    assert s.doc_number is None and s.issued.isoformat() == "2025-12-25"
    assert s.title == "关于进一步扩大上海服务消费的若干措施"
    assert len(s.issuers) == 16 and s.issuers[0] == "上海市商务委员会" and s.issuer == "上海市商务委员会"
    assert "cut off" in s.notes
    for doc_id in SEED_IDS:
        assert docs[doc_id].source_path.startswith("corpus/") and docs[doc_id].source_path.endswith(".txt")


def test_no_body_character_is_lost(corpus):
    """Every non-space character lies in exactly one clause span, or in named boilerplate."""
    for pd in corpus.documents:
        text = pd.text
        cover = [0] * len(text)
        for c in pd.clauses:
            for i in range(c.span.start, c.span.end):
                cover[i] += 1
        boiler = [False] * len(text)
        for b in pd.boilerplate:
            assert b.kind in BOILERPLATE_KINDS
            for i in range(b.span.start, b.span.end):
                boiler[i] = True
        overlaps = [i for i, n in enumerate(cover) if n > 1]
        lost = [i for i, ch in enumerate(text) if not ch.isspace() and cover[i] == 0 and not boiler[i]]
        assert overlaps == [], f"{pd.document.source_path}: clause spans overlap at {overlaps[:5]}"
        assert lost == [], f"{pd.document.source_path}: not in any clause: {''.join(text[i] for i in lost[:60])!r}"
        # boilerplate is the small front and back matter, not a place to hide body text (a web page's furniture
        # can be more than a tenth of a short page, so the bound is the seeds')
        boiler_chars = sum(1 for i, ch in enumerate(text) if boiler[i] and cover[i] == 0 and not ch.isspace())
        if pd.document.doc_id in SEED_IDS:
            assert boiler_chars < 0.1 * sum(1 for ch in text if not ch.isspace())


BOILERPLATE_SHAPES = {
    "page_number": re.compile(r"^[—－-]\s*[0-9０-９]+\s*[—－-]$"),
    "markup": re.compile(r"^(#+|\*\*)\s*$"),
    "rule": re.compile(r"^---$"),
    "date": re.compile(r"^[0-9０-９]{4}\s*年\s*[0-9０-９]{1,2}\s*月\s*[0-9０-９]{1,2}\s*日$"),
    "publication_note": re.compile(r"^[(（]此件.*发布[)）]$"),
    "cc": re.compile(r"^(抄送|.*[,，、.。]).*$"),
}


def test_boilerplate_is_what_it_says(corpus):
    for pd in corpus.documents:
        for b in pd.boilerplate:
            shape = BOILERPLATE_SHAPES.get(b.kind)
            if shape:
                assert shape.match(pd.text[b.span.start : b.span.end].strip()), (b.kind, pd.text[b.span.start : b.span.end])


def test_text_is_the_source_without_line_breaks_and_page_numbers(corpus):
    for pd in corpus.documents:
        for c in pd.clauses:
            assert len(c.offsets) == len(c.text)
            assert list(c.offsets) == sorted(c.offsets)
            for ch, off in zip(c.text, c.offsets):
                assert ch == "\n" or pd.text[off] == ch
                assert c.span.start <= off < c.span.end
            assert not re.search(r"—[０-９0-9]+—", c.text)
            assert "**" not in c.text and not c.text.startswith("#")


def test_ids_are_stable_across_parses(corpus):
    again = load_corpus()
    assert [c.clause_id for c in again.clauses] == [c.clause_id for c in corpus.clauses]
    assert again.clauses == corpus.clauses
    assert again.content_hash == corpus.content_hash
    assert len({c.clause_id for c in corpus.clauses}) == len(corpus.clauses)


def test_long_clauses_split_into_passages_that_keep_their_clause(corpus):
    passages = split_passages(corpus.clauses, max_chars=200)
    by_clause = {}
    for p in passages:
        by_clause.setdefault(p.clause_id, []).append(p)
        assert len(p.text) <= 200
    long = [c for c in corpus.clauses if len(c.text) > 200]
    assert long, "the corpus has clauses longer than 200 characters"
    for c in corpus.clauses:
        parts = by_clause[c.clause_id]
        assert "".join(p.text for p in parts).strip() == c.text.strip()
        for p in parts:
            assert (p.section_path, p.heading, p.agencies, p.doc_id) == (c.section_path, c.heading, c.agencies, c.doc_id)
            assert c.span.contains(p.span)
            assert c.text[p.text_start : p.text_start + len(p.text)] == p.text
    # pieces end on sentence boundaries where the sentence fits
    split = [p for c in long for p in by_clause[c.clause_id][:-1]]
    assert sum(p.text[-1] in "。.；;，,、\n" for p in split) / len(split) > 0.95


def test_passage_size_must_be_sane():
    with pytest.raises(ValueError):
        split_passages([], max_chars=10)

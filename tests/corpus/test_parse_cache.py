"""Parsed documents are kept across loads: an unchanged file is read back, a changed one parsed again, and
a damaged cache entry is parsed again rather than trusted."""

import shutil

from policyqa.corpus import default_corpus_dir, load_corpus
from policyqa.corpus.loader import ParseCache


def test_the_cache_returns_what_parsing_gives_and_follows_changes(tmp_path, monkeypatch):
    src = tmp_path / "corpus"
    src.mkdir()
    for f in default_corpus_dir().iterdir():
        if f.suffix in (".txt", ".toml"):
            shutil.copy(f, src / f.name)
    cache = ParseCache(tmp_path / "parsed")
    fresh = load_corpus(src)
    first = load_corpus(src, cache=cache)
    assert first == fresh and len(list((tmp_path / "parsed").glob("*.pickle"))) == len(fresh.documents)
    # offsets are kept as a machine-integer array (compare=False on the record: checked here), same values
    from array import array

    assert all(isinstance(c.offsets, array) for c in first.clauses)
    assert [list(c.offsets) for c in first.clauses] == [list(c.offsets) for c in fresh.clauses]
    assert all(a.source_span(0, len(a.text)) == b.source_span(0, len(b.text)) for a, b in zip(first.clauses, fresh.clauses) if a.text)

    import policyqa.corpus.loader as loader

    parsed: list[str] = []
    real = loader.parse_file
    monkeypatch.setattr(loader, "parse_file", lambda path, *a, **k: parsed.append(path.name) or real(path, *a, **k))
    assert load_corpus(src, cache=cache) == fresh and parsed == []  # all read back
    changed = next(src.glob("002_*.txt"))
    changed.write_text(changed.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    import pickle

    # damage the entry of another document than the changed one (names are hashes: pick by content)
    entry = next(
        e for e in sorted((tmp_path / "parsed").glob("*.pickle"))
        if not pickle.loads(e.read_bytes()).document.source_path.endswith(changed.name)
    )
    entry.write_bytes(b"garbage")
    again = load_corpus(src, cache=cache)
    assert changed.name in parsed and len(parsed) == 2  # the changed file and the one whose entry was damaged
    assert again == load_corpus(src)

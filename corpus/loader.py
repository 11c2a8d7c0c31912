"""Load every document of a corpus folder; a bad file is reported, the others still load."""

from __future__ import annotations

import hashlib
import os
import tomllib
from array import array
from dataclasses import dataclass, field, replace
from pathlib import Path

from .parser import ParseError, parse_file
from .records import Clause, Document, LoadError, ParsedDocument

PARSER_VERSION = "3"  # bump when parsing changes clause ids, texts, spans or document records: persisted indexes and parse caches then rebuild (3: page markers never issuers; Document.title_en)
METADATA_FILE = "metadata.toml"


def default_corpus_dir() -> Path:
    """The corpus shipped with the package (the repository's corpus/ folder in a checkout)."""
    return Path(__file__).resolve().parent


@dataclass(frozen=True)
class Corpus:
    documents: tuple[ParsedDocument, ...]
    errors: tuple[LoadError, ...] = ()
    _by_id: dict[str, Clause] = field(default_factory=dict, compare=False, repr=False)
    _docs: dict[str, Document] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for pd in self.documents:
            # the first document of an id wins, as the linear search this replaces found it
            self._docs.setdefault(pd.document.doc_id, pd.document)
            for c in pd.clauses:
                self._by_id[c.clause_id] = c

    @property
    def clauses(self) -> list[Clause]:
        return [c for pd in self.documents for c in pd.clauses]

    def clause(self, clause_id: str) -> Clause | None:
        return self._by_id.get(clause_id)

    def document(self, doc_id: str) -> Document | None:
        return self._docs.get(doc_id)

    @property
    def content_hash(self) -> str:
        """Changes whenever a document's bytes or the parser's output format change."""
        h = hashlib.sha256(f"parser={PARSER_VERSION}".encode())
        for pd in sorted(self.documents, key=lambda d: d.document.doc_id):
            h.update(f"\n{pd.document.doc_id}={pd.document.sha256}".encode())
        return h.hexdigest()


class ParseCache:
    """Parsed documents kept on disk, keyed by the file's bytes (SHA-256), the parser version, where the
    document is cited from and its metadata entry: a start-up or reindex parses only documents that
    changed (parsing costs about 1.5 ms a clause). Entries are pickles of the frozen records, written
    atomically; one that cannot be read is parsed again. Nothing outside the index folder writes there."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def parse(self, path: Path, source_path: str, *, doc_id: str | None, notes: str) -> ParsedDocument:
        import pickle

        data = path.read_bytes()
        key = hashlib.sha256(data)
        key.update(f"\0{PARSER_VERSION}\0{source_path}\0{doc_id}\0{notes}".encode())
        entry = self.folder / f"{key.hexdigest()}.pickle"
        try:
            with entry.open("rb") as fh:
                pd = pickle.load(fh)
            if isinstance(pd, ParsedDocument):
                return compact(pd)
        except Exception:  # noqa: BLE001 — missing, truncated or from another version: parse again
            pass
        pd = compact(parse_file(path, source_path, doc_id=doc_id, notes=notes))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = entry.with_suffix(f".tmp-{os.getpid()}")
            with tmp.open("wb") as fh:
                pickle.dump(pd, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, entry)
        except OSError:  # a read-only index folder: parse every time
            pass
        return pd


def compact(pd: ParsedDocument) -> ParsedDocument:
    """The document with each clause's per-character source offsets as a machine-integer array instead of a
    tuple of Python ints (4 bytes a character instead of about 36, and unpickled as one block): same
    values, same indexing; at 100k clauses this is most of a worker's memory and of reading the cache."""
    if all(isinstance(c.offsets, array) for c in pd.clauses):
        return pd
    typecode = "l" if any(c.offsets and c.offsets[-1] >= 2**31 for c in pd.clauses) else "i"
    return replace(pd, clauses=tuple(replace(c, offsets=array(typecode, c.offsets)) for c in pd.clauses))


def read_metadata(directory: Path) -> dict[str, dict]:
    path = directory / METADATA_FILE
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def document_files(directory: Path) -> list[Path]:
    """Every file of a supported format in ``directory`` (not recursive; hidden files and README skipped)."""
    from policyqa.ingest import SUPPORTED_SUFFIXES

    return sorted(
        p for p in directory.iterdir()
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith(".")
        and p.stem.upper() != "README"
    )


def load_corpus(
    directory: Path | None = None,
    *,
    root: Path | None = None,
    extra: tuple[ParsedDocument, ...] | list[ParsedDocument] = (),
    extra_errors: tuple[LoadError, ...] | list[LoadError] = (),
    cache: ParseCache | None = None,
) -> Corpus:
    """Parse every document in ``directory`` (text, Markdown, HTML, PDF, Word…). ``source_path`` is relative to
    ``root`` (default: its parent). ``extra``: documents parsed elsewhere (a user's added documents)."""
    directory = (directory or default_corpus_dir()).resolve()
    root = (root or directory.parent).resolve()
    docs: list[ParsedDocument] = []
    errors: list[LoadError] = list(extra_errors)

    def rel(path: Path) -> str:
        return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name

    try:
        meta = read_metadata(directory)
    except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError is a ValueError
        # the documents still load, without what the file would have added (an id, a note)
        errors.append(LoadError(rel(directory / METADATA_FILE), f"unreadable, ignored: {exc}"))
        meta = {}
    seen: dict[str, str] = {}
    for path in document_files(directory):
        source_path = rel(path)
        entry = meta.get(path.name, {})
        if not isinstance(entry, dict):
            errors.append(LoadError(rel(directory / METADATA_FILE), f"entry for {path.name} is not a table, ignored"))
            entry = {}
        try:
            doc_id, notes = entry.get("doc_id"), str(entry.get("notes", "")).strip()
            if cache is None:
                pd = parse_file(path, source_path, doc_id=doc_id, notes=notes)
            else:
                pd = cache.parse(path, source_path, doc_id=doc_id, notes=notes)
        except ParseError as exc:
            errors.append(LoadError(source_path, str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 — a parser bug on one document (e.g. an impossible printed date) must not stop the rest
            errors.append(LoadError(source_path, f"cannot be parsed: {type(exc).__name__}: {exc}"))
            continue
        if entry.get("title_en"):
            pd = replace(pd, document=replace(pd.document, title_en=str(entry["title_en"]).strip()))
        if pd.document.doc_id in seen:
            errors.append(LoadError(source_path, f"doc_id {pd.document.doc_id!r} already used by {seen[pd.document.doc_id]}"))
            continue
        seen[pd.document.doc_id] = source_path
        docs.append(pd)
    for pd in extra:
        if pd.document.doc_id in seen:
            errors.append(LoadError(pd.document.source_path, f"doc_id {pd.document.doc_id!r} already used by {seen[pd.document.doc_id]}"))
            continue
        seen[pd.document.doc_id] = pd.document.source_path
        docs.append(pd)
    return Corpus(tuple(docs), tuple(errors))

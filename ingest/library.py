"""Documents a user adds: stored under ``QA_DATA_DIR`` with their registry row, loaded beside the seeds.

Layout of the data dir (default ``var/``)::

    registry.sqlite3                      the registry (or any database through QA_REGISTRY_URL)
    documents/<doc_id>/<original name>    the file as it was given, byte for byte
    documents/<doc_id>/converted.txt      the normalised text the parser read (clause spans index it; for
                                          plain-text originals it is the decoded original itself)
    documents/<doc_id>/source_map.json    Markdown only: offset in the original of every converted character
    documents/<doc_id>/pages.json         PDF only: offset in converted.txt where each page begins

The package's seed folder is never written. doc_ids come from the 文号, else the title, else the content, so a
re-added or corrected document keeps its id and the ids of its unchanged clauses.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from policyqa.corpus import Corpus, LoadError, ParsedDocument, ParseError, load_corpus, parse_converted, parse_text
from policyqa.corpus.loader import ParseCache

from .convert import Converted, IngestError, convert_bytes
from .registry import Registry

PARAGRAPH_FORMATS = ("html", "docx", "doc", "markdown")


@dataclass
class AddResult:
    """What ``qa add`` prints per file."""

    file: str
    doc_id: str | None = None
    status: str = "error"  # added | updated | unchanged | error
    clauses: int = 0
    agency_notes_found: int = 0
    agency_names_extracted: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    title: str | None = None
    doc_number: str | None = None
    format: str | None = None
    # its dense vectors: "ready" (embedded), "pending" (searchable by keywords, being embedded in the
    # background), "none" (no dense leg: lexical mode); None: not indexed (``--no-index``, an error)
    vectors: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("added", "updated", "unchanged")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Prepared:
    result: AddResult
    data: bytes
    conv: Converted | None
    parsed: ParsedDocument | None


class LibraryError(ValueError):
    pass


class Library:
    def __init__(self, data_dir: Path, *, seeds_dir: Path | None = None, registry_url: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.docs_dir = self.data_dir / "documents"
        self.seeds_dir = seeds_dir
        self.registry = Registry.in_dir(self.data_dir, registry_url)

    # --- paths ---------------------------------------------------------------------------------

    def _source_path(self, doc_id: str, name: str) -> str:
        """Where citations say the document is: the stored original (relative to the working directory
        when the data dir lies under it)."""
        path = (self.docs_dir / doc_id / name).resolve()
        try:
            return path.relative_to(Path.cwd().resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    # --- loading -------------------------------------------------------------------------------

    def parse_entry(self, doc_id: str) -> ParsedDocument:
        e = self.registry.get(doc_id)
        if e is None:
            raise LibraryError(f"no added document {doc_id!r}")
        folder = self.data_dir / e.stored_dir
        text = (folder / "converted.txt").read_text(encoding="utf-8")
        pd = parse_text(
            text, self._source_path(doc_id, e.file_name), doc_id=doc_id, sha256=e.sha256,
            paragraph_lines=e.format in PARAGRAPH_FORMATS, hints=e.hints,
        )
        if e.status != "auto":  # what an administrator recorded and the text cannot say
            doc = dataclasses.replace(pd.document, status_override=e.status, status_note=e.status_note or "")
            pd = ParsedDocument(doc, pd.clauses, pd.boilerplate, pd.text, pd.warnings, pd.agency_notes)
        return pd

    def set_status(self, doc_id: str, status: str, note: str = "") -> None:
        """Record what the text cannot say: revoked, superseded, expired, in_force, or auto (judge by the dates)."""
        try:
            self.registry.set_status(doc_id, status, note)
        except KeyError:
            raise LibraryError(f"no added document {doc_id!r}") from None

    def load_added(self) -> tuple[list[ParsedDocument], list[LoadError]]:
        docs: list[ParsedDocument] = []
        errors: list[LoadError] = []
        for e in self.registry.all():
            try:
                docs.append(self.parse_entry(e.doc_id))
            except (OSError, ParseError, LibraryError) as exc:
                errors.append(LoadError(self._source_path(e.doc_id, e.file_name), str(exc)))
            except Exception as exc:  # noqa: BLE001 — one document's parser failure must not stop the others
                errors.append(LoadError(self._source_path(e.doc_id, e.file_name), f"cannot be parsed: {type(exc).__name__}: {exc}"))
        return docs, errors

    def corpus(self, cache: ParseCache | None = None) -> Corpus:
        """Seeds and added documents together."""
        docs, errors = self.load_added()
        return load_corpus(self.seeds_dir, extra=docs, extra_errors=errors, cache=cache)

    # --- adding --------------------------------------------------------------------------------

    def prepare(self, data: bytes, name: str, *, seed_ids: set[str] | None = None) -> "Prepared":
        """Convert and parse without storing anything: the result says whether it can be added."""
        name = Path(name).name or "document"
        res = AddResult(file=name)
        try:
            if not data:
                raise IngestError(name, "empty file")
            with tempfile.TemporaryDirectory() as tmp:
                tmp_path = Path(tmp) / name
                tmp_path.write_bytes(data)
                conv = convert_bytes(data, name, tmp_path)
            probe = parse_converted(conv, name)
        except IngestError as exc:
            res.error = exc.reason
            return Prepared(res, data, None, None)
        except ParseError as exc:
            res.error = str(exc)
            return Prepared(res, data, None, None)
        doc_id = probe.document.doc_id
        res.doc_id = doc_id
        seed_ids = seed_ids if seed_ids is not None else self._seed_ids()
        if doc_id in seed_ids:
            res.error = f"doc_id {doc_id!r} is one of the package's documents; it cannot be replaced"
            return Prepared(res, data, None, None)
        sha = hashlib.sha256(data).hexdigest()
        existing = self.registry.get(doc_id)
        res.status = "unchanged" if existing is not None and existing.sha256 == sha else ("updated" if existing else "added")
        pd = parse_converted(conv, self._source_path(doc_id, name), doc_id=doc_id, sha256=sha)
        names = {n for c in pd.clauses for n in c.agencies}
        res.clauses = len(pd.clauses)
        res.agency_notes_found = pd.agency_notes
        res.agency_names_extracted = len(names)
        res.warnings = list(pd.warnings)
        res.title, res.doc_number, res.format = pd.document.title, pd.document.doc_number, conv.fmt
        return Prepared(res, data, conv, pd)

    def commit(self, prep: "Prepared") -> AddResult:
        """Store a prepared document and its registry row."""
        res, conv, pd = prep.result, prep.conv, prep.parsed
        if not res.ok or conv is None or pd is None:
            return res
        doc_id, name = res.doc_id, res.file
        self._store(doc_id, name, prep.data, conv)
        d = pd.document
        self.registry.upsert(
            {
                "doc_id": doc_id, "file_name": name, "stored_dir": f"documents/{doc_id}", "sha256": d.sha256,
                "format": conv.fmt, "encoding": conv.encoding, "title": d.title, "doc_number": d.doc_number,
                "issuer": d.issuer, "issued": d.issued.isoformat() if d.issued else None,
                "valid_from": d.valid_from.isoformat() if d.valid_from else None,
                "valid_until": d.valid_until.isoformat() if d.valid_until else None,
                "clauses": len(pd.clauses), "hints": dict(conv.hints),
                "report": {k: v for k, v in res.to_dict().items() if k != "file"},
            }
        )
        return res

    def add_bytes(self, data: bytes, name: str, *, seed_ids: set[str] | None = None) -> AddResult:
        return self.commit(self.prepare(data, name, seed_ids=seed_ids))

    def add(self, path: Path, *, seed_ids: set[str] | None = None) -> AddResult:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            return AddResult(file=Path(path).name, error=f"cannot read: {exc.strerror}")
        return self.add_bytes(data, Path(path).name, seed_ids=seed_ids)

    def _store(self, doc_id: str, name: str, data: bytes, conv: Converted) -> None:
        """Write the original and its converted text into a fresh folder, then swap it in."""
        self.docs_dir.mkdir(parents=True, exist_ok=True)
        final = self.docs_dir / doc_id
        tmp = Path(tempfile.mkdtemp(prefix=f".{doc_id}.", dir=self.docs_dir))
        try:
            (tmp / name).write_bytes(data)
            (tmp / "converted.txt").write_text(conv.text, encoding="utf-8")
            if conv.source_map is not None:
                (tmp / "source_map.json").write_text(json.dumps(list(conv.source_map)), encoding="utf-8")
            if conv.pages:  # PDF: where each page begins in converted.txt, to cite a page
                (tmp / "pages.json").write_text(json.dumps(list(conv.pages)), encoding="utf-8")
            if final.exists():
                old = self.docs_dir / f".{doc_id}.old"
                shutil.rmtree(old, ignore_errors=True)
                os.replace(final, old)
                os.replace(tmp, final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _seed_ids(self) -> set[str]:
        return {pd.document.doc_id for pd in load_corpus(self.seeds_dir).documents}

    # --- removing ------------------------------------------------------------------------------

    def remove(self, doc_id: str) -> None:
        if self.registry.get(doc_id) is None:
            if doc_id in self._seed_ids():
                raise LibraryError(f"{doc_id!r} is one of the package's documents and cannot be removed")
            raise LibraryError(f"no added document {doc_id!r}")
        self.registry.delete(doc_id)
        shutil.rmtree(self.docs_dir / doc_id, ignore_errors=True)


def load_all(
    seeds_dir: Path | None, data_dir: Path | None, registry_url: str | None = None, *, cache: ParseCache | None = None
) -> Corpus:
    """The corpus a service runs on: the seed folder plus every document added under ``data_dir``.
    ``cache``: parsed seed documents kept from earlier loads (only changed files are parsed again)."""
    if data_dir is None or (registry_url is None and not (Path(data_dir) / "registry.sqlite3").exists()):
        return load_corpus(seeds_dir, cache=cache)
    return Library(data_dir, seeds_dir=seeds_dir, registry_url=registry_url).corpus(cache=cache)

"""The document registry: one row per added document, in a real database.

SQLAlchemy Core, so the same code runs on SQLite (the default, ``QA_DATA_DIR/registry.sqlite3``) and on
PostgreSQL (``QA_REGISTRY_URL=postgresql+psycopg://…``). Holds the original file's name and sha256, the format,
metadata parsed from the text, an admin-set status (what the text cannot say: revoked, superseded), the parse
report and timestamps. The documents themselves (original and converted text) live on disk beside it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

STATUSES = ("auto", "in_force", "expired", "revoked", "superseded")  # auto: judged from the text's dates

metadata = MetaData()
documents = Table(
    "documents",
    metadata,
    Column("doc_id", String(120), primary_key=True),
    Column("file_name", String(400), nullable=False),
    Column("stored_dir", String(400), nullable=False),  # relative to the data dir
    Column("sha256", String(64), nullable=False, index=True),
    Column("format", String(20), nullable=False),
    Column("encoding", String(40)),
    Column("title", Text),
    Column("doc_number", String(120)),
    Column("issuer", Text),
    Column("issued", String(10)),
    Column("valid_from", String(10)),
    Column("valid_until", String(10)),
    Column("status", String(20), nullable=False, default="auto"),
    Column("status_note", Text, default=""),
    Column("clauses", Integer, nullable=False, default=0),
    Column("hints", Text, default="{}"),  # metadata printed around the body (JSON)
    Column("report", Text, default="{}"),  # the parse report (JSON)
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# "Was this helpful?" votes from the widget and the staff page. The question text is kept only when the operator
# switched query logging on (QA_LOG_QUERIES); otherwise a salted hash (to count repeats) or nothing.
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("helpful", Boolean, nullable=False),
    Column("lang", String(8), nullable=False, default=""),
    Column("intent", String(20), nullable=False, default=""),
    Column("answerable", Boolean),
    Column("clause_ids", Text, nullable=False, default="[]"),  # the clauses the answer cited (JSON)
    Column("question", Text),  # only with query logging on
    Column("question_sha256", String(64)),  # salted; only with a salt configured and query logging off
)


@dataclass(frozen=True)
class Entry:
    doc_id: str
    file_name: str
    stored_dir: str
    sha256: str
    format: str
    encoding: str | None
    title: str | None
    doc_number: str | None
    issuer: str | None
    issued: str | None
    valid_from: str | None
    valid_until: str | None
    status: str
    status_note: str
    clauses: int
    hints: dict[str, str]
    report: dict[str, Any]
    added_at: dt.datetime
    updated_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["added_at"] = self.added_at.isoformat()
        d["updated_at"] = self.updated_at.isoformat()
        return d


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class Registry:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, future=True)
        metadata.create_all(self.engine)

    @classmethod
    def in_dir(cls, data_dir: Path, url: str | None = None) -> "Registry":
        if url:
            return cls(url)
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{(data_dir / 'registry.sqlite3').resolve()}")

    def _entry(self, row) -> Entry:
        m = dict(row._mapping)
        m["hints"] = json.loads(m.get("hints") or "{}")
        m["report"] = json.loads(m.get("report") or "{}")
        for k in ("added_at", "updated_at"):
            if m[k] is not None and m[k].tzinfo is None:
                m[k] = m[k].replace(tzinfo=dt.UTC)
        return Entry(**m)

    def all(self) -> list[Entry]:
        with self.engine.connect() as c:
            return [self._entry(r) for r in c.execute(select(documents).order_by(documents.c.added_at, documents.c.doc_id))]

    def get(self, doc_id: str) -> Entry | None:
        with self.engine.connect() as c:
            row = c.execute(select(documents).where(documents.c.doc_id == doc_id)).first()
        return self._entry(row) if row else None

    def by_sha256(self, sha256: str) -> Entry | None:
        with self.engine.connect() as c:
            row = c.execute(select(documents).where(documents.c.sha256 == sha256)).first()
        return self._entry(row) if row else None

    def upsert(self, values: dict[str, Any]) -> None:
        values = dict(values)
        values["hints"] = json.dumps(values.get("hints") or {}, ensure_ascii=False)
        values["report"] = json.dumps(values.get("report") or {}, ensure_ascii=False)
        now = _now()
        with self.engine.begin() as c:
            exists = c.execute(select(documents.c.doc_id).where(documents.c.doc_id == values["doc_id"])).first()
            if exists:
                values["updated_at"] = now
                c.execute(update(documents).where(documents.c.doc_id == values["doc_id"]).values(**values))
            else:
                values.setdefault("status", "auto")
                values.setdefault("status_note", "")
                values["added_at"] = values["updated_at"] = now
                c.execute(insert(documents).values(**values))

    def set_status(self, doc_id: str, status: str, note: str = "") -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        with self.engine.begin() as c:
            n = c.execute(
                update(documents).where(documents.c.doc_id == doc_id).values(status=status, status_note=note, updated_at=_now())
            ).rowcount
        if not n:
            raise KeyError(doc_id)

    # --- feedback ----------------------------------------------------------------------------

    def add_feedback(
        self, *, helpful: bool, lang: str = "", intent: str = "", answerable: bool | None = None,
        clause_ids: list[str] | tuple[str, ...] = (), question: str | None = None, question_sha256: str | None = None,
    ) -> int:
        with self.engine.begin() as c:
            result = c.execute(insert(feedback).values(
                created_at=_now(), helpful=helpful, lang=lang, intent=intent, answerable=answerable,
                clause_ids=json.dumps(list(clause_ids), ensure_ascii=False), question=question, question_sha256=question_sha256,
            ))
            return int(result.inserted_primary_key[0])

    def feedback(self) -> list[dict[str, Any]]:
        """Every vote, oldest first."""
        with self.engine.connect() as c:
            rows = c.execute(select(feedback).order_by(feedback.c.id)).all()
        out = []
        for r in rows:
            m = dict(r._mapping)
            created = m["created_at"]
            if created is not None and created.tzinfo is None:
                created = created.replace(tzinfo=dt.UTC)
            m["created_at"] = created.isoformat() if created else None
            m["clause_ids"] = json.loads(m["clause_ids"] or "[]")
            out.append(m)
        return out

    def forget_feedback_questions(self, before: dt.datetime) -> int:
        """Drop the question text and hash of votes older than `before` (the retention period); the votes
        themselves (helpful, clauses cited) carry no query and stay for the counts. Returns how many."""
        with self.engine.begin() as c:
            return int(c.execute(
                update(feedback)
                .where(feedback.c.created_at < before)
                .where((feedback.c.question.is_not(None)) | (feedback.c.question_sha256.is_not(None)))
                .values(question=None, question_sha256=None)
            ).rowcount)

    def feedback_counts(self) -> dict[bool, int]:
        """Votes stored, by helpful (all time, across workers)."""
        with self.engine.connect() as c:
            rows = c.execute(select(feedback.c.helpful, func.count()).group_by(feedback.c.helpful)).all()
        counts = {True: 0, False: 0}
        for helpful, n in rows:
            counts[bool(helpful)] = int(n)
        return counts

    def delete(self, doc_id: str) -> bool:
        with self.engine.begin() as c:
            return bool(c.execute(delete(documents).where(documents.c.doc_id == doc_id)).rowcount)

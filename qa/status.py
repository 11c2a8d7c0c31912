"""Whether a document is in force on a given date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from policyqa.corpus import Document

STATUSES = ("in_force", "expired", "plan_ended", "not_yet")


@dataclass(frozen=True)
class DocStatus:
    status: str  # one of STATUSES
    label: str  # for people, in Chinese
    label_en: str
    as_of: dt.date

    @property
    def current(self) -> bool:
        return self.status == "in_force"


def document_status(doc: Document, on: dt.date) -> DocStatus:
    """A plan is current through the last day of its period; a measure through its stated validity.

    Documents that state no end stay in force until replaced, which the corpus cannot tell — unless an
    administrator recorded it in the document registry (revoked, superseded, expired, or confirmed in force).
    """
    override = getattr(doc, "status_override", None)
    if override in ("revoked", "superseded", "expired"):
        zh, en = {"revoked": ("已废止", "revoked"), "superseded": ("已被新文件替代", "superseded"), "expired": ("已失效", "expired")}[override]
        note = getattr(doc, "status_note", "")
        return DocStatus("expired", zh + (f"（{note}）" if note else ""), en + (f" ({note})" if note else ""), on)
    if override == "in_force":
        return DocStatus("in_force", "有效（登记确认）", "in force (confirmed in the registry)", on)
    if on < doc.effective_from:
        return DocStatus("not_yet", f"{doc.effective_from.isoformat()}起施行", f"takes effect {doc.effective_from.isoformat()}", on)
    if doc.valid_until and on > doc.valid_until:
        return DocStatus("expired", f"已于{doc.valid_until.isoformat()}到期", f"expired {doc.valid_until.isoformat()}", on)
    if doc.plan_period and on > dt.date(doc.plan_period[1], 12, 31):
        a, b = doc.plan_period
        return DocStatus("plan_ended", f"规划期{a}–{b}年已结束", f"plan period {a}–{b} has ended", on)
    if doc.valid_until:
        return DocStatus("in_force", f"有效（至{doc.valid_until.isoformat()}）", f"in force until {doc.valid_until.isoformat()}", on)
    if doc.plan_period:
        a, b = doc.plan_period
        return DocStatus("in_force", f"规划期内（{a}–{b}年）", f"within plan period {a}–{b}", on)
    return DocStatus("in_force", "有效（未规定有效期）", "in force (no end date stated)", on)

import datetime as dt

from policyqa.qa.status import document_status


def _docs(corpus):
    return {pd.document.doc_id: pd.document for pd in corpus.documents}


def test_stated_validity(corpus):
    d = _docs(corpus)["hfbf2025-5"]
    assert document_status(d, dt.date(2025, 3, 19)).status == "not_yet"
    assert document_status(d, dt.date(2026, 11, 22)).status == "in_force"
    assert document_status(d, dt.date(2028, 3, 19)).status == "in_force"
    s = document_status(d, dt.date(2028, 3, 20))
    assert s.status == "expired" and "2028-03-19" in s.label


def test_plan_period(corpus):
    d = _docs(corpus)["hfbf2021-7"]
    assert document_status(d, dt.date(2025, 12, 31)).status == "in_force"
    assert document_status(d, dt.date(2026, 1, 1)).status == "plan_ended"


def test_no_stated_end(corpus):
    d = _docs(corpus)["sw2025-1225"]
    assert document_status(d, dt.date(2025, 12, 24)).status == "not_yet"
    assert document_status(d, dt.date(2030, 1, 1)).status == "in_force"

"""A malformed document names the file and the reason; the other documents still load."""

import shutil
from pathlib import Path

import pytest

from policyqa.corpus import ParseError, load_corpus, parse_file

SEEDS = Path(__file__).resolve().parents[2] / "corpus"
GOOD = "001_5d44a0b456d947b6.txt"


@pytest.fixture()
def folder(tmp_path):
    d = tmp_path / "corpus"
    d.mkdir()
    shutil.copy(SEEDS / GOOD, d / GOOD)
    return d


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"\n \n\t\n", "empty file"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary"),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj garbage", "not a readable PDF"),
        ("broken.docx", b"PK\x03\x04garbage", "not a readable DOCX"),
    ],
)
def test_bad_file_is_reported_and_others_still_load(folder, name, content, reason):
    (folder / name).write_bytes(content)
    corpus = load_corpus(folder)
    assert [pd.document.doc_id for pd in corpus.documents] == ["hfbf2025-5"]
    assert len(corpus.errors) == 1, corpus.errors
    err = corpus.errors[0]
    assert err.source_path == f"corpus/{name}"
    assert reason in err.reason
    assert name in str(err)


@pytest.mark.parametrize(
    "name,content,warning",
    [
        # GBK is a common encoding of published text: decoded, not rejected
        ("gbk.txt", "上海市人民政府文件\n关于测试的意见\n一、总则\n（一）内容。\n".encode("gbk"), "no signing date"),
        ("prose.txt", "这是一段没有任何编号结构的普通文字。\n第二行也没有。\n".encode(), "no numbered structure"),
        ("untitled.txt", "一、总则\n（一）内容。\n".encode(), "no document title"),
        ("utf16.txt", "关于测试的通知\n一、总则\n（一）内容。\n".encode("utf-16"), "no signing date"),
    ],
)
def test_missing_front_matter_is_a_warning_not_a_rejection(folder, name, content, warning):
    (folder / name).write_bytes(content)
    corpus = load_corpus(folder)
    assert corpus.errors == ()
    added = [pd for pd in corpus.documents if pd.document.source_path == f"corpus/{name}"]
    assert len(added) == 1 and added[0].clauses
    assert added[0].document.doc_id  # never empty, even from a file name without Latin letters
    assert any(warning in w for w in added[0].warnings), added[0].warnings


def test_parse_file_raises_parse_error(tmp_path):
    p = tmp_path / "x.txt"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00garbage")
    with pytest.raises(ParseError):
        parse_file(p, "x.txt")


def test_duplicate_doc_id_is_an_error_not_a_silent_overwrite(folder):
    shutil.copy(folder / GOOD, folder / "copy.txt")
    corpus = load_corpus(folder)
    assert len(corpus.documents) == 1
    assert "already used" in corpus.errors[0].reason

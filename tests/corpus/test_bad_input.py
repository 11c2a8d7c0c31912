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
        ("gbk.txt", "上海市人民政府文件\n一、总则\n".encode("gbk"), "not valid UTF-8"),
        ("prose.txt", "这是一段没有任何编号结构的普通文字。\n第二行也没有。\n".encode(), "no recognisable structure"),
        ("untitled.txt", "一、总则\n（一）内容。\n".encode(), "no document title"),
    ],
)
def test_bad_file_is_reported_and_others_still_load(folder, name, content, reason):
    (folder / name).write_bytes(content)
    corpus = load_corpus(folder)
    assert [pd.document.doc_id for pd in corpus.documents] == ["hfbf2025-5"]
    assert len(corpus.errors) == 1
    err = corpus.errors[0]
    assert err.source_path == f"corpus/{name}"
    assert reason in err.reason
    assert name in str(err)


def test_parse_file_raises_parse_error(tmp_path):
    p = tmp_path / "x.txt"
    p.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ParseError):
        parse_file(p, "x.txt")


def test_duplicate_doc_id_is_an_error_not_a_silent_overwrite(folder):
    shutil.copy(folder / GOOD, folder / "copy.txt")
    corpus = load_corpus(folder)
    assert len(corpus.documents) == 1
    assert "already used" in corpus.errors[0].reason

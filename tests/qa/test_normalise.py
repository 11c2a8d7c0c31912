"""normalise converts traditional characters piece by piece (qa/analysis.py `_t2s`); its output must be exactly
what OpenCC t2s gives for the whole text."""

import json
import random
from pathlib import Path

import pytest
from opencc import OpenCC

from policyqa.corpus.rules import normalize
from policyqa.qa.analysis import _HAS_CJK, _t2s, normalise

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def reference():
    cc = OpenCC("t2s")  # a converter of its own: the plain, whole-text conversion

    def plain(text: str) -> str:
        text = normalize(text).strip()
        return cc.convert(text) if _HAS_CJK.search(text) else text

    return cc, plain


def _eval_questions() -> list[str]:
    files = [ROOT / "eval" / "questions.jsonl", *sorted((ROOT / "eval" / "blind").glob("*.jsonl"))]
    out = []
    for f in files:
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                q = json.loads(line).get("question")
                if isinstance(q, str):
                    out.append(q)
    return out


def test_every_eval_question_normalises_as_plain_opencc(reference):
    _, plain = reference
    questions = _eval_questions()
    assert len(questions) > 100
    assert [normalise.__wrapped__(q) for q in questions] == [plain(q) for q in questions]


def test_phrases_convert_as_units():
    assert normalise("頭髮很乾燥，他很著名") == "头发很干燥,他很著名"
    # 乾 alone becomes 干 and 瞭 stays, but the phrases 乾坤 and 一目瞭然 decide otherwise
    assert normalise("乾坤一目瞭然") == "乾坤一目了然"
    assert normalise("乾 瞭") == "干 瞭"


def test_random_text_normalises_as_plain_opencc(reference):
    cc, plain = reference
    tables = [table for _max, _min, table in cc.dict_cache.values()]
    phrases = sorted(k for t in tables for k in t if len(k) > 1)
    chars = sorted({ch for t in tables for k in t for ch in k})
    assert len(phrases) > 100 and len(chars) > 1000
    rng = random.Random(20261130)
    pieces = [
        lambda: rng.choice(phrases),  # a phrase the converter matches as a unit
        lambda: rng.choice(phrases)[: rng.randint(1, 3)] + rng.choice(phrases)[-rng.randint(1, 3) :],  # overlaps
        lambda: rng.choice(chars),  # a character some key holds
        lambda: chr(rng.randint(0x4E00, 0x9FA5)),  # any CJK character
        lambda: rng.choice("，。？！、 -.?（）《》：；“”ＡＢ１２ ab12\u3000\t"),  # separators, full-width, ASCII
        lambda: chr(rng.randint(0x20000, 0x2A6DF)),  # beyond the dictionaries' highest code point
        lambda: rng.choice(["\ud800", "\udfff", "\x00", "\ufeff"]),  # odd code points
    ]
    weights = [4, 2, 6, 6, 2, 1, 1]
    texts = ["".join(rng.choices(pieces, weights)[0]() for _ in range(rng.randint(1, 40))) for _ in range(3000)]
    texts += ["".join(rng.choices(pieces, weights)[0]() for _ in range(500)) for _ in range(30)]
    mismatches = [t for t in texts if normalise.__wrapped__(t) != plain(t)]
    assert mismatches == []
    # and with no normalisation around it, the conversion itself
    assert [_t2s(t) for t in texts[:500]] == [cc.convert(t) for t in texts[:500]]

"""Question analysis is bounded in cost: no step is super-linear in the question's length.

Measured as work done (function calls, and whether jieba's part-of-speech HMM runs), never as time:
scripts/bench_hostile.py measures the time under load."""

import cProfile
import pstats
import random

import pytest

from policyqa.qa.agencies import AgencyDirectory
from policyqa.qa.answer import Answerer
from policyqa.qa.search import Searcher


@pytest.fixture(scope="module")
def answerer(corpus):
    return Answerer(corpus, AgencyDirectory.load())


@pytest.fixture(scope="module")
def searcher(corpus, lexical_bundle):
    return Searcher(corpus, lexical_bundle, mode="lexical")


def random_chinese(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(n))


def calls(fn) -> int:
    profile = cProfile.Profile()
    profile.enable()
    fn()
    profile.disable()
    return pstats.Stats(profile).total_calls


def test_part_of_speech_hmm_never_runs_on_a_question(answerer, searcher, monkeypatch):
    """The HMM tagger costs ~250 states per unknown character (seconds for 500 random characters)."""
    import jieba.posseg

    answerer.analyse(searcher, "深圳的企业能申请算力券吗？")  # loads the tagger and dictionaries first

    def forbidden(*_a, **_k):
        raise AssertionError("jieba's part-of-speech HMM ran on a question")

    monkeypatch.setattr(jieba.posseg, "viterbi", forbidden)
    q = answerer.analyse(searcher, random_chinese(500, 1))
    assert q.text
    # a place the dictionary tags is still found without it
    assert "深圳" in answerer.analyse(searcher, "深圳的企业能申请算力券吗？").places


def test_analysis_work_grows_linearly_with_length(answerer, searcher):
    answerer.analyse(searcher, random_chinese(50, 0))  # lazy loads out of the way
    short = calls(lambda: answerer.analyse(searcher, random_chinese(250, 2)))
    long = calls(lambda: answerer.analyse(searcher, random_chinese(500, 3)))
    # twice the text may cost about twice the work; a quadratic or per-character-state step costs far more
    assert long <= 2.6 * short, (short, long)
    # and the constant is small: a few dozen calls per character (the HMM tagger made ~23,000)
    assert long <= 400 * 500, long


def test_a_whole_ask_on_500_random_characters_does_linear_work(answerer, searcher):
    answerer.ask(searcher, random_chinese(50, 4))
    short = calls(lambda: answerer.ask(searcher, random_chinese(250, 5)))
    long = calls(lambda: answerer.ask(searcher, random_chinese(500, 6)))
    assert long <= 2.6 * short, (short, long)
    assert long <= 400 * 500, long

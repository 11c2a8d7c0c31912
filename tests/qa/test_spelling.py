"""English typos: a word the dictionary cannot render is corrected by one edit when the correction is a word
it renders (or a function word); names, compounds, short words and known words are left as typed."""

from policyqa.qa.analysis import MAX_SPELLED, spelled

RENDERED = {"support", "language", "model", "models", "tourism", "network", "consumer"}


def renders(word: str) -> bool:
    return word in RENDERED


def test_misspelt_words_are_corrected_to_words_the_dictionary_renders():
    assert spelled("any suport for consumer-facing large langauge models?", renders) == \
        "any support for consumer-facing large language models?"
    assert spelled("how many zones shoud be created", renders) == "how many zones should be created"  # a function word
    assert spelled("Toursim vouchers", renders) == "tourism vouchers"  # the first word of a sentence


def test_names_compounds_short_and_known_words_stay_as_typed():
    # Lingang (a name inside a sentence), sci-tech (a compound), tech (four letters: tech → teach), policy
    # (a word the checker knows), a correction the dictionary cannot render (xylophonn → xylophone)
    text = "Can firms in Lingang get sci-tech help from the tech policy office? xylophonn"
    assert spelled(text, renders) == text


class CountingChecker:
    def __init__(self) -> None:
        self.calls = 0

    def __contains__(self, word: str) -> bool:
        return False

    def correction(self, word: str) -> str:
        self.calls += 1
        return "support"


def test_corrections_tried_per_question_are_bounded():
    checker = CountingChecker()
    text = " ".join(["qwertyuiop"] * 500)
    out = spelled(text, renders, checker)
    assert checker.calls == MAX_SPELLED
    assert out.split().count("support") == MAX_SPELLED

"""What kind of question is asked: agency, support, fact or general.

A small linear model over the question's character uni- and bigrams (Chinese), its English words and word pairs,
and four general cues (the ways both languages ask "who is responsible", "how many / when", "what support"
and "what target"). Fitted on the dev half only (`python -m policyqa.eval.fit`), stored as plain JSON
coefficients in `qa/data/intent.json`; without that file the cues decide alone.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

INTENTS = ("agency", "support", "fact", "general")
DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "intent.json"
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")

# General question cues (interrogatives and the words policy questions use for each kind) — features of
# the model, never a decision on their own when the model is present.
# verbs after 'who' that do not ask for the unit responsible (see CUES["agency"])
_NOT_ACTOR = (
    r"(?:is|are|was|were|can|could|may|might|must|do|does|did|has|have|had|gets?|receives?|qualif(?:y|ies)|"
    r"benefits?|wins?|pays?|appl(?:y|ies)|needs?|wants?|uses?|counts?|says?|knows?|sees?)"
)

CUES = {
    "agency": re.compile(
        # a department word may carry a modifier that says whose (哪些政府部门, 哪个市级单位)
        r"(?:哪(?:个|些|几个|几家|家)|什么)(?:政府|市级|市里的?|相关|主管|职能|具体)?(?:部门|单位|机构|局|委|办)|"
        r"谁负责|谁来|谁管|由谁|是谁|归哪|找谁|找哪|牵头|"
        # who does it, asked with a verb of running a matter (哪家在管, 谁在抓), or as a choice (教委负责还是外办)
        r"(?:谁|哪家)(?:在|来)?(?:管|抓|推|主管|负责|牵头)|负责还是|还是.{1,8}负责|"
        r"责任单位|主管部门|负责部门|负责哪些|管哪些|管什么|职责|"
        # the department word first, then the question word (部门是哪几个), also in English inside a Chinese
        # question ('responsible departments 是哪几个'); not 机构, which also names institutions (第三方机构有哪些 asks names)
        r"(?:部门|单位|\bdepartments?|\bagenc(?:y|ies)|\bbureaus?|\bauthorit(?:y|ies))\s*(?:分别|都)?(?:是|有)?\s*(?:哪(?:个|些|几个|几家|家)|谁)|"
        # up to two words between which and the department word (which government bodies, which city agencies)
        r"\bwhich (?:[a-z-]+ ){0,2}(?:agency|agencies|department|departments|bureau|bureaus|body|bodies|office|offices|authority|authorities)\b|"
        r"\bwho (?:is|are) (?:responsible|in charge)|"
        r"\bwho (?:handles|leads|runs|oversees|manages|decides|approves|regulates|supervises|administers|coordinates)\b|"
        r"\bresponsible for\b|\bin charge of\b|"
        # 'who' with a verb of doing asks for the actor (who compiles, who organizes, who will set up): in a
        # policy document, the unit responsible. Not after an auxiliary or modal (who is eligible, who can
        # apply) nor with a verb whose subject gains, applies, pays or reports (who gets, who qualifies,
        # who pays, who says): those ask who benefits or is eligible, not who is responsible
        rf"\bwho (?:will|would|should|shall|is going to|are going to) (?!{_NOT_ACTOR}\b)[a-z]+\b|"
        rf"\bwho (?!{_NOT_ACTOR}\b)[a-z]+(?:s|es)\b",
        re.I,
    ),
    "figure": re.compile(
        r"多少|几个|几家|几项|多大|比重|比例|占比|什么时候|何时|哪一年|哪年|哪天|几月|日期|有效期|到期|截止|"
        r"\bhow (?:many|much|long)\b|\bwhen\b|\bwhat year\b|\bwhat date\b|\bpercent\w*|\buntil\b|\bexpire\w*",
        re.I,
    ),
    "support": re.compile(
        r"支持|补贴|补助|奖励|奖补|扶持|资助|申请|贷款|贴息|融资|减免|免征|优惠|资金|券|享受|有没有政策|便利|"
        r"\b(?:subsid\w*|grants?|support\w*|funding|fund|loans?|incentives?|rewards?|vouchers?|tax (?:relief|break|exemption)s?|"
        r"financ\w*|apply|eligible|benefits?|help)\b",
        re.I,
    ),
    "target": re.compile(r"目标|指标|达到|规模|数量|\btargets?\b|\bshare\b|\bgoals?\b", re.I),
}


def cue_intent(text: str) -> str:
    """The cues alone: agency, then figures and dates, then support, then targets; else general."""
    if CUES["agency"].search(text):
        return "agency"
    if CUES["figure"].search(text):
        return "fact"
    if CUES["support"].search(text):
        return "support"
    if CUES["target"].search(text):
        return "fact"
    return "general"


def features(text: str, asks: frozenset[str] | None = None) -> set[str]:
    """Binary features of a (normalised) question. `asks`: the kinds of information it asks for (qa/scope.py,
    read from the grammar of the question: a sum, a count, a date, who is responsible…) — dev, 5-fold ×3:
    intent 0.848 without them, 0.860 with them."""
    t = re.sub(r"\s+", " ", text.lower()).strip()
    out: set[str] = set()
    if _CJK.search(t):
        # characters for Chinese; an English question's letters say little (dev, 5-fold: English intent
        # 0.67 with them, 0.76 without)
        out.update(f"c:{ch}" for ch in t if not ch.isspace())
        out.update(f"c:{t[i:i + 2]}" for i in range(len(t) - 1) if not t[i:i + 2].isspace())
    words = re.findall(r"[a-z]{2,}", t)
    out.update(f"w:{w}" for w in words)
    out.update(f"w:{a} {b}" for a, b in zip(words, words[1:]))
    out.update(f"cue:{name}" for name, rx in CUES.items() if rx.search(text))
    out.add(f"rule:{cue_intent(text)}")
    if asks is not None:
        out.update(f"ask:{k}" for k in asks)
        if not asks:
            out.add("ask:none")
    return out


@dataclass(frozen=True)
class VectorPart:
    """The weights of the question's embedding in the intent model: the multilingual model places a question
    near others asked the same way in either language, so Chinese examples teach the English ones. Valid
    only for the model it was fitted with (`model`, `dim`)."""

    model: str
    dim: int
    intercept: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]  # the n-gram weights fitted together with the vector
    coef: tuple[tuple[float, ...], ...]  # classes × dim


@dataclass(frozen=True)
class IntentModel:
    classes: tuple[str, ...] = INTENTS
    intercept: tuple[float, ...] = ()
    weights: dict[str, tuple[float, ...]] = field(default_factory=dict)
    vector: VectorPart | None = None

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> "IntentModel":
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text(encoding="utf-8"))
        vec = raw.get("vector")
        part = None
        if vec:
            part = VectorPart(vec["model"], int(vec["dim"]), tuple(vec["intercept"]),
                              {k: tuple(v) for k, v in vec["weights"].items()}, tuple(tuple(r) for r in vec["coef"]))
        return cls(tuple(raw["classes"]), tuple(raw["intercept"]), {k: tuple(v) for k, v in raw["weights"].items()}, part)

    def uses_vector(self, model: str | None, dim: int | None) -> bool:
        return self.vector is not None and self.vector.model == model and self.vector.dim == dim

    def classify(
        self, text: str, vector=None, model: str | None = None, asks: frozenset[str] | None = None
    ) -> tuple[str, tuple[tuple[str, float], ...]]:
        """(intent, probability of each intent). With the question's embedding from the model the vector
        part was fitted with, the n-gram and vector model; otherwise the n-gram model alone."""
        if not self.weights:
            intent = cue_intent(text)
            return intent, tuple((c, float(c == intent)) for c in self.classes)
        part = self.vector if vector is not None and self.uses_vector(model, len(vector)) else None
        weights = part.weights if part else self.weights
        z = list(part.intercept if part else self.intercept)
        for f in features(text, asks):
            w = weights.get(f)
            if w:
                z = [a + b for a, b in zip(z, w)]
        if part:
            z = [a + sum(c * float(v) for c, v in zip(row, vector)) for a, row in zip(z, part.coef)]
        m = max(z)
        e = [math.exp(v - m) for v in z]
        s = sum(e)
        probs = tuple((c, round(v / s, 4)) for c, v in zip(self.classes, e))
        return max(probs, key=lambda p: p[1])[0], probs


def classify_intent(question: str) -> str:
    """The default model's intent for a question (normalised text expected)."""
    from .scope import asked_kinds  # scope reads this module's cues

    return _default().classify(question, asks=asked_kinds(question))[0]


_DEFAULT: IntentModel | None = None


def _default() -> IntentModel:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = IntentModel.load()
    return _DEFAULT


_REVERSE = re.compile(
    r"负责哪些|负责什么|管哪些|管什么|有哪些职责|职责|\bwhat (?:is|are|does)\b.*\b(?:responsible for|in charge of|do)\b", re.I
)


def asks_what_agency_does(question: str) -> bool:
    """'市民政局负责哪些事?' — the reverse of an agency question (asked with an agency named)."""
    return bool(_REVERSE.search(question))

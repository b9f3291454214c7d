"""VADER sentiment: text preparation and scores (pure).

One `SentimentIntensityAnalyzer` per process: loading its lexicon is the slow part.
"""
from __future__ import annotations

import re
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from pipeline.contract.records import Sentiment  # the record this module's scores are

#: VADER's documented thresholds for the label.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
#: Characters of prepared text that are scored. VADER's cost grows faster than linearly with length,
#: so a hostile 1 MB post must not stall a partition; 1,000 chars keeps every normal post whole.
DEFAULT_SCORE_CAP = 1000

_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# A handle is @ + word chars, not preceded by a word char (so e-mail addresses are left to _EMAIL_RE).
_HANDLE_RE = re.compile(r"(?<![\w@])@\w+")
_EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_SPACES_RE = re.compile(r"\s+")


def label_for(compound: float) -> str:
    """`positive` if compound ≥ 0.05, `negative` if ≤ -0.05, else `neutral` (VADER's convention)."""
    if compound >= POSITIVE_THRESHOLD:
        return "positive"
    if compound <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def prepare_text(text: str, cap: int = DEFAULT_SCORE_CAP) -> str:
    """Text as it is scored: URLs, e-mail addresses and @handles removed (a brand handle such as
    `@united` contains lexicon words), whitespace collapsed, cut to `cap` characters."""
    text = _URL_RE.sub(" ", text)
    text = _EMAIL_RE.sub(" ", text)
    text = _HANDLE_RE.sub(" ", text)
    text = _SPACES_RE.sub(" ", text).strip()
    if len(text) > cap:
        # Cut at a word boundary so the last token is not a fragment that VADER mis-reads.
        cut = text.rfind(" ", 0, cap)
        text = text[: cut if cut > cap // 2 else cap]
    return _cap_emoji_expansion(text, 2 * cap)


def _cap_emoji_expansion(text: str, budget: int) -> str:
    """VADER replaces every emoji by its description (up to ~40 characters, 6 words) before scoring, and its cost
    is quadratic in words: 1,000 emoji took 2 s. Cut so the text as VADER expands it stays within `budget`."""
    if len(text) <= budget and text.isascii():
        return text  # no emoji (the common case): nothing expands
    emojis = analyzer().emojis
    size = 0
    for i, ch in enumerate(text):
        description = emojis.get(ch)
        size += 1 if description is None else len(description) + 1
        if size > budget:
            cut = text.rfind(" ", 0, i)
            return text[: cut if cut > i // 2 else i].rstrip()
    return text


@lru_cache(maxsize=1)
def analyzer() -> SentimentIntensityAnalyzer:
    """The process-wide analyzer (lexicon loaded once)."""
    return SentimentIntensityAnalyzer()


def score_prepared(prepared: str) -> Sentiment:
    """VADER scores of already prepared text, exactly as `polarity_scores` returns them."""
    s = analyzer().polarity_scores(prepared)
    compound = s["compound"]
    return Sentiment(compound=compound, pos=s["pos"], neu=s["neu"], neg=s["neg"], label=label_for(compound))


def score_sentiment(text: str, cap: int = DEFAULT_SCORE_CAP) -> Sentiment:
    """Prepare `text` (see `prepare_text`) and score it with VADER."""
    return score_prepared(prepare_text(text, cap))

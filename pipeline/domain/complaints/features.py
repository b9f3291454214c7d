"""Features of the complaint model: one mention (its ORIGINAL text, its VADER scores, whether it is addressed to a
brand) → hashed word features, named dense features and the cues that fired (pure).

`analyse` is the one feature extraction, shared by training (`extract_features`, scripts/train_complaints.py) and
serving (`pipeline.domain.complaints.model.ComplaintModel.score`), so the two cannot drift. See docs/complaints.md.
"""
from __future__ import annotations

import math
import re
import zlib
from typing import Final

import msgspec

from pipeline.domain.brands import CARE_HANDLE_RE, HANDLE_RE
from pipeline.domain.complaints.cues import CUE_NAMES, TEXT_CAP, detect_cue_names
from pipeline.domain.sentiment import POSITIVE_THRESHOLD, Sentiment

#: Prefix that stands for "addressed to the brand" on addressed mentions without an @handle (an e-mail, a support
#: ticket, a review): such a text is read as if it began with a brand handle.
VIRTUAL_HANDLE: Final[str] = "@brand "

#: Dense (named) features, in the order of the model's `dense` weights: VADER scores and the shape of the mention —
#: `SHAPE_NAMES` — then one 0/1 feature per cue (`CUE_NAMES`; `addresses_brand` is the `addressed` flag).
SHAPE_NAMES: Final[tuple[str, ...]] = (
    "vader_compound",
    "vader_neg",
    "vader_pos",
    "positive_sentiment",  # compound ≥ 0.05
    "strong_negative",  # compound ≤ -0.5
    "strong_positive",  # compound ≥ 0.5
    "log_length",  # log1p(tokens) / 4: ≈ 1 for a 50-token post
    "leading_handle",  # starts with an @handle: a reply or a direct address
    "reply_to_person",  # starts with an @handle and addresses no brand: people talking to people
    "support_handle",  # an @handle that looks like a customer-care account (`CARE_HANDLE_RE`)
    "handles",  # number of @handles, capped at 3, / 3
    "has_url",
    "question_mark",
    "addressed_compound",  # VADER compound of an addressed mention (0 otherwise): praise AT a brand is not a complaint
    "clean_praise",  # the `praise` cue and none of the complaint cues (`COMPLAINT_CUES`)
    "clean_positive",  # VADER compound ≥ 0.5 and none of the complaint cues
)
#: Cues that speak for a complaint; "clean" praise or positivity is praise without any of them.
COMPLAINT_CUES: Final = frozenset({"negated_expectation", "service_failure", "negative_question", "sarcasm",
                                   "frustration", "repetition", "waiting_time", "follow_up"})
DENSE_NAMES: Final[tuple[str, ...]] = (*SHAPE_NAMES, *CUE_NAMES)

_URL_RE = re.compile(r"(?:https?://|www\.)\S+")
_TOKEN_RE = re.compile(r"[a-z_][a-z0-9_']*|\d+|[!?]")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_DIGIT_RE = re.compile(r"\d")
_LEADING_HANDLE_RE = re.compile(r"\W{0,2}@\w")


class FeatureConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How the sparse features are built; stored in the model file so serving uses the training settings."""

    n_buckets: int = 1 << 18
    word_ngrams: int = 1  # 1 = unigrams, 2 = + bigrams (no better on the dev data, ~20 % slower)


class Features(msgspec.Struct, frozen=True):
    """What `extract_features` returns: one hashed bucket id per distinct feature string (a hash collision repeats a
    bucket id; the training matrix then sums them, exactly as `ComplaintModel.score` does), the common value of a
    feature (1/sqrt(number of distinct feature strings): unit L2 norm barring collisions), the dense values in
    `DENSE_NAMES` order, and the cues that fired."""

    buckets: list[int]
    bucket_value: float
    dense: list[float]
    cues: list[str]


class Tokenized(msgspec.Struct, frozen=True):
    """A mention read for the model: `low` is the lowercased text (capped at TEXT_CAP, apostrophes straightened)
    with every URL → ` _url_ ` and @handle → ` _user_ ` (so a "?" or "/s" inside a URL is not read as one);
    `tokens` its word tokens, numbers → `0` ("!" and "?" are tokens too); `handles` the @handles in order
    (lowercased); `urls` how many URLs."""

    low: str
    tokens: list[str]
    handles: list[str]
    urls: int


def tokenize(text: str) -> Tokenized:
    """Read `text` (the original mention) into tokens; see `Tokenized`."""
    return Tokenized(*_tokenize(text))


def _tokenize(text: str) -> tuple[str, list[str], list[str], int]:
    low = text[:TEXT_CAP].lower()
    if "\u2019" in low or "\u2018" in low or "`" in low:
        low = low.translate(_APOSTROPHES)
    handles: list[str] = []
    urls = 0
    scan = low
    if "://" in scan or "www." in scan:  # URLs first, as in sentiment.py: medium.com/@someone is part of a URL
        scan, urls = _URL_RE.subn(" _url_ ", scan)
    if "@" in scan:
        handles = HANDLE_RE.findall(scan)
        if handles:
            scan = HANDLE_RE.sub(" _user_ ", scan)
    toks: list[str] = _TOKEN_RE.findall(scan)
    if _DIGIT_RE.search(scan) is not None:
        toks = ["0" if t[0].isdigit() else t for t in toks]
    return scan, toks, handles, urls


def normalise(text: str) -> str:
    """The tokens of `text` joined by spaces (for reading and tests; the model uses `tokenize`)."""
    return " ".join(tokenize(text).tokens)


def stable_bucket(feature: str, n_buckets: int) -> int:
    """Bucket of a feature string: crc32 of its UTF-8 bytes modulo `n_buckets` (same in every process)."""
    return zlib.crc32(feature.encode("utf-8")) % n_buckets


def detect_cues(text: str, tokenized: Tokenized, sentiment: Sentiment, addressed: bool = False) -> list[str]:
    """Names of the complaint cues that fire, in `CUE_NAMES` order: `text` is the original text (for CAPS),
    `tokenized` its `tokenize` result, `sentiment` VADER's scores, `addressed` see `analyse`."""
    return detect_cue_names(text, tokenized.low, tokenized.tokens, addressed, sentiment)


def analyse(
    text: str, sentiment: Sentiment, config: FeatureConfig, addressed: bool = False
) -> tuple[set[str], list[float], list[str]]:
    """The distinct sparse feature strings (word unigrams `tok`, bigrams `tok1 tok2`, `<s>` before the first), the
    `SHAPE_NAMES` values and the cues that fired (in `CUE_NAMES` order; each is also a 0/1 dense feature) of one
    mention. `addressed` says the mention is addressed to a brand: it names one of the brands' handles or a care
    handle (`pipeline.domain.brands.Brands.addressed`), or comes on a channel addressed by construction (e-mail, support,
    reviews). A care handle in the text counts as addressed whatever the flag says; any other @handle is NOT an
    address: most @-replies are people talking to people."""
    if addressed and HANDLE_RE.search(text, 0, TEXT_CAP) is None:
        text = VIRTUAL_HANDLE + text
    low, toks, handles, urls = _tokenize(text)
    # Unigrams are the tokens themselves, bigrams "a b" (tokens never contain spaces, so the two cannot clash).
    feats = set(toks)
    if config.word_ngrams >= 2 and toks:
        feats.add("<s> " + toks[0])
        feats.update([a + " " + b for a, b in zip(toks, toks[1:])])
    support = leading = 0.0
    if handles:
        for handle in handles:
            if CARE_HANDLE_RE.match(handle) is not None:
                support = 1.0  # a care account is a brand's, configured or not (the rule of Brands.addressed)
                addressed = True
                break
        if _LEADING_HANDLE_RE.match(text) is not None:
            leading = 1.0
    cues = detect_cue_names(text, low, toks, addressed, sentiment)
    compound = sentiment.compound
    clean = COMPLAINT_CUES.isdisjoint(cues)
    return feats, [
        compound,
        sentiment.neg,
        sentiment.pos,
        1.0 if compound >= POSITIVE_THRESHOLD else 0.0,
        1.0 if compound <= -0.5 else 0.0,
        1.0 if compound >= 0.5 else 0.0,
        math.log1p(len(toks)) / 4.0,
        leading,
        0.0 if addressed else leading,
        support,
        min(len(handles), 3) / 3.0,
        1.0 if urls else 0.0,
        1.0 if "?" in low else 0.0,
        compound if addressed else 0.0,
        1.0 if clean and "praise" in cues else 0.0,
        1.0 if clean and compound >= 0.5 else 0.0,
    ], cues


def extract_features(text: str, sentiment: Sentiment, config: FeatureConfig, addressed: bool = False) -> Features:
    """Features of one mention, as the model sees them: `text` is the ORIGINAL text (handles, URLs, case intact),
    `sentiment` its VADER scores (computed on the prepared text), `addressed` see `analyse`."""
    feats, shape, cues = analyse(text, sentiment, config, addressed)
    fired = set(cues)
    dense = shape + [1.0 if c in fired else 0.0 for c in CUE_NAMES]
    n = config.n_buckets
    buckets = [stable_bucket(f, n) for f in sorted(feats)]
    value = 1.0 / math.sqrt(len(feats)) if feats else 0.0
    return Features(buckets=buckets, bucket_value=value, dense=dense, cues=cues)

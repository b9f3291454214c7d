"""Complaint detection: VADER scores + complaint cues + a small learned linear model (pure).

`extract_features` turns one mention (its ORIGINAL text, so `@brand`, `!!!` and CAPS are still visible, plus the
VADER `Sentiment` of the prepared text) into
  * hashed sparse features: word unigrams (bigrams optional, `FeatureConfig.word_ngrams`), hashed with zlib.crc32
    (stable across processes, unlike the salted built-in `hash()`), binary, scaled to unit L2 norm;
  * named dense features: VADER scores, the shape of the mention (`SHAPE_NAMES`) and the complaint cues
    (`CUE_NAMES`);
  * the names of the cues that fired (for ops: why a mention was flagged).
`ComplaintModel` is a logistic regression over those features whose weights ship in `models/complaints.json`
(trained by scripts/train_complaints.py, which imports this very module so training and serving cannot drift).
Platt calibration is folded into the shipped weights, so `score` is directly a calibrated probability in [0, 1].
Runtime needs only the standard library and msgspec. See docs/complaints.md.
"""
from __future__ import annotations

import json
import math
import operator
import re
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import msgspec

from pipeline.sentiment import NEGATIVE_THRESHOLD, POSITIVE_THRESHOLD, Sentiment

#: Score at or above which a mention is a complaint. Chosen on the leave-one-domain-out (out-of-fold) predictions of
#: the dev data as the F1-maximising cut of the calibrated score (scripts/train_complaints.py prints it; a unit test
#: keeps it equal to the `threshold` stored in the shipped model). Configurable per call and per deployment.
DEFAULT_THRESHOLD: Final[float] = 0.38

#: Where the shipped weights live.
MODEL_PATH: Final[Path] = Path(__file__).resolve().parent / "models" / "complaints.json"

#: Characters of the original text that are looked at; as in sentiment.py, a hostile 1 MB post must not stall a
#: partition, and 1,000 characters keeps every normal post whole.
TEXT_CAP: Final[int] = 1000

#: Prefix that stands for "addressed to the brand" on mentions without an @handle (see `extract_features`).
VIRTUAL_HANDLE: Final[str] = "@brand "

#: Format version of models/complaints.json; bump when the feature extraction changes meaning.
MODEL_FORMAT: Final[int] = 1

#: Cues in the order they are reported. Each is a 0/1 dense feature of the model as well.
CUE_NAMES: Final[tuple[str, ...]] = (
    "negative_sentiment",  # VADER compound ≤ -0.05
    "negated_expectation",  # "still haven't", "never received", "no one", "can't log in", "doesn't work"
    "service_failure",  # refund, cancelled, delayed, broken, charged twice, on hold, outage, no signal …
    "addresses_brand",  # an @handle in the text (the brand is spoken to, not about)
    "negative_question",  # a question (?, why …, how come …) with negative sentiment or a failure cue
    "sarcasm",  # "thanks for nothing", "#not", or praise words next to a failure/repeat/unmet expectation
    "intensity",  # "!!", "?!", two or more ALL-CAPS words
    "frustration",  # exasperation at a service: ridiculous, unacceptable, joke, fed up, worst service, wtf …
    "repetition",  # again, every time, 3rd time, keeps crashing
    "waiting_time",  # "for 3 days", "2 hours", "since Monday", waiting
    "follow_up",  # chasing an earlier contact: "any update?", "I've already emailed", "please reply", ticket
    # Cues that argue AGAINST a complaint (negative weights in the shipped model):
    "inquiry",  # an information request: "how do I …", "can I …", "do you sell …", "when will … be back"
    "resolved",  # thanks for the help, it's working now, great service, love my …
)

#: Dense (named) features, in the order of the model's `dense` weights: VADER scores and the shape of the mention
#: (log length, starts with an @handle, an @handle that looks like a support account, number of handles, has a URL,
#: has a question mark) — `SHAPE_NAMES` — then one 0/1 feature per cue.
SHAPE_NAMES: Final[tuple[str, ...]] = (
    "vader_compound",
    "vader_neg",
    "vader_pos",
    "positive_sentiment",
    "strong_negative",
    "strong_positive",
    "log_length",
    "leading_handle",
    "support_handle",
    "handles",
    "has_url",
    "question_mark",
)
DENSE_NAMES: Final[tuple[str, ...]] = (*SHAPE_NAMES, *CUE_NAMES)
_CUE_SET: Final = frozenset(CUE_NAMES)
_CUE_ORDER: Final = {c: i for i, c in enumerate(CUE_NAMES)}

# --- text normalisation --------------------------------------------------------------------------------------------
# Same handle rule as sentiment.py: @ + word chars, the @ not preceded by a word char or @ (e-mail addresses are not
# handles). The lookbehind sits after the literal "@" so the engine can jump from "@" to "@" (8× faster).
_HANDLE_RE = re.compile(r"@(?<![\w@]@)\w+")
_URL_RE = re.compile(r"(?:https?://|www\.)\S+")
_TOKEN_RE = re.compile(r"[a-z_][a-z0-9_']*|\d+|[!?]")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
# Shouting: ALL-CAPS words of ≥ 3 letters not inside a handle (@ATT), a word or a URL path (lookbehind placed
# after the first letter, for speed).
_CAPS_WORD_RE = re.compile(r"[A-Z](?<![@\w/.][A-Z])[A-Z]{2,}\b")
_DIGIT_RE = re.compile(r"\d")
_HASHTAG_SARCASM_RE = re.compile(r"#(?:sarcasm|not|irony)\b|(?<!\S)/s\b")
_LEADING_HANDLE_RE = re.compile(r"\W{0,2}@\w")
# Customer-care accounts are named alike across brands: @AppleSupport, @USPSHelp, @comcastcares, @TopmanAskUs.
_SUPPORT_HANDLE_RE = re.compile(r"@\w*(?:help|support|care|service|askus|custserv|assist)", re.IGNORECASE)

# --- cue phrases ---------------------------------------------------------------------------------------------------
# Cues are found by ONE pass over the word tokens with a table of phrases (much faster than a dozen regexes).
# Phrase syntax: space-separated elements; `a|b` = one of these tokens, `$SET` = a token of a named set,
# `!SET` = any word token NOT in the set, `*` = any token, `~ing` = a word ending in "ing", `[x|y]` = optional.
# Cue names starting with "_" are internal ingredients of other cues and never reported.
_SETS: dict[str, frozenset[str]] = {
    "NEGDO": frozenset(
        "can't cant cannot won't wont doesn't doesnt don't dont didn't didnt couldn't couldnt wouldn't wouldnt "
        "haven't havent hasn't hasnt hadn't hadnt".split()
    ),
    "ADV": frozenset("yet even actually been be ever properly just still".split()),
    # After "can't"/"don't": verbs that do not express an unmet expectation ("can't wait", "don't know").
    "NOTEXP": frozenset(
        "wait believe imagine thank stop worry know think want need like mind care forget blame understand mean "
        "have matter hesitate recall remember agree feel usually really yet even actually been be ever properly "
        "just still".split()
    ),
    "BECOMP": frozenset(
        "working received arrived delivered resolved fixed refunded loading connecting responding available happy "
        "impressed acceptable showing updating updated sent answered helpful getting able allowed honoured honored "
        "processed credited applied returned replaced shipped dispatched here back there on up right correct "
        "valid".split()
    ),
    "STILL": frozenset(
        "not no nothing never waiting unable down broken missing can't cant cannot won't wont doesn't doesnt don't "
        "dont didn't didnt haven't havent hasn't hasnt".split()
    ),
    "NEVER": frozenset(
        "received arrived got came turned showed delivered heard replied responded called answered fixed resolved "
        "sent updated refunded work works worked again".split()
    ),
    "NOT": frozenset(
        "working received arrived delivered resolved fixed refunded loading connecting responding happy impressed "
        "acceptable heard".split()
    ),
    "NO": frozenset(
        "reply replies response answer update updates call calls callback email word sign show help refund "
        "resolution explanation apology contact feedback joy luck news progress acknowledgement "
        "acknowledgment".split()
    ),
    "FAILWORD": frozenset(
        "refund refunds refunded cancel cancelled canceled cancelling canceling cancellation cancellations cancels "
        "delay delayed delays broke broken breaks overcharged overcharging overcharge outage outages error errors "
        "crash crashes crashed crashing missing lost losing lose damaged faulty defective late wrong stuck "
        "disconnect disconnected disconnecting disconnects dropped dropping drops issue issues problem problems fault "
        "faults glitch glitches glitchy bug bugs buggy failed failing fails failure complain complaint complaints "
        "complained complaining compensation replacement overdue scam scams scammed scammers fraud fraudulent "
        "hacked suspended slow unusable freezes freezing rude ripped torn shrunk faded leak leaks leaking leaked "
        "unacceptable".split()
    ),
    "NOSERVICE": frozenset(
        "service signal internet connection wifi broadband power network reception coverage data tv phone".split()
    ),
    # Exasperation aimed at a service — not generic negative words (terrible, awful, hate), which VADER already
    # scores and which are just as common in tweets about the weather.
    "FRUSTRATION": frozenset(
        "ridiculous unacceptable disgrace disgraceful shocking appalling pathetic joke useless rubbish shambles wtf "
        "ffs omfg seriously incompetent incompetence shameful hopeless lousy unprofessional scandalous "
        "laughable".split()
    ),
    "PRAISE": frozenset(
        "thanks thx ty cheers great love loving awesome brilliant fantastic nice wonderful amazing perfect lovely "
        "excellent impressive appreciate".split()
    ),
    "GERUND": frozenset(
        "losing cancelling canceling delaying breaking ruining wasting ignoring overcharging charging leaving "
        "messing screwing keeping making forgetting sending stranding damaging never not".split()
    ),
    "NUMW": frozenset("0 one two three four five six seven eight nine ten several few many".split()),
    "UNIT": frozenset("min mins minutes hour hours hrs day days week weeks wks month months".split()),
    "DAY": frozenset(
        "monday tuesday wednesday thursday friday saturday sunday yesterday last 0 the early this".split()
    ),
    "CONTACTED": frozenset(
        "sent dm'd dmd dmed messaged emailed called rang phoned contacted tried reported asked raised complained "
        "spoken chased waited followed".split()
    ),
    "THANKS": frozenset("thanks thx ty cheers".split()),
    "HELPED": frozenset("the your all getting sorting fixing helping resolving replying".split()),
    "OK": frozenset("working sorted fixed resolved".split()),
}
_PHRASES: dict[str, tuple[str, ...]] = {
    "negated_expectation": (
        "$NEGDO [$ADV] !NOTEXP",
        "do|does|did|could|would|have|has|had not [$ADV] !NOTEXP",
        "unable to [$ADV] !NOTEXP",
        "failed|fails|refuse|refuses|refused to !NOTEXP",
        "isn't|isnt|aren't|arent|wasn't|wasnt|weren't|werent [$ADV] $BECOMP",
        "is|are|was|were|am|i'm|im not [$ADV] $BECOMP",
        "not|never being|been $BECOMP",
        "still $STILL",
        "never $NEVER",
        "not $NOT",
        "not good enough",
        "not had a|any",
        "not a single|word|peep",
        "no one|body",
        "nobody",
        "noone",
        "no $NO",
        "yet to receive|hear|get|see|be|arrive",
        "supposed to",
        "was|were promised",
        "promised me|us|a|to",
        "should have|of been|arrived|received|got",
    ),
    "service_failure": (
        "$FAILWORD",
        "charged|billed|charging [me] twice|double|again|wrong",
        "double charged|billed",
        "over charged|charging|charge",
        "on hold",
        "is|are|was|been|gone|went|going|still down|off",
        "not|stopped working",
        "no $NOSERVICE",
        "never arrived",
        "locked out",
        "won't|wont load|work|let|open|connect",
        "keep|keeps crashing|dropping|freezing|failing|cutting|disconnecting|logging|saying",
        "poor|bad service",
        "fell|falling apart",
    ),
    "frustration": (
        "$FRUSTRATION",
        "fed up",
        "sick|tired of",
        "fix it|this|your",
        "worst|terrible|awful|horrible|poor|bad|appalling customer|service|company|experience|support",
        "sort it|this out",
    ),
    "repetition": (
        "again|always|constantly|repeatedly|everytime",
        "every|each time",
        "0|second|third|fourth|fifth|sixth|multiple|several|many|numerous|countless times|time",
        "0 st|nd|rd|th time|times",
        "yet another",
        "once more",
        "over and over",
        "keep|keeps [on] ~ing",
    ),
    "waiting_time": (
        "waiting|waited|forever",
        "$NUMW $UNIT",
        "couple of $UNIT",
        "an hour",
        "a week|month",
        "since $DAY",
        "on hold",
        "for ages",
    ),
    "follow_up": (
        "any update|updates|news|progress|response|reply|word",
        "i've|ive|we've|already [already|just] $CONTACTED",
        "i|we have|had [already|just] $CONTACTED",
        "please reply|respond|answer|sort|fix",
        "please get back",
        "please look into",
        "please dm back",
        "get back to me|us",
        "not heard back",
        "chasing|awaiting|ticket",
        "follow|following up",
        "still waiting",
        "case number|no|ref",
        "reference number",
    ),
    "inquiry": (
        "how do|can|would|should i|we|you",
        "can i|we",
        "is it possible",
        "do you have|sell|ship|offer|know|deliver|do|carry|stock",
        "does it|this|the",
        "will it|this|there|the",
        "will you be",
        "when will the|this|these|it",
        "when will you have|release|restock|launch",
        "what is|are the",
        "where can i",
        "is there a|any",
        "are there any",
        "could you tell|let|confirm|advise",
        "would it|you",
        "i would like to",
        "i want|wanted|need to know|ask|find|buy|order|change|return|update|add|cancel",
        "just|was wondering",
    ),
    "resolved": (
        "$THANKS for $HELPED",
        "$THANKS so|very much",
        "thank you|u for $HELPED",
        "thank you|u so|very much",
        "it's|its|now|that's|thats|is|all|been $OK",
        "it is $OK",
        "got it $OK",
        "all good|sorted",
        "problem solved",
        "issue resolved",
        "excellent|amazing|brilliant|fantastic|wonderful|good|great|quick|fast|speedy [customer] "
        "service|response|support|help|job",
        "you|u rock",
        "you guys rock",
        "you're|youre the best",
        "you're|youre amazing|awesome|great",
        "you are amazing|awesome|great",
        "you are the best",
        "love my|the|this|these|it|you",
        "props to",
        "kudos",
        "shout out",
        "shoutout",
    ),
    "sarcasm": (
        "yeah right",
        "oh great|good|joy|wonderful|brilliant|lovely",
        "so much for",
        "just what i needed",
        "thanks for nothing",
        "thanks a lot",
        "gotta love",
        "got to love",
        "love how|that|when",
        "love it when",
        "nice one",
        "cheers for that",
        "what a joke|surprise",
        "congrats|congratulations on being|making",
    ),
    "_praise": ("$PRAISE", "thank you|u", "well done", "good job"),
    "_gerund": ("for $GERUND", "for * $GERUND", "for * * $GERUND"),
    "_qword": (
        "why|wtf",
        "how come",
        "what's|whats going|happening",
        "what's|whats up with",
        "when will|is|are|can|do|does",
        "where is|are",
    ),
}

# Compiled element kinds: (0, set) token in set; (1, set) word token not in set; (2, None) any token;
# (3, suffix) word ending in suffix.
_Element = tuple[int, Any]


def _compile_element(spec: str) -> _Element:
    if spec == "*":
        return (2, None)
    if spec.startswith("~"):
        return (3, spec[1:])
    if spec.startswith("!"):
        return (1, _SETS[spec[1:]])
    if spec.startswith("$"):
        return (0, _SETS[spec[1:]])
    return (0, frozenset(spec.split("|")))


def _compile_phrases() -> dict[str, list[tuple[tuple[_Element, ...], str]]]:
    """First token → [(remaining elements, cue)], with optional elements expanded into both variants."""
    table: dict[str, list[tuple[tuple[_Element, ...], str]]] = {}
    for cue, phrases in _PHRASES.items():
        for phrase in phrases:
            variants: list[list[str]] = [[]]
            for part in phrase.split():
                if part.startswith("[") and part.endswith("]"):
                    variants = [v + extra for v in variants for extra in ([], [part[1:-1]])]
                else:
                    variants = [v + [part] for v in variants]
            for parts in variants:
                first = _compile_element(parts[0])
                if first[0] != 0:
                    raise ValueError(f"phrase {phrase!r} must start with literal tokens or a $SET")
                rest = tuple(_compile_element(p) for p in parts[1:])
                for token in sorted(first[1]):
                    table.setdefault(token, []).append((rest, cue))
    return table


_PHRASE_TABLE: Final = _compile_phrases()


def match_phrases(toks: list[str]) -> set[str]:
    """Cue names (internal ones included) whose phrases occur in the token list."""
    hits: set[str] = set()
    n = len(toks)
    table = _PHRASE_TABLE
    for i, tok in enumerate(toks):
        entries = table.get(tok)
        if entries is None:
            continue
        for rest, cue in entries:
            if cue in hits or i + len(rest) >= n:
                continue
            j = i + 1
            for kind, arg in rest:
                t = toks[j]
                if kind == 0:
                    if t not in arg:
                        break
                elif kind == 1:
                    if t in arg or not t[0].isalpha():
                        break
                elif kind == 3:
                    if not t.endswith(arg) or len(t) <= len(arg) + 1:
                        break
                j += 1
            else:
                hits.add(cue)
    return hits


class ComplaintScore(msgspec.Struct, frozen=True):
    """Result for one mention: `score` is a calibrated probability in [0, 1] that the mention is a complaint,
    `is_complaint` is `score ≥ threshold`, `cues` lists the complaint cues that fired (see `CUE_NAMES`)."""

    is_complaint: bool
    score: float
    cues: list[str]


class FeatureConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How the sparse features are built; stored in the model file so serving uses the training settings."""

    n_buckets: int = 1 << 18
    word_ngrams: int = 1  # 1 = unigrams, 2 = + bigrams (nested LODO F1 0.807 vs 0.804, but ~20 % slower)


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
        handles = _HANDLE_RE.findall(scan)
        if handles:
            scan = _HANDLE_RE.sub(" _user_ ", scan)
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


def detect_cues(text: str, tokenized: Tokenized, sentiment: Sentiment) -> list[str]:
    """Names of the complaint cues that fire, in `CUE_NAMES` order: `text` is the original text (for CAPS),
    `tokenized` its `tokenize` result, `sentiment` VADER's scores."""
    return _detect_cues(text, tokenized.low, tokenized.tokens, tokenized.handles, sentiment)


def _detect_cues(text: str, low: str, toks: list[str], handles: list[str], sentiment: Sentiment) -> list[str]:
    hits = match_phrases(toks)
    negative = sentiment.compound <= NEGATIVE_THRESHOLD
    negated = "negated_expectation" in hits
    if negative:
        hits.add("negative_sentiment")
    if handles:
        hits.add("addresses_brand")
    if (negative or negated or "service_failure" in hits) and ("?" in low or "_qword" in hits):
        hits.add("negative_question")
    if (("#" in low or "/s" in low) and _HASHTAG_SARCASM_RE.search(low) is not None) or (
        "_praise" in hits and ("repetition" in hits or negated or "_gerund" in hits)
    ):
        hits.add("sarcasm")
    if (
        "!!" in low
        or "?!" in low
        or "!?" in low
        or len(_CAPS_WORD_RE.findall(text, 0, TEXT_CAP)) >= 2
    ):
        hits.add("intensity")
    return sorted(hits & _CUE_SET, key=_CUE_ORDER.__getitem__)


def analyse(
    text: str, sentiment: Sentiment, config: FeatureConfig, addressed: bool = False
) -> tuple[set[str], list[float], list[str]]:
    """The one feature extraction, shared by training (`extract_features`) and serving (`ComplaintModel.score`):
    the distinct sparse feature strings (word unigrams `tok`, bigrams `tok1 tok2`, `<s>` before the first), the
    `SHAPE_NAMES` values and the cues that fired (in `CUE_NAMES` order; each is also a 0/1 dense feature). See
    `extract_features` for the arguments."""
    if addressed and _HANDLE_RE.search(text, 0, TEXT_CAP) is None:
        text = VIRTUAL_HANDLE + text
    low, toks, handles, urls = _tokenize(text)
    # Unigrams are the tokens themselves, bigrams "a b" (tokens never contain spaces, so the two cannot clash).
    feats = set(toks)
    if config.word_ngrams >= 2 and toks:
        feats.add("<s> " + toks[0])
        feats.update([a + " " + b for a, b in zip(toks, toks[1:])])
    cues = _detect_cues(text, low, toks, handles, sentiment)
    support = 0.0
    for handle in handles:
        if _SUPPORT_HANDLE_RE.match(handle) is not None:
            support = 1.0
            break
    compound = sentiment.compound
    shape = [
        compound,
        sentiment.neg,
        sentiment.pos,
        1.0 if compound >= POSITIVE_THRESHOLD else 0.0,
        1.0 if compound <= -0.5 else 0.0,
        1.0 if compound >= 0.5 else 0.0,
        math.log1p(len(toks)) / 4.0,  # ≈ 1 for a 50-token post
        1.0 if handles and _LEADING_HANDLE_RE.match(text) is not None else 0.0,
        support,
        min(len(handles), 3) / 3.0,
        1.0 if urls else 0.0,
        1.0 if "?" in low else 0.0,
    ]
    return feats, shape, cues


def extract_features(text: str, sentiment: Sentiment, config: FeatureConfig, addressed: bool = False) -> Features:
    """Features of one mention, as the model sees them: `text` is the ORIGINAL text (handles, URLs, case intact),
    `sentiment` its VADER scores (computed on the prepared text). `addressed=True` says the mention is addressed to
    the brand although it may carry no @handle (an e-mail, a support ticket, a review): such a text is read as if
    it began with a brand handle."""
    feats, shape, cues = analyse(text, sentiment, config, addressed)
    fired = set(cues)
    dense = shape + [1.0 if c in fired else 0.0 for c in CUE_NAMES]
    n = config.n_buckets
    buckets = [stable_bucket(f, n) for f in sorted(feats)]
    value = 1.0 / math.sqrt(len(feats)) if feats else 0.0
    return Features(buckets=buckets, bucket_value=value, dense=dense, cues=cues)


class ComplaintModel:
    """Logistic complaint model over `analyse`/`extract_features` (weights from models/complaints.json)."""

    __slots__ = ("config", "bias", "weights", "dense_weights", "threshold", "meta", "_memo", "_shape_w", "_cue_w")

    #: Bound of the per-model memo feature string → weight (a pure cache; cleared when full).
    MEMO_MAX = 200_000

    def __init__(
        self,
        *,
        config: FeatureConfig,
        bias: float,
        weights: dict[int, float],
        dense_weights: list[float],
        threshold: float = DEFAULT_THRESHOLD,
        meta: dict[str, Any] | None = None,
    ) -> None:
        if len(dense_weights) != len(DENSE_NAMES):
            raise ValueError(f"model has {len(dense_weights)} dense weights, this code expects {len(DENSE_NAMES)}")
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        self.config = config
        self.bias = bias
        self.weights = weights
        self.dense_weights = dense_weights
        self.threshold = threshold
        self.meta = meta or {}
        self._memo: dict[str, float] = {}
        self._shape_w = dense_weights[: len(SHAPE_NAMES)]
        self._cue_w = dict(zip(CUE_NAMES, dense_weights[len(SHAPE_NAMES) :]))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComplaintModel:
        """Model from the decoded JSON of `to_dict` (raises ValueError on a wrong format or feature set)."""
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"complaint model format {data.get('format')!r}, expected {MODEL_FORMAT}")
        if tuple(data.get("dense_names", ())) != DENSE_NAMES:
            raise ValueError("complaint model was trained on other dense features; retrain it")
        config = msgspec.convert(data["config"], FeatureConfig)
        buckets, values = data["sparse"]["buckets"], data["sparse"]["weights"]
        return cls(
            config=config,
            bias=float(data["bias"]),
            weights={int(b): float(w) for b, w in zip(buckets, values)},
            dense_weights=[float(w) for w in data["dense_weights"]],
            threshold=float(data["threshold"]),
            meta=data.get("meta", {}),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what models/complaints.json holds)."""
        items = sorted(self.weights.items())
        return {
            "format": MODEL_FORMAT,
            "config": msgspec.to_builtins(self.config),
            "dense_names": list(DENSE_NAMES),
            "bias": self.bias,
            "dense_weights": self.dense_weights,
            "threshold": self.threshold,
            "sparse": {"buckets": [b for b, _ in items], "weights": [w for _, w in items]},
            "meta": self.meta,
        }

    @classmethod
    def load(cls, path: str | Path) -> ComplaintModel:
        """Model from a JSON file written by scripts/train_complaints.py."""
        with open(path, "rb") as fh:
            return cls.from_dict(json.load(fh))

    @classmethod
    def load_default(cls) -> ComplaintModel:
        """The shipped model (pipeline/models/complaints.json), loaded once per process."""
        return load_default()

    def decision(self, features: Features) -> float:
        """Calibrated log-odds of a complaint for `extract_features` output (the training view of the model)."""
        get = self.weights.get
        sparse = sum([get(b, 0.0) for b in features.buckets]) * features.bucket_value
        return self.bias + sparse + sum([w * x for w, x in zip(self.dense_weights, features.dense)])

    def _sparse_sum(self, feats: set[str]) -> float:
        """Sum of the weights of the feature strings' buckets, through the memo feature string → weight."""
        memo = self._memo
        values = list(map(memo.get, feats))
        if None in values:
            if len(memo) > self.MEMO_MAX:
                memo.clear()
            n, weights = self.config.n_buckets, self.weights
            values = []
            for f in feats:
                w = memo.get(f)
                if w is None:
                    w = memo[f] = weights.get(stable_bucket(f, n), 0.0)
                values.append(w)
        return sum(values)

    def score(
        self, text: str, sentiment: Sentiment, threshold: float | None = None, *, addressed: bool = False
    ) -> ComplaintScore:
        """Complaint score of one mention: `text` is the original text, `sentiment` its VADER scores
        (`pipeline.sentiment.score_sentiment(text)`); `threshold` defaults to the model's (DEFAULT_THRESHOLD).
        `addressed=True` for mentions addressed to the brand without an @handle (e-mail, support, reviews): the model
        learned that tweets at a brand are far likelier complaints than tweets about anything, so a handle-less text
        otherwise scores low (docs/complaints.md, known failure cases)."""
        feats, shape, cues = analyse(text, sentiment, self.config, addressed)
        cue_w = self._cue_w
        z = self.bias + sum(map(operator.mul, self._shape_w, shape)) + sum([cue_w[c] for c in cues])
        if feats:
            z += self._sparse_sum(feats) / math.sqrt(len(feats))
        # Clamp so exp() cannot overflow on absurd inputs; ±35 is already 1 - 1e-15.
        z = 35.0 if z > 35.0 else -35.0 if z < -35.0 else z
        p = 1.0 / (1.0 + math.exp(-z))
        cut = self.threshold if threshold is None else threshold
        return ComplaintScore(is_complaint=p >= cut, score=p, cues=cues)


@lru_cache(maxsize=1)
def load_default() -> ComplaintModel:
    """The shipped model (pipeline/models/complaints.json), loaded once per process."""
    return ComplaintModel.load(MODEL_PATH)


def score_complaint(
    text: str, sentiment: Sentiment, threshold: float | None = None, *, addressed: bool = False
) -> ComplaintScore:
    """`load_default().score(text, sentiment, threshold, addressed=addressed)`."""
    return load_default().score(text, sentiment, threshold, addressed=addressed)

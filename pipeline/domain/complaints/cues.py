"""Complaint cues: the phrase table and the rules that say which cues fire in a mention (pure, standard library).

Used by `pipeline.domain.complaints.features.analyse`; each cue is a 0/1 dense feature of the complaint model and is
reported in `ComplaintScore.cues` so ops see why a mention was flagged. See docs/complaints.md.
"""
from __future__ import annotations

import re
from typing import Any, Final

from pipeline.domain.sentiment import NEGATIVE_THRESHOLD, Sentiment

#: Characters of the original text that are looked at; as in sentiment.py, a hostile 1 MB post must not stall a
#: partition, and 1,000 characters keeps every normal post whole.
TEXT_CAP: Final[int] = 1000

#: Cues in the order they are reported. Each is a 0/1 dense feature of the model as well.
CUE_NAMES: Final[tuple[str, ...]] = (
    "negative_sentiment",  # VADER compound ≤ -0.05
    "negated_expectation",  # "still haven't", "never received", "no one", "can't log in", "doesn't work"
    "service_failure",  # refund, cancelled, delayed, broken, charged twice, on hold, outage, no signal …
    "addresses_brand",  # addressed to a brand: its or a care handle, or an addressed channel (not any @handle)
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
    "praise",  # thanks, great, awesome, impressed, well done, kudos … — not negated ("not happy"), not sarcastic
)
_CUE_SET: Final = frozenset(CUE_NAMES)
_CUE_ORDER: Final = {c: i for i, c in enumerate(CUE_NAMES)}

# Shouting: ALL-CAPS words of ≥ 3 letters not inside a handle (@ATT), a word or a URL path (lookbehind placed
# after the first letter, for speed).
_CAPS_WORD_RE = re.compile(r"[A-Z](?<![@\w/.][A-Z])[A-Z]{2,}\b")
_HASHTAG_SARCASM_RE = re.compile(r"#(?:sarcasm|not|irony)\b|(?<!\S)/s\b")

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
    # Praise and gratitude for the `praise` cue (a superset of PRAISE, which also serves the sarcasm rule).
    "PRAISE2": frozenset(
        "thanks thank thx ty cheers great love loved loving awesome brilliant fantastic nice wonderful amazing "
        "perfect lovely excellent impressive impressed appreciate appreciated appreciative helpful glad happy "
        "pleased kudos props shoutout best friendly smooth superb outstanding stellar fabulous terrific "
        "grateful thankful delighted enjoyed enjoying congrats congratulations favorite favourite "
        "recommend".split()
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
        "is|are there",
        "is|are the|it|this|my|your * open|available|out|included|possible|free|starting|back",
        "quick question",
        "does|do anyone|anybody know",
        "anyone|anybody know|tried|use|used",
        "do you know",
        "i'd|id like to",
        "could|can you send|update|change|confirm|check|add|remove|cancel|close|unsubscribe",
        "please send|update|change|confirm|add|remove|unsubscribe",
        "what time|day|date|gate|terminal",
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
    "_praise2": ("$PRAISE2", "well done", "good|great job|work", "shout out", "made my day", "keep it up",
                 "five|0 stars", "will use * again"),
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


def detect_cue_names(text: str, low: str, toks: list[str], addressed: bool, sentiment: Sentiment) -> list[str]:
    """Names of the cues that fire, in `CUE_NAMES` order: `text` is the original text (for CAPS), `low` and `toks`
    its lowercased form and word tokens (`pipeline.domain.complaints.features.tokenize`), `addressed` whether the mention is
    addressed to a brand (a brand's or a care handle, or a channel addressed by construction), `sentiment` VADER's."""
    hits = match_phrases(toks)
    negative = sentiment.compound <= NEGATIVE_THRESHOLD
    negated = "negated_expectation" in hits
    if negative:
        hits.add("negative_sentiment")
    if addressed:
        hits.add("addresses_brand")
    if (negative or negated or "service_failure" in hits) and ("?" in low or "_qword" in hits):
        hits.add("negative_question")
    if (("#" in low or "/s" in low) and _HASHTAG_SARCASM_RE.search(low) is not None) or (
        "_praise" in hits and (negated or "_gerund" in hits
                               or ("repetition" in hits and (negative or "service_failure" in hits)))
    ):
        hits.add("sarcasm")
    if "_praise2" in hits and not negated and "sarcasm" not in hits:
        hits.add("praise")
    if (
        "!!" in low
        or "?!" in low
        or "!?" in low
        or len(_CAPS_WORD_RE.findall(text, 0, TEXT_CAP)) >= 2
    ):
        hits.add("intensity")
    return sorted(hits & _CUE_SET, key=_CUE_ORDER.__getitem__)

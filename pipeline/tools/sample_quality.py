"""How well the complaint flag matches the demo sample's ground truth (issue 24: alerts ops can trust).

The sample generator (`pipeline.tools.sample.generator.build_sample`) knows the intent each mention was written with
(complaint, praise, question, neutral, negative_other); only "complaint" is a complaint. `intent_confusion` compares
those intents with `is_complaint` flags — from ClickHouse after `make demo`, or from `offline_flags`, which runs the
first stage's pure code (`pipeline.domain.enrich.MentionProcessor`) over the sample's lines with the sample's
brands.yml, as the demo's worker does. Pure apart from loading the bundled brands file and the shipped model.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Final, Optional

import msgspec

from pipeline.contract.records import DeadLetter
from pipeline.data import sample_dir
from pipeline.domain.enrich import MentionProcessor, RawMessage
from pipeline.settings import Settings
from pipeline.tools.sample.config import INTENTS
from pipeline.tools.sample.generator import build_sample
from pipeline.tools.sample.summary import Sample

#: The one intent that is a complaint; every other intent flagged is a false alarm.
COMPLAINT: Final = "complaint"
#: The brands `socialpulse demo` installs into the data dir (`pipeline.ops.demo.install_sample_brands`).
SAMPLE_BRANDS_FILE: Final = sample_dir() / "brands.yml"


class Share(msgspec.Struct, frozen=True):
    """`flagged` of `total` mentions flagged as complaints."""

    flagged: int
    total: int

    @property
    def share(self) -> Optional[float]:
        return self.flagged / self.total if self.total else None


class Scores(msgspec.Struct, frozen=True):
    """Confusion counts of one group of mentions. `precision` is None when nothing was flagged, `recall` None when
    the group has no complaint."""

    mentions: int
    complaints: int        # mentions whose intent is "complaint"
    flagged: int           # mentions flagged is_complaint
    true_positives: int    # both

    @property
    def precision(self) -> Optional[float]:
        return self.true_positives / self.flagged if self.flagged else None

    @property
    def recall(self) -> Optional[float]:
        return self.true_positives / self.complaints if self.complaints else None


class SampleQuality(msgspec.Struct, frozen=True):
    """The flags measured against the intents, over the mentions that have both. `by_intent` holds every intent
    of the sample (and any other intent met), `by_channel` the channels of the mention ids ("<channel>:<id>").
    `missing`: mentions with an intent but no flag (lost on the way); `unlabelled`: flags of mentions without an
    intent (not scored: another test's mentions, junk)."""

    overall: Scores
    by_intent: dict[str, Share]
    by_channel: dict[str, Scores]
    missing: int = 0
    unlabelled: int = 0

    @property
    def precision(self) -> Optional[float]:
        return self.overall.precision

    @property
    def recall(self) -> Optional[float]:
        return self.overall.recall


def _scores(pairs: Iterable[tuple[str, bool]]) -> Scores:
    mentions = complaints = flagged = tp = 0
    for intent, flag in pairs:
        mentions += 1
        complaints += intent == COMPLAINT
        flagged += flag
        tp += flag and intent == COMPLAINT
    return Scores(mentions=mentions, complaints=complaints, flagged=flagged, true_positives=tp)


def channel_of(mention_id: str) -> str:
    """The channel part of a mention id: "twitter:tw-1" → "twitter"."""
    return mention_id.partition(":")[0]


def intent_confusion(intents: Mapping[str, str], flagged: Mapping[str, bool]) -> SampleQuality:
    """Precision and recall of `flagged` (mention_id → is_complaint) against `intents` (mention_id → intent; only
    "complaint" is a complaint), overall, per intent (flagged share) and per channel, over the mention ids in both."""
    pairs = [(mid, intent, bool(flagged[mid])) for mid, intent in intents.items() if mid in flagged]
    by_intent: dict[str, list[int]] = {i: [0, 0] for i in INTENTS}
    by_channel: dict[str, list[tuple[str, bool]]] = {}
    for mid, intent, flag in pairs:
        counts = by_intent.setdefault(intent, [0, 0])
        counts[0] += flag
        counts[1] += 1
        by_channel.setdefault(channel_of(mid), []).append((intent, flag))
    return SampleQuality(
        overall=_scores((intent, flag) for _, intent, flag in pairs),
        by_intent={i: Share(flagged=f, total=t) for i, (f, t) in by_intent.items()},
        by_channel={ch: _scores(v) for ch, v in sorted(by_channel.items())},
        missing=len(intents) - len(pairs),
        unlabelled=sum(1 for mid in flagged if mid not in intents))


def _pct(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def render(q: SampleQuality, title: str = "complaint flags vs the sample's intents") -> str:
    """A plain-text report of `q` for people (logs, test failures)."""
    o = q.overall
    lines = [f"{title}: precision {_pct(o.precision)} ({o.true_positives}/{o.flagged} flagged are complaints), "
             f"recall {_pct(o.recall)} ({o.true_positives}/{o.complaints} complaints flagged), "
             f"{o.mentions} mentions" + (f", {q.missing} missing" if q.missing else "")
             + (f", {q.unlabelled} without intent ignored" if q.unlabelled else "")]
    lines.append("  flagged by intent: " + ", ".join(
        f"{intent} {s.flagged}/{s.total}" + (f" ({s.share:.1%})" if s.share is not None else "")
        for intent, s in q.by_intent.items()))
    width = max((len(ch) for ch in q.by_channel), default=7)
    lines.append(f"  {'channel':<{width}}  mentions  complaints  flagged  precision  recall")
    for ch, s in q.by_channel.items():
        lines.append(f"  {ch:<{width}}  {s.mentions:>8}  {s.complaints:>10}  {s.flagged:>7}  "
                     f"{_pct(s.precision):>9}  {_pct(s.recall):>6}")
    return "\n".join(lines)


def demo_processor(brands_file: str | Path = SAMPLE_BRANDS_FILE, settings: Optional[Settings] = None
                   ) -> MentionProcessor:
    """The first stage's processor exactly as a worker builds it (`MentionProcessor.from_settings`) with `settings`
    (default: the defaults `make demo` runs with) and the brands of `brands_file` (default: the sample's)."""
    return MentionProcessor.from_settings(replace(settings or Settings(), brands_file=str(brands_file)))


def offline_flags(lines: Iterable[bytes], processor: MentionProcessor) -> dict[str, bool]:
    """mention_id → is_complaint of every valid line, in order through one `processor` (its handle learner sees
    the stream as one worker would); a repeated mention keeps its first result, as the detect stage's dedupe does."""
    flags: dict[str, bool] = {}
    for offset, line in enumerate(lines):
        result = processor.process(RawMessage("mentions.raw", 0, offset, 0, None, line), lambda _key: None,
                                   "1970-01-01T00:00:00.000Z")
        if not isinstance(result, DeadLetter):
            flags.setdefault(result.mention_id, result.complaint.is_complaint)
    return flags


def offline_quality(sample: Optional[Sample] = None, brands: str | Path = SAMPLE_BRANDS_FILE,
                    settings: Optional[Settings] = None) -> SampleQuality:
    """`intent_confusion` of the flags the first stage gives the sample (default: `build_sample()`, the demo's) with
    the brands file `brands` (default: the sample's brands.yml, as `make demo` installs it) and `settings` (default:
    the defaults); only mentions with an intent count."""
    sample = sample if sample is not None else build_sample()
    flags = offline_flags(sample.mention_lines, demo_processor(brands, settings))
    return intent_confusion(sample.intents, {mid: f for mid, f in flags.items() if mid in sample.intents})

"""The per-mention transformation of the first stage: raw bytes → EnrichedMention or DeadLetter (pure).

Scoring (VADER + complaint model), brand assignment (`pipeline.domain.brands`, for mentions that arrive without `brand`)
and identity resolution happen here, before the re-key by customer id; history, alerts and dedupe happen in the
detect stage (`pipeline.domain.escalation`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Union

from pipeline.contract.records import MENTION_FIELDS, ComplaintInfo, DeadLetter, EnrichedMention, Identity
from pipeline.domain.addressing import Addressing, HandleLearner
from pipeline.domain.brands import NO_BRANDS, Brands, load_brands
from pipeline.domain.complaints.model import ComplaintModel
from pipeline.domain.complaints.prior import ANY_CHANNEL, PriorTracker, adjust, parse_priors, prior_shift, shifts_for
from pipeline.domain.identity import resolve_author
from pipeline.domain.mention import Rejected, dead_letter, decode_mention, iso_from_ms
from pipeline.domain.sentiment import prepare_text, score_prepared
from pipeline.settings import Settings

Lookup = Callable[[str], Optional[Identity]]


@dataclass(frozen=True)
class RawMessage:
    """A Kafka message as the first stage sees it."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: Optional[bytes]
    value: Optional[bytes]


class MentionProcessor:
    """Validates, normalises, scores and resolves mentions. One per worker process (holds the loaded model, the
    brands registry and the addressing rules; `brands` defaults to none: no brand is assigned from the text, and a
    mention is addressed by its channel, a care handle, a handle resembling its `brand` or a learned handle)."""

    def __init__(self, model: ComplaintModel, *, brands: Brands = NO_BRANDS, score_cap: int = 1000,
                 threshold: Optional[float] = None, learner: Optional[HandleLearner] = None,
                 priors: str = ""):
        self.model = model
        self.brands = brands
        self.addressing = Addressing(brands, learner)
        self.score_cap = score_cap
        self.threshold = threshold
        # Recalibration for the stream's complaint share (pipeline.domain.complaints.prior): fixed shifts per
        # channel, or `auto` (the tracker's running estimate). The tracker always runs: its estimate is reported.
        self.auto_prior = priors.strip().lower() == "auto"
        self.shifts = {} if self.auto_prior else shifts_for(parse_priors(priors), model.training_prior)
        self.tracker = PriorTracker(model.training_prior)

    def shift_for(self, channel: str) -> float:
        """Log-odds shift of the complaint score on `channel` (0 without a configured or estimated prior)."""
        if self.auto_prior:
            estimate = self.tracker.estimate(channel)
            return 0.0 if estimate is None else prior_shift(estimate, self.model.training_prior)
        shifts = self.shifts
        return shifts.get(channel, shifts.get(ANY_CHANNEL, 0.0)) if shifts else 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> MentionProcessor:
        """The worker's processor: the shipped complaint model, the brands of `load_brands(settings)` (raises
        BrandsError, a ValueError, naming the file and the mistake), the score cap and threshold of the settings and
        a `HandleLearner` (handles that many mentions of a brand address) unless `complaint_learn_handles` is off."""
        learner = HandleLearner() if settings.complaint_learn_handles else None
        return cls(ComplaintModel.load_default(), brands=load_brands(settings), score_cap=settings.score_text_cap,
                   threshold=settings.complaint_threshold, learner=learner, priors=settings.complaint_priors)

    def is_addressed(self, text: str, channel: str, brand: Optional[str] = None) -> bool:
        """Whether a mention is addressed to a brand (`pipeline.domain.addressing.Addressing`): its channel is
        addressed by construction, the text names a configured or care handle, a handle resembling `brand`, or a
        handle that many mentions of `brand` address; any other @handle (a person) does not count."""
        return self.addressing.addressed(text, channel, brand)

    def process(self, msg: RawMessage, lookup: Lookup, now_iso: str) -> Union[EnrichedMention, DeadLetter]:
        """One message in, one EnrichedMention (to re-key by customer) or one DeadLetter out; never raises."""
        try:
            m = decode_mention(msg.value)
        except Rejected as exc:
            return dead_letter(exc.reason, "ingest", msg.topic, msg.partition, msg.offset, msg.key, msg.value, now_iso)
        try:
            sentiment = score_prepared(prepare_text(m.text, self.score_cap))
            brand = m.brand or self.brands.brand_for(m.text, m.channel, m.author)
            rules = self.addressing
            handles = rules.handles(m.text)  # once, for the learner and the rules
            rules.observe(m.text, brand, m.author, handles)
            shift = self.shift_for(m.channel)
            complaint = self.model.score(m.text[: self.score_cap * 2], sentiment, self.threshold,
                                         addressed=rules.addressed(m.text, m.channel, brand, handles), shift=shift)
            self.tracker.add(m.channel, complaint.score if not shift else adjust(complaint.score, -shift))
            who = resolve_author(m, lookup)
        except Exception as exc:  # noqa: BLE001 - a bug on one input must not stop the partition
            return dead_letter(f"processing failed: {type(exc).__name__}: {exc}", "score", msg.topic, msg.partition,
                               msg.offset, msg.key, msg.value, now_iso)
        kept = {name: getattr(m, name) for name in MENTION_FIELDS}  # the optional fields, as sent
        kept["brand"] = brand
        return EnrichedMention(
            mention_id=f"{m.channel}:{m.id}", id=m.id, channel=m.channel, author=m.author, text=m.text,
            created_at=m.created_at or iso_from_ms(msg.timestamp_ms), sentiment=sentiment,
            customer_id=who.customer_id, is_prospect=who.is_prospect, customer=who.context,
            complaint=ComplaintInfo(is_complaint=complaint.is_complaint, score=complaint.score,
                                    cues=list(complaint.cues)),
            processed_at=now_iso, **kept)

"""agents/ingest.py and addressing: the reason of each mention counted once per batch (and computed once per mention),
the learned-handles gauge, the warm start of the learner (and its one warning line when ClickHouse is away), and the
complaint-share estimate's gauge and log line."""
from __future__ import annotations

import asyncio
import json
import logging
from types import SimpleNamespace

from agents.ingest import MAX_BRAND_LABELS, CountingAddressing, IngestStage
from pipeline import metrics
from pipeline.adapters.clickhouse.brand_handles import AddressedHandle
from pipeline.contract import topics
from pipeline.domain.addressing import Addressing, HandleLearner
from pipeline.domain.brands import Brand, Brands
from pipeline.domain.complaints.model import ComplaintModel
from pipeline.domain.enrich import MentionProcessor
from pipeline.settings import Settings
from tests.unit.agents.conftest import Event, RecordingOutbox

S = Settings(partitions=2)
BRANDS = Brands([Brand("Brewly", {"twitter": ("brewly",)})])


class StubModel:
    """The shipped model, recording the `addressed` it is given (whatever else `score` takes)."""

    def __init__(self) -> None:
        self.model = ComplaintModel.load_default()
        self.addressed: list[bool] = []

    def __getattr__(self, name: str):
        return getattr(self.model, name)

    def score(self, *args, addressed: bool = False, **kwargs):
        self.addressed.append(addressed)
        return self.model.score(*args, addressed=addressed, **kwargs)


def raw(offset: int, text: str, *, brand: str = "", channel: str = "twitter", author: str = "ann") -> Event:
    doc = {"id": str(offset), "channel": channel, "author": author, "text": text,
           "created_at": "2026-11-30T10:00:00Z"} | ({"brand": brand} if brand else {})
    message = SimpleNamespace(topic=topics.RAW, partition=0, offset=offset, key=b"k", value=json.dumps(doc).encode(),
                              timestamp=1_764_500_000.0)
    return Event(message)  # type: ignore[arg-type]


def junk(offset: int) -> Event:
    event = raw(offset, "")
    event.message.value = b"{not json"
    return event


def counted() -> dict[str, float]:
    return {r: metrics.MENTIONS_ADDRESSED.labels(r)._value.get() for r in metrics.ADDRESSING_REASONS}


def processor(learner=None, model=None) -> MentionProcessor:
    return MentionProcessor(model or StubModel(), brands=BRANDS,
                            learner=learner or HandleLearner(min_mentions=2, min_authors=2, min_share=0.0))


def test_reasons_are_counted_per_batch_and_computed_once_per_mention(monkeypatch):
    model = StubModel()
    stage = IngestStage(S, processor(model=model), {}.get)
    assert isinstance(stage.processor.addressing, CountingAddressing)
    calls = []
    original = Addressing.reason
    monkeypatch.setattr(Addressing, "reason", lambda self, *a: calls.append(a) or original(self, *a))
    before = counted()
    events = [raw(1, "@brewly cold again"), raw(2, "@AppleSupport help"), raw(3, "refund please", channel="email"),
              raw(4, "@AmericanAir lost my bag", brand="American"), raw(5, "@jo so sorry", brand="American"),
              raw(6, "@aa_crew no one at the gate", brand="American", author="a1"),
              raw(7, "@aa_crew still no one", brand="American", author="a2"), junk(8)]
    asyncio.run(stage.process(RecordingOutbox(), events, "2026-11-30T12:00:00.000Z"))
    after = counted()
    assert {r: after[r] - before[r] for r in after} == {"configured": 1, "care": 1, "channel": 1, "resembles": 1,
                                                        "none": 2, "learned": 1}
    assert len(calls) == 7                                  # once per scored mention, none for the dead letter
    assert model.addressed == [True, True, True, True, False, False, True]
    assert stage.addressing.counts == {}                    # handed over


def test_brands_configured_gauge():
    IngestStage(S, processor(), {}.get)
    assert metrics.BRANDS_CONFIGURED._value.get() == 1
    IngestStage(S, MentionProcessor(StubModel()), {}.get)
    assert metrics.BRANDS_CONFIGURED._value.get() == 0


def test_learned_handles_gauge_is_bounded_and_drops_brands_without_any():
    metrics.BRAND_HANDLES_LEARNED.clear()  # the registry is per process: earlier tests' stages left their brands
    metrics.BRAND_TOP_HANDLES.clear()
    learner = HandleLearner(min_mentions=1, min_authors=1, min_share=0.0)
    stage = IngestStage(S, processor(learner), {}.get)
    for i in range(MAX_BRAND_LABELS + 5):
        learner.observe(f"brand{i:03d}", ["@desk"], "a")
    learner.observe("brand000", ["@desk2"], "a")
    stage.observe_learned()
    exported = {s.labels["brand"]: s.value for m in metrics.REGISTRY.collect()
                if m.name == "socialpulse_brand_handles_learned" for s in m.samples}
    assert len(exported) == MAX_BRAND_LABELS and exported["brand000"] == 2
    top = {(s.labels["brand"], s.labels["handle"]): s.value for m in metrics.REGISTRY.collect()
           if m.name == "socialpulse_brand_addressed_handle_mentions" for s in m.samples}
    assert top[("brand000", "desk")] == 1 and top[("brand000", "desk2")] == 1
    assert len(top) == MAX_BRAND_LABELS + 1  # the shown brands only, at most TOP_HANDLES each
    stage.addressing.learner = HandleLearner()             # nothing learned any more
    stage.observe_learned()
    assert not [s for m in metrics.REGISTRY.collect() if m.name == "socialpulse_brand_handles_learned"
                for s in m.samples]
    assert not [s for m in metrics.REGISTRY.collect() if m.name == "socialpulse_brand_addressed_handle_mentions"
                for s in m.samples]


def test_warm_start_seeds_the_learner():
    stage = IngestStage(S, MentionProcessor(StubModel(), learner=HandleLearner()), {}.get)
    found = [AddressedHandle("American", "twitter", "aa_crew", "AA_Crew", 30, 12),
             AddressedHandle("American", "instagram", "aa_crew", "AA_Crew", 5, 5),
             AddressedHandle("American", "twitter", "jo", "jo", 4, 1)]
    assert asyncio.run(stage.warm_start(lambda: found)) == 2
    assert stage.addressing.learner.learned("American") == {"aa_crew"}
    assert stage.addressing.reason("@aa_crew where is my bag", "twitter", "American") == "learned"


def test_warm_start_without_clickhouse_is_one_warning_and_a_cold_learner(caplog):
    from pipeline.adapters.clickhouse.brand_handles import fetch_addressed_handles
    from pipeline.ops.services.process import free_port

    s = Settings(clickhouse_host="127.0.0.1", clickhouse_port=free_port())
    stage = IngestStage(s, MentionProcessor(StubModel(), learner=HandleLearner()), {}.get)
    with caplog.at_level(logging.WARNING, logger="agents.ingest"):
        assert asyncio.run(stage.warm_start(lambda: fetch_addressed_handles(s))) == 0
    (record,) = [r for r in caplog.records if r.name == "agents.ingest"]  # the client's own is quiet in the CLI
    assert record.getMessage().startswith("handle learner starts cold: could not read the handles of the last 30 "
                                          "days from ClickHouse (NetworkError")
    assert stage.addressing.learner.brands == ()


def test_warm_start_without_learner_does_nothing():
    stage = IngestStage(S, MentionProcessor(StubModel()), {}.get)
    assert asyncio.run(stage.warm_start(lambda: 1 / 0)) == 0


def test_prior_estimates_reach_the_gauge_and_the_log_once(caplog):
    proc = MentionProcessor(ComplaintModel.load_default(), brands=BRANDS)
    stage = IngestStage(S, proc, lambda _: None)
    praise = [raw(i, "Big thanks to @brewly, the barista was lovely and the coffee great", brand="Brewly")
              for i in range(1200)]
    asyncio.run(stage.process(RecordingOutbox(), praise, "2026-11-30T10:00:01Z"))
    estimate = proc.tracker.estimate("twitter")
    assert estimate is not None and estimate < proc.model.training_prior  # a stream of praise: few complaints
    with caplog.at_level(logging.INFO, logger="agents.ingest"):
        stage.observe_priors()
        stage.observe_priors()
    assert metrics.COMPLAINT_PRIOR_ESTIMATE.labels("twitter")._value.get() == estimate
    lines = [r.getMessage() for r in caplog.records if "complaint share of twitter" in r.getMessage()]
    assert len(lines) == 1 and "SOCIALPULSE_COMPLAINT_PRIORS=twitter=" in lines[0]

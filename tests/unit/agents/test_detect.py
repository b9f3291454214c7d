"""agents/detect.py: the detect stage's handlers on one batch (history, alerts, duplicates, links, dead letters,
negatives and watermarks for the spike stage)."""
from __future__ import annotations

import asyncio

from pipeline.contract import topics
from pipeline.contract.records import Alert, DeadLetter, EnrichedMention
from pipeline.domain.escalation import CustomerHistory
from pipeline.runtime.packing import KIND_HEADER, LINKS, MERGE, PACKED, SOURCED, Packer, pack, split_source, unpack
from pipeline.runtime.table_batch import TableBatch
from pipeline.runtime.watermarks import WM_HEADER, encode_marks, header_marks
from pipeline.settings import Settings
from agents.detect import DetectStage
from tests.unit.agents.conftest import DictTable, RecordingOutbox, dec, enc, event, mention

S = Settings(partitions=1)
NOW = "2026-11-30T12:00:00.000Z"


def run_batch(stage: DetectStage, events, state=None):
    out, negatives = RecordingOutbox(), Packer(S.partitions)
    state = state or TableBatch(stage.table, stage.dec_state)
    asyncio.run(stage.process(out, state, events, NOW, negatives))
    state.apply()
    return out


def packed(*records, headers=()):
    return event(topics.BY_CUSTOMER, pack(list(records)), headers=[(KIND_HEADER, PACKED), *headers])


def test_a_complaint_is_enriched_alerted_and_remembered_and_its_redelivery_is_not_alerted_again():
    stage = DetectStage(S, DictTable())
    first = mention(1)
    out = run_batch(stage, [packed((b"C1", enc(first)))])
    assert [s[1] for s in out.to(topics.ENRICHED)] == [b"C1"]
    alerts = [dec(s[2], Alert) for s in out.to(topics.ALERTS)]
    assert [(a.type, a.mention_id, a.customer_id) for a in alerts] == [("complaint", "twitter:1", "C1")]
    history = dec(stage.table.data[b"C1"], CustomerHistory)
    assert history.seen == ["twitter:1"] and len(history.complaints) == 1
    # the same mention again (a redelivery): the row is re-emitted, no second alert
    again = run_batch(stage, [packed((b"C1", enc(first)))])
    assert len(again.to(topics.ENRICHED)) == 1 and again.to(topics.ALERTS) == []


def test_a_second_complaint_of_the_customer_is_a_repeat_complaint():
    stage = DetectStage(S, DictTable())
    later = mention(2, created_at="2026-11-30T12:30:00.000Z")
    out = run_batch(stage, [packed((b"C1", enc(mention(1))), (b"C1", enc(later)))])
    kinds = [dec(s[2], Alert).type for s in out.to(topics.ALERTS)]
    assert kinds == ["complaint", "repeat_complaint"]  # more severe than the first: not held by the cooldown
    assert len(dec(stage.table.data[b"C1"], CustomerHistory).complaints) == 2


def test_negatives_go_to_the_spike_stage_packed_per_brand_with_the_watermark():
    stage = DetectStage(S, DictTable())
    marks = [(WM_HEADER, encode_marks({0: 1_764_500_000.0}))]
    out = run_batch(stage, [packed((b"C1", enc(mention(1))), (b"C2", enc(mention(2, customer="C2", compound=0.6,
                                                                                     complaint=False))),
                                   headers=marks)])
    (neg,) = out.to(topics.NEGATIVES)
    assert [k for k, _ in unpack(neg[2])] == [b"acme"]  # only the negative one
    assert header_marks(neg[4]) == {0: 1_764_500_000.0}  # detect partition 0's watermark over its one raw partition
    assert dict(neg[4])[KIND_HEADER] == SOURCED
    (source, value), = [split_source(v) for _, v in unpack(neg[2])]
    assert source == (0, 0, 0) and dec(value, EnrichedMention).mention_id == "twitter:1"  # partition, offset, index


def test_a_mention_seen_before_is_not_sent_to_the_spike_stage_again():
    stage = DetectStage(S, DictTable())
    first = run_batch(stage, [packed((b"C1", enc(mention(1))))])
    again = run_batch(stage, [packed((b"C1", enc(mention(1))))])  # the same mention, produced twice
    assert len(first.to(topics.NEGATIVES)) == 1
    assert [unpack(n[2]) for n in again.to(topics.NEGATIVES)] in ([], [[]])  # at most a record-less watermark
    assert len(again.to(topics.ENRICHED)) == 1  # the row is re-emitted (the sink is idempotent)


def test_a_bad_record_in_a_packed_message_is_dead_lettered_alone():
    stage = DetectStage(S, DictTable())
    out = run_batch(stage, [packed((b"C9", b"{not json"), (b"C1", enc(mention(1))))])
    (letter,) = [dec(s[2], DeadLetter) for s in out.to(topics.DEADLETTER)]
    assert letter.stage == "detect" and letter.key == "C9" and letter.value == "{not json"
    assert len(out.to(topics.ENRICHED)) == 1


def test_a_linked_prospect_moves_its_history_to_the_customer():
    stage = DetectStage(S, DictTable())
    run_batch(stage, [packed((b"P-1", enc(mention(1, customer="P-1"))))])
    out = run_batch(stage, [event(topics.BY_CUSTOMER, pack([(b"P-1", b"C7")]), headers=[(KIND_HEADER, LINKS)])])
    assert b"P-1" not in stage.table.data
    (merge,) = out.to(topics.BY_CUSTOMER)
    assert merge[1] == b"C7" and (KIND_HEADER, MERGE) in merge[4]
    # the MERGE message, consumed on the customer's partition, folds the history into the customer's
    run_batch(stage, [event(topics.BY_CUSTOMER, merge[2], key=b"C7", headers=merge[4])])
    assert dec(stage.table.data[b"C7"], CustomerHistory).seen == ["twitter:1"]


def test_identity_links_are_packed_per_prospect_partition():
    from agents.identities import pack_links
    from pipeline.codec import encode
    from pipeline.contract.records import Identity
    from pipeline.domain.identity import prospect_id

    packer = Packer(S.partitions)
    events = [event(topics.IDENTITIES, encode(Identity(key="twitter:annb", customer_id="C042")), key=b"twitter:annb"),
              event(topics.IDENTITIES, None, key=b"twitter:gone"),  # a tombstone
              event(topics.IDENTITIES, b"{bad", key=b"twitter:bad")]
    assert pack_links(events, packer) == 1
    ((_, value),) = list(packer.messages())
    assert unpack(value) == [(prospect_id("twitter:annb").encode(), b"C042")]

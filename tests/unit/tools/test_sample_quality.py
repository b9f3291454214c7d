"""pipeline/tools/sample_quality.py: complaint flags against the sample's intents (hand-made inputs, exact numbers)."""
from __future__ import annotations

import json

import pytest

from pipeline.domain.complaints.model import ComplaintScore
from pipeline.domain.enrich import MentionProcessor
from pipeline.settings import Settings
from pipeline.tools import sample_quality as sq
from pipeline.tools.sample import generator

INTENTS = {
    "twitter:t1": "complaint", "twitter:t2": "praise", "twitter:t3": "complaint", "twitter:t4": "question",
    "email:e1": "complaint", "email:e2": "neutral", "email:e3": "negative_other",
    "support:s1": "complaint",  # never flagged either way: missing from the flags
}
FLAGS = {
    "twitter:t1": True, "twitter:t2": True, "twitter:t3": False, "twitter:t4": True,
    "email:e1": True, "email:e2": False, "email:e3": True,
    "other:x1": True,  # no intent: not scored
}


def test_intent_confusion_overall():
    q = sq.intent_confusion(INTENTS, FLAGS)
    assert q.overall == sq.Scores(mentions=7, complaints=3, flagged=5, true_positives=2)
    assert q.precision == pytest.approx(2 / 5) and q.recall == pytest.approx(2 / 3)
    assert (q.missing, q.unlabelled) == (1, 1)


def test_intent_confusion_per_intent_lists_every_sample_intent():
    q = sq.intent_confusion(INTENTS, FLAGS)
    assert q.by_intent == {
        "complaint": sq.Share(flagged=2, total=3), "praise": sq.Share(flagged=1, total=1),
        "question": sq.Share(flagged=1, total=1), "neutral": sq.Share(flagged=0, total=1),
        "negative_other": sq.Share(flagged=1, total=1)}
    assert q.by_intent["complaint"].share == pytest.approx(2 / 3)
    assert sq.Share(flagged=0, total=0).share is None


def test_intent_confusion_per_channel():
    q = sq.intent_confusion(INTENTS, FLAGS)
    assert list(q.by_channel) == ["email", "twitter"]  # sorted; support had no flag at all
    tw, em = q.by_channel["twitter"], q.by_channel["email"]
    assert tw == sq.Scores(mentions=4, complaints=2, flagged=3, true_positives=1)
    assert (tw.precision, tw.recall) == (pytest.approx(1 / 3), pytest.approx(1 / 2))
    assert em == sq.Scores(mentions=3, complaints=1, flagged=2, true_positives=1)
    assert (em.precision, em.recall) == (pytest.approx(1 / 2), 1.0)


def test_undefined_ratios_are_none():
    q = sq.intent_confusion({"twitter:a": "praise"}, {"twitter:a": False})
    assert q.precision is None and q.recall is None
    empty = sq.intent_confusion({}, {})
    assert empty.overall == sq.Scores(mentions=0, complaints=0, flagged=0, true_positives=0)
    assert empty.by_channel == {} and empty.by_intent["praise"] == sq.Share(flagged=0, total=0)


def test_render_names_the_figures():
    text = sq.render(sq.intent_confusion(INTENTS, FLAGS), title="demo")
    assert text.startswith("demo: precision 0.400 (2/5 flagged are complaints), recall 0.667 (2/3 complaints "
                           "flagged), 7 mentions, 1 missing, 1 without intent ignored")
    assert "praise 1/1 (100.0%)" in text and "neutral 0/1 (0.0%)" in text
    assert any(line.split() == ["twitter", "4", "2", "3", "0.333", "0.500"] for line in text.splitlines())
    assert "n/a" in sq.render(sq.intent_confusion({"email:a": "praise"}, {"email:a": False}))


class KeywordModel:
    """The shipped model with its score replaced: a complaint is an addressed text with "refund" in it (so these
    tests do not depend on the weights being trained)."""

    def __init__(self, model) -> None:
        self._model = model

    def __getattr__(self, name):
        return getattr(self._model, name)

    def score(self, text, sentiment, threshold=None, *, addressed=False, **_) -> ComplaintScore:
        hit = addressed and "refund" in text
        return ComplaintScore(is_complaint=hit, score=float(hit), cues=[])


def line(id_: str, text: str, channel: str = "twitter", brand: str = "Aerolux") -> bytes:
    return json.dumps({"id": id_, "channel": channel, "author": "ann", "text": text, "brand": brand}).encode()


def test_offline_flags_first_result_per_mention_and_no_junk(tmp_path):
    brands = tmp_path / "brands.yml"
    brands.write_text("brands:\n  - name: Aerolux\n    handles:\n      twitter: ['@aerolux']\n")
    processor = sq.demo_processor(brands)
    processor.model = KeywordModel(processor.model)
    lines = [line("1", "@aerolux I want a refund"),
             line("2", "@bob I want a refund"),             # a person, not the brand: not addressed
             line("3", "refund please", channel="email"),  # addressed by its channel
             b"{not json", b'{"id": "4", "channel": "twitter"}',
             line("1", "@aerolux all good now"),            # the same id again: the first result stays
             line("5", "lovely flight", channel="email")]
    assert sq.offline_flags(lines, processor) == {
        "twitter:1": True, "twitter:2": False, "email:3": True, "email:5": False}


def test_offline_quality_counts_only_mentions_with_an_intent():
    small = generator.build_sample(seed=3, customers=30, mentions=200, days=1)
    q = sq.offline_quality(small)
    assert q.overall.mentions == len(small.intents) == 200
    assert q.missing == 0 and q.unlabelled == 0
    assert sum(s.total for s in q.by_intent.values()) == 200
    assert q.by_intent["complaint"].total == small.summary.complaints
    # the same as running the first stage by hand with the sample's brands.yml
    flags = sq.offline_flags(small.mention_lines, MentionProcessor.from_settings(
        Settings(brands_file=str(generator.sample_dir() / "brands.yml"))))
    assert q == sq.intent_confusion(small.intents, flags)

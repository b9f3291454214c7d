"""The first stage with brands: a mention without `brand` gets one, "addressed" follows the brands' and care handles
(not any @handle), and `MentionProcessor.from_settings` loads the model and the brands file."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.contract.records import EnrichedMention
from pipeline.domain.brands import NO_BRANDS, BrandsError, load_brands_file
from pipeline.domain.complaints.model import ComplaintModel
from pipeline.domain.enrich import MentionProcessor, RawMessage
from pipeline.settings import load_settings

SAMPLE_BRANDS = Path(__file__).resolve().parents[3] / "pipeline" / "data" / "sample" / "brands.yml"
NOW = "2026-11-23T10:00:00.000Z"


@pytest.fixture(scope="module")
def processor() -> MentionProcessor:
    return MentionProcessor(ComplaintModel.load_default(), brands=load_brands_file(SAMPLE_BRANDS))


def run(proc: MentionProcessor, text: str, channel: str = "twitter", **extra: object) -> EnrichedMention:
    value = json.dumps({"id": "1", "channel": channel, "author": "someone", "text": text, **extra}).encode()
    out = proc.process(RawMessage("mentions.raw", 0, 7, 1_763_900_000_000, b"k", value), {}.get, NOW)
    assert isinstance(out, EnrichedMention), out
    return out


def test_brand_assigned_from_handles_or_keywords_when_missing(processor: MentionProcessor) -> None:
    assert run(processor, "@nimbusmobile no signal in Leeds since this morning").brand == "NimbusMobile"
    assert run(processor, "Great experience with Brewly: best flat white", channel="reviews").brand == "Brewly"
    assert run(processor, "the Nimbus app won't let me log in", channel="support").brand == "NimbusMobile"
    assert run(processor, "@jo what a lovely day").brand is None


def test_a_brand_sent_by_the_producer_is_kept(processor: MentionProcessor) -> None:
    assert run(processor, "@nimbusmobile no signal", brand="Aerolux").brand == "Aerolux"


def test_without_brands_nothing_is_assigned() -> None:
    plain = MentionProcessor(ComplaintModel.load_default())
    assert plain.brands is NO_BRANDS
    assert run(plain, "@nimbusmobile no signal").brand is None


def test_addressed_follows_brand_and_care_handles_not_any_handle(processor: MentionProcessor) -> None:
    assert processor.is_addressed("@aerolux my flight is delayed", "twitter")
    assert processor.is_addressed("@AppleSupport my phone died", "twitter")
    assert processor.is_addressed("My flight is delayed", "email")  # addressed by construction
    assert not processor.is_addressed("@jo my flight is delayed, see you later", "twitter")


def test_the_same_complaint_scores_higher_at_the_brand_than_at_a_friend(processor: MentionProcessor) -> None:
    body = "my flight AX 341 is delayed 3 hours and nobody tells us anything"
    at_brand = run(processor, "@aerolux " + body).complaint
    at_friend = run(processor, "@jo " + body).complaint
    assert at_brand.score > at_friend.score
    assert at_brand.is_complaint
    assert "addresses_brand" in at_brand.cues and "addresses_brand" not in at_friend.cues


def test_person_to_person_reply_is_not_a_complaint(processor: MentionProcessor) -> None:
    for text in ("@jo that's the worst, hope you feel better", "@sam ugh that sucks, let me know if you need anything",
                 "@mike worst ref I've ever seen, we were robbed"):
        assert not run(processor, text).complaint.is_complaint, text


def test_from_settings_loads_model_and_brands(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "brands.yml").write_text(SAMPLE_BRANDS.read_text(encoding="utf-8"), encoding="utf-8")
    proc = MentionProcessor.from_settings(load_settings({}, data_dir=data_dir, complaint_threshold=0.6,
                                                       score_text_cap=500))
    assert proc.brands.names == ("Aerolux", "NimbusMobile", "Quickcart", "Brewly")
    assert (proc.threshold, proc.score_cap) == (0.6, 500)
    assert proc.model is ComplaintModel.load_default()
    assert MentionProcessor.from_settings(load_settings({}, data_dir=tmp_path)).brands is NO_BRANDS


def test_from_settings_with_a_broken_brands_file_names_it(tmp_path: Path) -> None:
    bad = tmp_path / "brands.yml"
    bad.write_text("brands:\n  - name: A\n    handles: {twitter: '@a'}\n", encoding="utf-8")
    with pytest.raises(BrandsError, match=r"brands.yml: brand 'A': handles.twitter must be a list"):
        MentionProcessor.from_settings(load_settings({"SOCIALPULSE_BRANDS_FILE": str(bad)}))

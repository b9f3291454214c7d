"""Complaint scorer: each cue on hand-written examples, the shipped model, train/serve parity, the evaluation."""
from __future__ import annotations

import math
import time
import zlib
from pathlib import Path

import pytest

from pipeline.domain.brands import Brand, Brands
from pipeline.domain.complaints.model import (
    CUE_NAMES, DEFAULT_THRESHOLD, DENSE_NAMES, MODEL_FORMAT, MODEL_PATH, SHAPE_NAMES, ComplaintModel, ComplaintScore,
    FeatureConfig, analyse, extract_features, load_default, normalise, stable_bucket, tokenize,
)
from pipeline.tools.complaints_eval import (
    OVERALL, LabelledText, addressed_flags, benchmark_scorer, derive_brands, evaluate, evaluate_csv, false_alarm_rate,
    parse_labelled_csv, read_labelled_csv, render_report,
)
from pipeline.domain.sentiment import Sentiment, score_sentiment
from pipeline.tools.complaints_replies import CONVERSATIONS, KINDS, person_replies, strip_brand_handles

DEV_CSV = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "complaints_dev.csv"
CONFIG = FeatureConfig()


def cues(text: str) -> list[str]:
    return analyse(text, score_sentiment(text), CONFIG)[2]


def fires(cue: str, text: str) -> bool:
    return cue in cues(text)


# --- cues ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "@amazon I still haven't received my refund", "@ups never received my package",
    "@BTCare no one has called me back", "@AppleSupport I can't log in to my account",
    "@Hulu the app doesnt load on my tv", "@Argos nobody answers the phone", "@HMRC I am not happy with this",
    "@DPD it was supposed to arrive yesterday", "@Vodafone yet to receive a reply",
    "@Sky unable to stream anything",
])
def test_negated_expectation_fires(text: str) -> None:
    assert fires("negated_expectation", text)


@pytest.mark.parametrize("text", [
    "@AppleSupport I can't wait for the new iPhone", "@Nike I don't know which size to pick",
    "@Zara I don't think I need a bag, thanks", "@Tesco the order arrived today",
])
def test_negated_expectation_ignores_other_negations(text: str) -> None:
    assert not fires("negated_expectation", text)


@pytest.mark.parametrize("text", [
    "@united my flight was cancelled", "@Ryanair delayed by three hours", "@Argos the kettle arrived broken",
    "@Barclays you charged me twice for one order", "@BT I have been on hold for ages",
    "@virginmedia the internet is down", "@EE no signal in the whole town", "@Steam still waiting for my refund",
    "@Hulu the app keeps crashing",
])
def test_service_failure_fires(text: str) -> None:
    assert fires("service_failure", text)


@pytest.mark.parametrize("text", ["@Nike love the new colours", "What a lovely sunny afternoon"])
def test_service_failure_quiet_on_ordinary_text(text: str) -> None:
    assert not fires("service_failure", text)


def test_addresses_brand_is_the_addressed_flag_or_a_care_handle_not_any_handle() -> None:
    assert not fires("addresses_brand", "@Nike my order")  # an unconfigured handle: maybe a person
    assert not fires("addresses_brand", "@jo that's the worst, hope you feel better")
    assert "addresses_brand" in analyse("@Nike my order", score_sentiment("@Nike my order"), CONFIG, addressed=True)[2]
    assert fires("addresses_brand", "@NikeSupport my order")  # a care account is always a brand's
    assert fires("addresses_brand", "Waiting on my order from .@comcastcares")
    assert not fires("addresses_brand", "Waiting on my order from Nike")
    # An e-mail address is not a handle (same rule as sentiment.prepare_text).
    assert not fires("addresses_brand", "write to help@nike.com about the order")


def shape(text: str, addressed: bool = False) -> dict[str, float]:
    return dict(zip(SHAPE_NAMES, analyse(text, score_sentiment(text), CONFIG, addressed)[1]))


def test_reply_to_person_is_a_leading_handle_that_addresses_no_brand() -> None:
    assert shape("@jo that's the worst")["reply_to_person"] == 1.0
    assert shape("@jo that's the worst")["leading_handle"] == 1.0
    assert shape("@jo that's the worst", addressed=True)["reply_to_person"] == 0.0
    assert shape("@AppleSupport my phone died")["reply_to_person"] == 0.0  # care handle: addressed
    assert shape("that's the worst @jo")["reply_to_person"] == 0.0  # not a reply
    assert shape("that's the worst")["leading_handle"] == 0.0


def test_addressed_flag_reads_handle_less_text_as_addressed() -> None:
    text = "My order never arrived and nobody replies to my emails"
    s = score_sentiment(text)
    assert "addresses_brand" not in analyse(text, s, CONFIG)[2]
    assert "addresses_brand" in analyse(text, s, CONFIG, addressed=True)[2]
    assert shape(text, addressed=True)["leading_handle"] == 1.0  # read as if it began with a brand handle
    model = load_default()
    assert model.score(text, s, addressed=True).score > model.score(text, s).score


def test_the_same_words_at_a_brand_and_at_a_person() -> None:
    model = load_default()
    text = "@jo my parcel is a week late and nobody replies"
    s = score_sentiment(text)
    at_brand, at_person = model.score(text, s, addressed=True), model.score(text, s)
    assert at_brand.is_complaint and not at_person.is_complaint
    assert at_brand.score > at_person.score + 0.3
    # Strong complaint words still flag a complaint told to a person; being addressed raises it further.
    text = "@jo still no refund after 3 weeks, this is ridiculous"
    s = score_sentiment(text)
    assert model.score(text, s, addressed=True).score > model.score(text, s).score >= model.threshold


@pytest.mark.parametrize("text", [
    "@jo that's the worst, hope you feel better", "@sam ugh that sucks, let me know if you need anything",
    "@mike worst ref I've ever seen, we were robbed", "@katie_b I waited two hours and he never showed up",
    "@tom @jess the weather is miserable, stay dry",
])
def test_person_to_person_replies_are_not_complaints(text: str) -> None:
    assert not load_default().score(text, score_sentiment(text)).is_complaint


def test_negative_question() -> None:
    assert fires("negative_question", "@Nike why is my order broken?")
    assert fires("negative_question", "@EE why can't I make calls")  # "why", no "?"
    assert not fires("negative_question", "@Nike how do I return a jacket?")  # a question, nothing negative
    assert not fires("negative_question", "@EE the signal is awful")  # negative, not a question


@pytest.mark.parametrize("text", [
    "Thanks @airline for losing my bag again", "@united thanks for nothing",
    "Oh great, @comcast is down. Thanks a lot", "@Delta love how you lost my luggage #not",
    "Great job @BT, still no internet",
])
def test_sarcasm_fires(text: str) -> None:
    assert fires("sarcasm", text)


@pytest.mark.parametrize(
    "text", ["@Zara thanks for the quick reply", "Great job @BT, the engineer fixed it", "#nottingham is lovely"]
)
def test_sarcasm_quiet_on_sincere_praise(text: str) -> None:
    assert not fires("sarcasm", text)


def test_intensity() -> None:
    assert fires("intensity", "@Nike where is my order!!!")
    assert fires("intensity", "@Nike WHERE IS MY ORDER")
    assert fires("intensity", "@Nike seriously?!")
    assert not fires("intensity", "@ATT @USPS my parcel from the USA")  # caps in handles and one acronym
    assert not fires("intensity", "@Nike where is my order?")


def test_frustration_repetition_waiting_follow_up() -> None:
    assert fires("frustration", "@Ryanair this is ridiculous")
    assert fires("frustration", "@BT fed up with this")
    assert fires("repetition", "@EE 3rd time this week the signal drops")
    assert fires("repetition", "@Hulu it keeps buffering")
    assert fires("waiting_time", "@DPD waited 3 days for a parcel")
    assert fires("waiting_time", "@Sky no tv since Monday")
    assert fires("follow_up", "@HMRC any update on my ticket?")
    assert fires("follow_up", "@Argos I've already emailed twice")
    assert not fires("repetition", "@Nike my first order")
    assert not fires("follow_up", "@Nike nice shoes")


def test_negative_sentiment_follows_vader() -> None:
    assert fires("negative_sentiment", "Ugh, this rain is terrible today")
    assert not fires("negative_sentiment", "Loving my new @Nike shoes")


def test_inquiry_and_resolved_argue_against() -> None:
    assert fires("inquiry", "@Nike how do I return a jacket?")
    assert fires("inquiry", "@Topshop do you ship to Ireland")
    assert fires("resolved", "@Zara thanks for the help, all sorted now!")
    assert fires("resolved", "@GeorgiaPower you rock")
    model = load_default()
    weights = dict(zip(DENSE_NAMES, model.dense_weights))
    assert weights["inquiry"] < 0 and weights["resolved"] < 0


def test_cues_are_known_names_in_order() -> None:
    got = cues("Thanks @airline for losing my bag AGAIN!!! Still no refund after 3 weeks. Why??")
    assert got == [c for c in CUE_NAMES if c in got]
    assert {"sarcasm", "service_failure", "repetition", "intensity", "waiting_time", "negated_expectation"} <= set(got)


# --- text handling -------------------------------------------------------------------------------------------------


def test_tokenize_replaces_handles_urls_numbers() -> None:
    t = tokenize("Thanks @AirLine for losing bag #2 https://t.co/x, it’s gone")
    assert t.tokens == ["thanks", "_user_", "for", "losing", "bag", "0", "_url_", "it's", "gone"]
    assert t.handles == ["@airline"] and t.urls == 1
    assert normalise("@A b") == "_user_ b"


def test_stable_bucket_is_crc32_not_salted_hash() -> None:
    assert stable_bucket("refund", 1 << 18) == zlib.crc32(b"refund") % (1 << 18) == 5208


def test_hostile_long_text_is_capped() -> None:
    text = "@brand " + "refund " * 200_000
    s = Sentiment(compound=0.0, pos=0.0, neu=1.0, neg=0.0, label="neutral")
    start = time.perf_counter()
    result = load_default().score(text, s)
    assert time.perf_counter() - start < 0.05
    assert 0.0 <= result.score <= 1.0


# --- the shipped model ---------------------------------------------------------------------------------------------


def test_shipped_model_loads_and_scores_in_unit_interval() -> None:
    model = ComplaintModel.load_default()
    assert model is load_default()  # cached
    assert MODEL_PATH.stat().st_size < 2 * 1024 * 1024
    for text in ["", "!!!", "@brand", "Thanks @airline for losing my bag again", "x" * 5000, "🙂🙂🙂"]:
        result = model.score(text, score_sentiment(text))
        assert isinstance(result, ComplaintScore)
        assert 0.0 <= result.score <= 1.0
        assert result.is_complaint == (result.score >= model.threshold)
        assert set(result.cues) <= set(CUE_NAMES)


def test_default_threshold_matches_the_shipped_model() -> None:
    assert load_default().threshold == DEFAULT_THRESHOLD


def test_threshold_is_configurable_per_call() -> None:
    model = load_default()
    text = "@Nike my parcel is late"
    s = score_sentiment(text)
    p = model.score(text, s).score
    assert model.score(text, s, threshold=0.0).is_complaint
    assert not model.score(text, s, threshold=min(1.0, p + 1e-9)).is_complaint or p >= 1.0
    assert model.score(text, s, threshold=0.3).score == p


def test_serving_equals_training_view() -> None:
    """`score` (memo, strings) and `decision(extract_features)` (buckets, the training matrix) agree."""
    model = load_default()
    for text in ["Thanks @airline for losing my bag again", "@Nike how do I return a jacket?", "plain text"]:
        s = score_sentiment(text)
        for addressed in (False, True):
            p = model.score(text, s, addressed=addressed).score
            z = model.decision(extract_features(text, s, model.config, addressed))
            assert p == pytest.approx(1.0 / (1.0 + math.exp(-z)), abs=1e-12)


def test_issue_examples() -> None:
    model = load_default()
    sarcastic = "Thanks @airline for losing my bag again"  # @airline is a configured brand handle here
    weather = "Ugh, this rain is terrible today"
    assert model.score(sarcastic, score_sentiment(sarcastic), addressed=True).is_complaint
    assert not model.score(weather, score_sentiment(weather)).is_complaint


def test_model_file_errors_are_clear() -> None:
    data = load_default().to_dict()
    assert data["format"] == MODEL_FORMAT
    with pytest.raises(ValueError, match="format"):
        ComplaintModel.from_dict({**data, "format": 1})  # the any-@handle model: retrain
    with pytest.raises(ValueError, match="dense features"):
        ComplaintModel.from_dict({**data, "dense_names": ["x"]})
    assert ComplaintModel.from_dict(data).to_dict() == data


def test_shipped_model_records_its_lodo_estimate() -> None:
    meta = load_default().meta  # written by scripts/train_complaints.py from the nested LODO run
    # Issue 16 asked for 0.82 on the complaint corpus; training on the airline tweets as well (issue 24: praise at a
    # brand is not a complaint) costs about a point of it (0.826 → 0.814, docs/complaints.md): this is the floor.
    assert meta["lodo_f1"] >= 0.81
    assert meta["lodo_f1_without_brands"] >= 0.79
    assert meta["lodo_reply_false_alarms"] <= 0.02
    assert meta["airline_f1"] >= 0.88 and meta["airline_positive_flagged"] <= 0.15
    assert meta["replies"] > 1000
    assert 0.0 < meta["train_prior"] < 1.0 and load_default().training_prior == meta["train_prior"]


def test_scorer_is_cheaper_than_vader() -> None:
    texts = [
        "Thanks @airline for losing my bag again",
        "@Nike how do I return a jacket? I bought it online last week",
        "@BTCare broadband gone off again, third time this week!! Fix it",
        "What a lovely sunny afternoon in the park with the kids",
    ] * 50
    timing = benchmark_scorer(texts, rounds=3)
    assert timing.complaint_us < timing.vader_us


# --- evaluation ----------------------------------------------------------------------------------------------------


def test_parse_labelled_csv_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="missing column"):
        parse_labelled_csv("id,body,label\n1,hi,0\n")
    with pytest.raises(ValueError, match="line 3: label must be 0 or 1"):
        parse_labelled_csv("id,text,label,domain\n1,hi,0,a\n2,yo,yes,a\n")
    with pytest.raises(ValueError, match="empty file"):
        parse_labelled_csv("")
    with pytest.raises(ValueError, match="no rows"):
        parse_labelled_csv("id,text,label,domain\n")
    with pytest.raises(ValueError, match="no such file"):
        read_labelled_csv(tmp_path / "missing.csv")
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("text,label\ncaf\xe9,1\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        evaluate_csv(bad)
    with pytest.raises(ValueError, match="threshold"):
        evaluate_csv(bad, threshold=2.0)


def test_evaluate_and_render(tmp_path: Path) -> None:
    path = tmp_path / "tiny.csv"
    path.write_text(
        "id,text,label,domain\n"
        "1,Thanks @airline for losing my bag again,1,air\n"
        '2,"@united flight cancelled, no one at the desk, on hold for 2 hours!!",1,air\n'
        "3,Ugh this rain is terrible today,0,random\n"
        "4,What a lovely sunny afternoon,0,random\n",
        encoding="utf-8",
    )
    report = evaluate_csv(path, brands=Brands([Brand("air", {"twitter": ("airline", "united")})]))
    groups = [c.group for c in report.model]
    assert groups == ["air", "random", OVERALL]
    overall = report.overall()
    assert (overall.tp, overall.fp, overall.fn, overall.tn) == (2, 0, 0, 2)
    assert overall.f1 == 1.0
    assert report.baseline[-1].tp < 2  # VADER alone misses the sarcastic one
    text = render_report(report)
    assert "overall" in text and "air" in text and "VADER" in text and "FP rate" in text


def test_domain_column_is_optional() -> None:
    rows = parse_labelled_csv("text,label\n@Nike my parcel never arrived,1\nnice day,0\n")
    assert {r.domain for r in rows} == {"all"}
    report = evaluate(rows)
    assert [c.group for c in report.model] == ["all", OVERALL]


@pytest.mark.skipif(not DEV_CSV.exists(), reason="shared/data/complaints_dev.csv not present")
def test_dev_data_in_sample() -> None:
    """The shipped model was trained on this file, so only an in-sample sanity bound belongs here; the honest
    leave-one-domain-out figure comes from scripts/train_complaints.py (docs/complaints.md)."""
    report = evaluate_csv(DEV_CSV)
    overall = report.overall()
    assert overall.f1 is not None and overall.f1 >= 0.85
    assert overall.f1 > (report.baseline[-1].f1 or 0.0) + 0.2


# --- brand accounts of labelled data, person-to-person replies -------------------------------------------------------


def row(i: int, text: str, label: int, domain: str) -> LabelledText:
    return LabelledText(id=str(i), text=text, label=label, domain=domain)


def test_derive_brands_takes_frequent_handles_of_brand_domains() -> None:
    rows = [row(i, f"@ShopHelp @Shop order {i}", i % 2, "shop") for i in range(4)]
    rows += [row(10, "@jo hi", 0, "shop"), row(11, "@jo hey", 0, "shop")]  # only 2 rows: a person
    rows += [row(20 + i, f"@perduechicken yum {i}", 0, "random") for i in range(5)]  # no complaints: no brand
    brands = derive_brands(rows)
    assert brands.names == ("domain:shop",)
    assert set(brands.all_handles) == {"shophelp", "shop"}
    assert addressed_flags([row(0, "@shop hi", 0, "x"), row(1, "@jo hi", 0, "x"), row(2, "@BTCare hi", 0, "x")],
                           brands) == [True, False, True]


def test_person_replies_are_label_free_and_keep_their_source() -> None:
    rows = [
        row(0, "@shop my parcel never arrived", 1, "shop"),
        row(1, "@ShopHelp can I return a jacket online?", 0, "shop"),
        row(2, "@shop", 0, "shop"),  # nothing left once the brand handle is gone
        row(3, "Ugh this rain is terrible today", 0, "random"),
    ]
    brands = Brands([Brand("Shop", {"twitter": ("shop", "shophelp")})])
    replies = person_replies([r.text for r in rows], [r.label for r in rows], [r.domain for r in rows], brands, 0)
    by_kind = {k: [r for r in replies if r.kind == k] for k in KINDS}
    assert [r.source for r in by_kind["general"]] == [3]
    assert [r.source for r in by_kind["brand_non_complaint"]] == [1]  # complaints are never turned into replies
    assert len(by_kind["conversation"]) == len(CONVERSATIONS) and {r.source for r in by_kind["conversation"]} == {-1}
    assert by_kind["brand_non_complaint"][0].text.endswith(" can I return a jacket online?")
    for r in replies:
        assert r.text.startswith("@") and "{name}" not in r.text
        assert not brands.addressed(r.text, "twitter"), r.text  # a person handle, never a brand's or care one
    assert replies == person_replies([r.text for r in rows], [r.label for r in rows], [r.domain for r in rows],
                                     brands, 0)  # seeded


def test_strip_brand_handles() -> None:
    brands = Brands([Brand("Shop", {"twitter": ("shop",)})])
    assert strip_brand_handles("@Shop .@AppleSupport why is it late @jo", brands) == "why is it late @jo"


def test_false_alarm_rate() -> None:
    assert false_alarm_rate([True, False, False, False]) == 0.25
    with pytest.raises(ValueError):
        false_alarm_rate([])

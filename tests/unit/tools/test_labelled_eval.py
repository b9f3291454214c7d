"""The airline-sentiment format, evaluation without brands.yml and with a prior (pipeline.tools.complaints_eval and
labelled_csv), and the addressing of labelled rows as the first stage decides it."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.tools.complaints_eval import (
    addressed_flags, addressing_for, evaluate, evaluate_csv, read_labelled_csv, render_report, stream_brand,
)
from pipeline.tools.labelled_csv import LabelledText, parse_airline_csv

AIRLINE = (
    "tweet_id,airline,airline_sentiment,negativereason,text,tweet_created\n"
    "1,American,negative,Late Flight,\"@AmericanAir flight delayed 4 hours, no one at the desk, on hold for 2 hours!!\",x\n"
    "2,American,positive,,@AmericanAir thanks for the great flight and the friendly crew,x\n"
    "3,US Airways,neutral,,@USAirways what time does boarding start for 1797?,x\n"
    "4,US Airways,negative,Lost Luggage,\"@USAirways lost my bag again, still no update after 3 days. Ridiculous\",x\n"
)


def test_airline_rows_negative_is_the_complaint_and_the_airline_the_brand(tmp_path: Path) -> None:
    path = tmp_path / "air.csv"
    path.write_text(AIRLINE, encoding="utf-8")
    rows = read_labelled_csv(path)  # recognised by its header
    assert [(r.label, r.sentiment, r.brand, r.domain) for r in rows] == [
        (1, "negative", "American", "airline:american"), (0, "positive", "American", "airline:american"),
        (0, "neutral", "US Airways", "airline:us_airways"), (1, "negative", "US Airways", "airline:us_airways")]
    assert "&" not in rows[0].text and rows[0].id == "1"


@pytest.mark.parametrize("content, words", [
    ("tweet_id,airline,airline_sentiment,text\n1,American,angry,hi\n", "line 2: airline_sentiment must be one of"),
    ("tweet_id,airline,airline_sentiment,text\n", "no rows"),
    ("tweet_id,airline,airline_sentiment,text\n1,American,positive,hi,extra\n", "line 2: more fields"),
])
def test_airline_format_errors_name_the_line(content: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_airline_csv(content, "air.csv")


def test_without_brands_the_airline_handles_resemble_the_brand(tmp_path: Path) -> None:
    rows = parse_airline_csv(AIRLINE)
    assert addressed_flags(rows, addressing_for(rows, None, learn=False)) == [True] * 4
    person = LabelledText(id="9", text="@jo thanks for the great flight", label=0, domain="x", brand="American")
    assert addressed_flags([person], addressing_for([person], None)) == [False]


def test_the_learner_learns_a_domains_account_from_its_rows() -> None:
    rows = [LabelledText(id=str(i), text=f"@FC_Shop my order {i} never arrived", label=1, domain="apparel")
            for i in range(5)] + [LabelledText(id="x", text="@jo see you later", label=0, domain="apparel")]
    blind = addressing_for(rows, None)
    assert stream_brand(rows[0]) == "apparel"
    assert addressed_flags(rows, blind) == [True] * 5 + [False]
    assert addressed_flags(rows, addressing_for(rows, None, learn=False)) == [False] * 6


def test_evaluate_reports_the_flagged_share_per_sentiment_and_the_prior(tmp_path: Path) -> None:
    path = tmp_path / "air.csv"
    path.write_text(AIRLINE, encoding="utf-8")
    report = evaluate_csv(path, blind=True)
    assert report.addressing == "no brands.yml" and report.prior is None
    assert set(report.flagged_by_sentiment) == {"positive", "neutral", "negative"}
    assert report.flagged_by_sentiment["negative"] == (2, 2)  # both complaints found
    assert report.flagged_by_sentiment["positive"] == (0, 1)
    text = render_report(report)
    assert "no brands.yml" in text and "positive rows flagged as complaints: 0/1" in text
    # a low expected complaint share can only lower the scores: never more flags than without it
    low = evaluate_csv(path, blind=True, prior="0.05")
    assert low.prior == 0.05 and low.overall().tp + low.overall().fp <= report.overall().tp + report.overall().fp
    auto = evaluate(parse_airline_csv(AIRLINE), prior="auto")
    assert auto.prior is not None and 0.0 < auto.prior < 1.0
    with pytest.raises(ValueError, match="not a number"):
        evaluate_csv(path, prior="lots")

"""pipeline/domain/sentiment.py: text preparation, VADER scores identical to the reference implementation, labels."""
from __future__ import annotations

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from pipeline.domain.sentiment import (DEFAULT_SCORE_CAP, NEGATIVE_THRESHOLD, POSITIVE_THRESHOLD, Sentiment, analyzer,
                                label_for, prepare_text, score_prepared, score_sentiment)

POSTS = [
    "I love the new app update, it is so fast!",
    "Worst customer service ever. Three hours on hold and nobody answered.",
    "My flight was delayed again :( not happy",
    "The package arrived today.",
    "Thanks so much for the quick refund, really appreciate it 😀",
    "This is NOT acceptable!!! I want my money back",
    "meh, it's okay I guess",
    "The staff were friendly but the room was dirty and the wifi didn't work.",
    "Absolutely fantastic experience, will definitely recommend to friends",
    "Why does the checkout keep failing? So frustrating",
    "Not bad at all",
    "",
]


@pytest.fixture(scope="module")
def reference() -> SentimentIntensityAnalyzer:
    """An independent analyzer instance: the reference implementation."""
    return SentimentIntensityAnalyzer()


# --- prepare_text ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("see https://example.com/a?b=c now", "see now"),
    ("see http://x.co/abc and WWW.Example.org/path here", "see and here"),
    ("HTTPS://EXAMPLE.COM/X broken", "broken"),
    ("@united lost my bag", "lost my bag"),
    ("thanks @Acme_Help and @bob!", "thanks and !"),
    ("mail bob.smith+x@example.co.uk please", "mail please"),
    ("contact support@acme.com or @acme", "contact or"),
    ("  too   many \t spaces \n here ", "too many spaces here"),
    ("email@", "email@"),  # not a handle (preceded by a word char), not an address
    ("", ""),
])
def test_prepare_text(text, expected):
    assert prepare_text(text) == expected


def test_prepare_text_keeps_normal_posts_whole():
    for post in POSTS:
        assert prepare_text(post) == " ".join(post.split())


def test_prepare_text_caps_at_word_boundary():
    text = " ".join(["word"] * 300)  # 1,499 characters
    out = prepare_text(text, cap=1000)
    assert len(out) == 999
    assert out == " ".join(["word"] * 200)
    assert out.split() == ["word"] * 200  # no fragment at the end


def test_prepare_text_cap_small():
    assert prepare_text("alpha beta gamma delta", cap=12) == "alpha beta"
    assert prepare_text("alpha beta gamma delta", cap=100) == "alpha beta gamma delta"


def test_prepare_text_cap_without_spaces_cuts_hard():
    assert prepare_text("x" * 50, cap=10) == "x" * 10
    # the last space is too early (before cap // 2): cut at the cap
    assert prepare_text("ab " + "y" * 30, cap=10) == "ab " + "y" * 7


def test_default_cap():
    assert DEFAULT_SCORE_CAP == 1000
    assert len(prepare_text("ok " * 2000)) <= DEFAULT_SCORE_CAP


# --- scores = reference -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("post", POSTS)
def test_score_equals_vader_reference_exactly(post, reference):
    expected = reference.polarity_scores(prepare_text(post))
    got = score_sentiment(post)
    assert (got.compound, got.pos, got.neu, got.neg) == (
        expected["compound"], expected["pos"], expected["neu"], expected["neg"])
    assert got.label == label_for(expected["compound"])


def test_normal_posts_are_scored_untruncated(reference):
    for post in POSTS:
        s = reference.polarity_scores(post)
        got = score_sentiment(post)
        assert (got.compound, got.pos, got.neu, got.neg) == (s["compound"], s["pos"], s["neu"], s["neg"]), post


def test_known_values():
    assert score_sentiment("lost my bag again") == Sentiment(compound=-0.3182, pos=0.0, neu=0.566, neg=0.434,
                                                             label="negative")
    assert score_sentiment("") == Sentiment(compound=0.0, pos=0.0, neu=0.0, neg=0.0, label="neutral")


def test_brand_handle_does_not_affect_score(reference):
    with_handle = score_sentiment("@united lost my bag again")
    without = score_sentiment("lost my bag again")
    assert with_handle == without
    assert with_handle.label == "negative"
    # the raw text would be scored positive by VADER: 'united' is a lexicon word
    assert reference.polarity_scores("@united lost my bag again")["compound"] == 0.128


def test_urls_and_emails_do_not_affect_score():
    plain = score_sentiment("terrible delivery")
    assert score_sentiment("terrible delivery https://great.example.com/love") == plain
    assert score_sentiment("terrible delivery happy.customer@great.com") == plain


def test_score_prepared_does_not_prepare(reference):
    text = "@united lost my bag"
    s = reference.polarity_scores(text)
    assert score_prepared(text).compound == s["compound"] == score_sentiment("united lost my bag").compound


def test_analyzer_is_shared():
    assert analyzer() is analyzer()


# --- labels -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("compound,label", [
    (0.05, "positive"),
    (0.0501, "positive"),
    (0.9, "positive"),
    (0.0499, "neutral"),
    (0.0, "neutral"),
    (-0.0499, "neutral"),
    (-0.05, "negative"),
    (-0.0501, "negative"),
    (-1.0, "negative"),
])
def test_label_thresholds(compound, label):
    assert label_for(compound) == label


def test_threshold_constants():
    assert (POSITIVE_THRESHOLD, NEGATIVE_THRESHOLD) == (0.05, -0.05)

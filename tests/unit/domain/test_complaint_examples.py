"""The examples of issue 24 through the first stage's pure code (addressing rules + the shipped model): the demo's
praise and questions that were alert cards, real-world shapes at unconfigured airline handles, people talking to
people. Regression examples, not the evaluation (docs/complaints.md has the figures)."""
from __future__ import annotations

import pytest

from pipeline.domain.addressing import Addressing
from pipeline.domain.complaints.model import load_default
from pipeline.domain.sentiment import score_sentiment

RULES = Addressing()  # no brands.yml: channel, care handles, handles resembling the brand, nothing learned yet


def flagged(text: str, channel: str, brand: str) -> bool:
    addressed = RULES.addressed(text, channel, brand)
    return load_default().score(text, score_sentiment(text), addressed=addressed).is_complaint


@pytest.mark.parametrize("text, channel, brand", [
    # the first cards of the demo's live page before issue 24
    ("Very happy with Quickcart, next-day delivery was actually next day.", "reviews", "Quickcart"),
    ("Honestly @aerolux never disappoints. Smooth flight and we landed early in Prague ❤️", "twitter", "Aerolux"),
    ("The barista remembered my name. Well done @brewly!", "twitter", "Brewly"),
    ("Is there wifi on the Munich route?", "support", "Aerolux"),
    # praise at an airline that brands.yml does not list
    ("@united thanks for a great flight", "twitter", "United"),
    ("@SouthwestAir the crew on 1234 was so friendly, thank you!", "twitter", "Southwest"),
    # people talking to people
    ("@jo thats the worst, hope you feel better", "twitter", "American"),
    ("@sam I waited two hours and he never showed up", "twitter", "United"),
])
def test_not_complaints(text: str, channel: str, brand: str) -> None:
    assert not flagged(text, channel, brand)


@pytest.mark.parametrize("text, channel, brand", [
    # complaints at handles that resemble the mention's brand, none of them configured
    ("@AmericanAir my flight was cancelled and nobody answers the phone. 3 hours on hold", "twitter", "American"),
    ("Thanks @united for losing my bag again", "twitter", "United"),
    ("@USAirways still no refund for the cancelled flight, this is ridiculous", "twitter", "US Airways"),
    ("My parcel never arrived and support ignores my e-mails. I want a refund.", "email", "Quickcart"),
])
def test_complaints(text: str, channel: str, brand: str) -> None:
    assert flagged(text, channel, brand)

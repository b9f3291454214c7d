"""pipeline/domain/addressing.py: handles resembling a brand, the bounded handle learner and the order of the four
addressing rules; people replying to people stay quiet."""
from __future__ import annotations

import pytest

from pipeline.domain.addressing import ADDRESSED_CHANNELS, Addressing, HandleLearner, brand_words, handle_resembles
from pipeline.domain.brands import Brand, Brands

BRANDS = Brands([Brand("NimbusMobile", {"twitter": ("nimbusmobile",)}), Brand("Brewly", {"twitter": ("brewly",)})])


# --- handle_resembles ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("handle", "brand"), [
    ("@AmericanAir", "American"),
    ("@USAirways", "US Airways"),
    ("@VirginAmerica", "Virgin America"),
    ("@united", "United Airlines"),
    ("@nimbus", "NimbusMobile"),
    ("@SouthwestAir", "Southwest"),
    ("@Delta", "Delta"),
    ("AmericanAir", "American"),          # without @
    ("@Virgin_America", "Virgin America"),  # separators folded
    ("@AMERICANAIR", "american"),         # case-insensitive both ways
])
def test_a_brand_account_resembles_its_brand(handle, brand):
    assert handle_resembles(handle, brand)


@pytest.mark.parametrize(("handle", "brand"), [
    ("@jo", "American"),                  # a person
    ("@sarah_k", "American"),
    ("@mike", "United Airlines"),
    ("@BritishAirways", "US Airways"),    # shares only a generic word ("airways")
    ("@air", "US Airways"),
    ("@us", "US Airways"),
    ("@mobile", "NimbusMobile"),          # the generic half of the name
    ("@nim", "NimbusMobile"),             # prefix shorter than MIN_WORD
    ("@AmericanAir", ""),                 # no brand: nothing resembles it
    ("@", "American"),
])
def test_other_handles_do_not_resemble_the_brand(handle, brand):
    assert not handle_resembles(handle, brand)


def test_brand_words_drop_generic_words_and_keep_the_whole_name():
    assert brand_words("American Airlines") == ("americanairlines", "american")
    assert brand_words("US Airways") == ("usairways",)
    assert brand_words("NimbusMobile") == ("nimbusmobile", "nimbus")


# --- HandleLearner: thresholds -----------------------------------------------------------------------------------------

def feed(learner: HandleLearner, brand: str, handle: str, mentions: int, authors: int, prefix: str = "a") -> None:
    for i in range(mentions):
        learner.observe(brand, ["@" + handle], f"{prefix}{i % authors}")


def test_a_handle_is_learned_at_min_mentions_by_min_authors():
    learner = HandleLearner(min_mentions=10, min_authors=3, min_share=0.0)
    feed(learner, "American", "AmericanAir", 9, 3)
    assert learner.learned("American") == frozenset()      # 9 < min_mentions
    feed(learner, "American", "AmericanAir", 1, 1)
    assert learner.learned("American") == {"americanair"}  # lowercase, no @
    assert learner.learned("United") == frozenset()        # per brand


def test_one_author_alone_teaches_nothing():
    learner = HandleLearner(min_mentions=5, min_authors=3, min_share=0.0)
    feed(learner, "Brewly", "my_friend", 50, 2)            # two people talking to a third
    assert learner.learned("Brewly") == frozenset()
    feed(learner, "Brewly", "my_friend", 1, 1, prefix="other")
    assert learner.learned("Brewly") == {"my_friend"}


def test_a_handle_below_min_share_of_the_brand_is_not_learned():
    learner = HandleLearner(min_mentions=10, min_authors=3, min_share=0.10, capacity=50)
    feed(learner, "Brewly", "brewly", 200, 20)
    feed(learner, "Brewly", "barista_jo", 20, 5)           # 20 of 220 = 9 % of the brand's handle-naming mentions
    assert learner.learned("Brewly") == {"brewly"}
    feed(learner, "Brewly", "barista_jo", 5, 5)            # 25 of 225 = 11 %
    assert learner.learned("Brewly") == {"brewly", "barista_jo"}


def test_mentions_without_brand_or_handles_are_not_counted():
    learner = HandleLearner(min_mentions=1, min_authors=1, min_share=0.0)
    learner.observe("", ["@x"], "a")
    learner.observe("Brewly", [], "a")
    learner.observe("Brewly", ["", ""], "a")
    assert learner.brands == ()
    learner.observe("Brewly", ["@X", "x", "@x"], "a")      # one mention naming @x three times counts once
    assert learner.top("Brewly") == [("x", 1)]


def test_thresholds_are_checked():
    for bad in ({"min_mentions": 0}, {"min_authors": 0}, {"min_share": 1.5}, {"min_share": -0.1}, {"capacity": 0}):
        with pytest.raises(ValueError):
            HandleLearner(**bad)


def test_top_lists_the_most_addressed_handles_first():
    learner = HandleLearner()
    feed(learner, "Brewly", "brewly", 5, 5)
    feed(learner, "Brewly", "brewlyhelp", 3, 3)
    feed(learner, "Brewly", "alice", 3, 3)
    assert learner.top("Brewly", 2) == [("brewly", 5), ("alice", 3)]  # ties by name
    assert learner.top("Unknown") == []


# --- HandleLearner: bounded memory ---------------------------------------------------------------------------------

def test_a_heavy_hitter_survives_a_flood_of_one_off_handles():
    learner = HandleLearner(min_mentions=10, min_authors=3, min_share=0.0, capacity=50)
    for i in range(20_000):  # people replying to people, each handle once; one mention in ten to the airline
        learner.observe("American", ["@AmericanAir" if i % 10 == 0 else f"@person{i}"], f"p{i}")
        assert len(learner._counts["American"]) <= 50
    assert learner.learned("American") == {"americanair"}
    assert learner.top("American", 1)[0][0] == "americanair"


def test_a_handle_addressed_too_rarely_is_forgotten_in_a_flood():
    learner = HandleLearner(min_mentions=10, min_authors=3, min_share=0.0, capacity=20)
    feed(learner, "American", "AmericanAir", 100, 10)
    for i in range(20_000):  # 100 of 20,100 mentions is less than 1/capacity: no guarantee, and here it goes
        learner.observe("American", [f"@person{i}"], f"p{i}")
    assert len(learner._counts["American"]) <= 20
    assert learner.learned("American") == frozenset()


def test_a_handle_addressed_often_enough_is_never_evicted():
    # Misra–Gries: a handle in more than 1/capacity of the brand's handle-naming mentions stays
    learner = HandleLearner(min_mentions=10, min_authors=3, min_share=0.0, capacity=10)
    for i in range(5_000):
        learner.observe("Brewly", ["@brewly" if i % 5 == 0 else f"@p{i}"], f"a{i % 7}")
    assert "brewly" in learner.learned("Brewly")


def test_the_table_never_holds_more_than_capacity_handles():
    learner = HandleLearner(capacity=3)
    for handle in ("x", "y", "z"):
        feed(learner, "Brewly", handle, 100, 3)
    for i in range(10):                                    # each new handle addressed twice
        learner.observe("Brewly", [f"@new{i}"], "a")
        learner.observe("Brewly", [f"@new{i}"], "b")
    assert len(learner._counts["Brewly"]) <= 3


# --- HandleLearner: seed ------------------------------------------------------------------------------------------

def test_seed_warms_the_learner_as_if_the_mentions_had_been_observed():
    learner = HandleLearner(min_mentions=10, min_authors=3, min_share=0.05)
    learner.seed([("American", "@AmericanAir", 120, 40), ("American", "AmericanAir", 5, 1),
                  ("American", "jo", 4, 4), ("United", "united", 9, 9),
                  ("", "nobody", 50, 50), ("American", "", 50, 50), ("American", "zero", 0, 0)])
    assert learner.learned("American") == {"americanair"}  # jo: 4 < min_mentions
    assert learner.learned("United") == frozenset()        # 9 < min_mentions
    assert learner.top("American") == [("americanair", 125), ("jo", 4)]
    learner.observe("United", ["@united"], "u1")           # the stream goes on from the seed
    assert learner.learned("United") == {"united"}


def test_seed_counts_at_most_min_authors_placeholder_authors():
    learner = HandleLearner(min_mentions=1, min_authors=3, min_share=0.0)
    learner.seed([("Brewly", "brewly", 10, 2)])
    assert learner.learned("Brewly") == frozenset()        # two authors known
    learner.seed([("Brewly", "brewly", 10, 1000)])
    assert learner.learned("Brewly") == {"brewly"}
    assert len(learner._counts["Brewly"]["brewly"].authors) == 3


# --- Addressing ----------------------------------------------------------------------------------------------------

def learned(brand: str, *handles: str) -> HandleLearner:
    learner = HandleLearner(min_mentions=1, min_authors=1, min_share=0.0)
    for handle in handles:
        learner.observe(brand, ["@" + handle], "a")
    return learner


@pytest.mark.parametrize("channel", sorted(ADDRESSED_CHANNELS))
def test_addressed_channels_need_no_handle(channel):
    assert Addressing().reason("my parcel never came", channel) == "channel"


@pytest.mark.parametrize(("text", "channel", "brand", "reason"), [
    ("@nimbusmobile no signal since Monday", "twitter", None, "configured"),
    ("no signal since Monday .@NimbusMobile", "twitter", "Whatever", "configured"),
    ("@AppleSupport my phone died", "twitter", None, "care"),
    ("@AmericanAir lost my bag", "twitter", "American", "resembles"),
    ("@aa_crew lost my bag", "twitter", "American", "learned"),
    ("@jo that's the worst, hope you feel better", "twitter", "American", None),
    ("@jo that's the worst, hope you feel better", "twitter", None, None),
    ("no handle here at all", "twitter", "American", None),
    ("write to me at bob@AmericanAir.com", "twitter", "American", None),   # an e-mail address is no handle
])
def test_reason(text, channel, brand, reason):
    addressing = Addressing(BRANDS, learned("American", "aa_crew"))
    assert addressing.reason(text, channel, brand) == reason
    assert addressing.addressed(text, channel, brand) is (reason is not None)


def test_configured_and_care_handles_win_over_resembling_and_learned_ones_anywhere_in_the_text():
    addressing = Addressing(BRANDS, learned("American", "aa_crew"))
    assert addressing.reason("@AmericanAir @aa_crew cc @brewly", "twitter", "American") == "configured"
    assert addressing.reason("@aa_crew @AmericanAir cc @AmericanAirHelp", "twitter", "American") == "care"
    # between the two weaker rules, the first handle in the text decides; for one handle "resembles" comes first
    assert addressing.reason("@aa_crew and @AmericanAir", "twitter", "American") == "learned"
    assert addressing.reason("@AmericanAir and @aa_crew", "twitter", "American") == "resembles"
    both = Addressing(BRANDS, learned("American", "americanair"))
    assert both.reason("@AmericanAir", "twitter", "American") == "resembles"


def test_the_channel_rule_comes_first():
    assert Addressing(BRANDS).reason("@jo @nimbusmobile", "email") == "channel"


def test_configured_handles_are_per_channel():
    addressing = Addressing(BRANDS)
    assert addressing.reason("@nimbusmobile", "twitter") == "configured"
    # a channel with handles of its own does not use twitter's; a channel without any uses every brand's
    per_channel = Addressing(Brands([Brand("NimbusMobile", {"twitter": ("nimbusmobile",), "instagram": ("nimbus",)})]))
    assert per_channel.reason("@nimbusmobile", "instagram") is None
    assert per_channel.reason("@nimbusmobile", "mastodon") == "configured"


def test_resembling_and_learned_handles_need_the_mentions_brand():
    addressing = Addressing(BRANDS, learned("American", "aa_crew"))
    assert addressing.reason("@AmericanAir lost my bag", "twitter", None) is None
    assert addressing.reason("@aa_crew lost my bag", "twitter", "United") is None  # learned for American only


def test_the_learned_and_resembling_rules_can_be_switched_off():
    assert Addressing(BRANDS, None).reason("@aa_crew lost my bag", "twitter", "American") is None
    off = Addressing(BRANDS, learned("American", "aa_crew"), resemble=False)
    assert off.reason("@AmericanAir lost my bag", "twitter", "American") is None
    assert off.reason("@aa_crew lost my bag", "twitter", "American") == "learned"


def test_people_replying_to_people_stay_quiet_while_the_brand_account_is_learned():
    learner = HandleLearner(min_mentions=10, min_authors=3, min_share=0.02)
    addressing = Addressing(Brands(), learner)
    for i in range(300):
        text = f"@skyline_crew my flight {i} was cancelled" if i % 3 == 0 else f"@friend{i} that's the worst, so sorry"
        addressing.observe(text, "Acme", f"author{i}")
    assert learner.learned("Acme") == {"skyline_crew"}
    assert addressing.reason("@Skyline_Crew delayed again", "twitter", "Acme") == "learned"
    assert addressing.reason("@friend7 that's the worst", "twitter", "Acme") is None


def test_observe_without_learner_or_brand_is_a_no_op():
    Addressing(BRANDS, None).observe("@x hi", "Acme", "a")
    learner = HandleLearner(min_mentions=1, min_authors=1, min_share=0.0)
    Addressing(BRANDS, learner).observe("@x hi", None, "a")
    Addressing(BRANDS, learner).observe("no handle", "Acme", "a")
    assert learner.brands == ()


def test_handles_are_read_from_the_first_characters_only():
    addressing = Addressing()
    assert addressing.handles("@Jo and @AmericanAir, mail bob@x.com") == ["jo", "americanair"]
    assert addressing.handles("x" * 2000 + " @late") == []

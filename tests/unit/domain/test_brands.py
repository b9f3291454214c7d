"""Brands as configuration: parsing brands.yml with clear errors, brand assignment, "addressed", load_brands."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.domain.brands import (
    NO_BRANDS,
    Brand,
    Brands,
    BrandsError,
    brands_path,
    load_brands,
    load_brands_file,
    normalise_handle,
    parse_brands,
)
from pipeline.settings import load_settings

SAMPLE = Path(__file__).resolve().parents[3] / "pipeline" / "data" / "sample" / "brands.yml"

YAML = """
brands:
  - name: NimbusMobile
    handles:
      twitter: ["@NimbusMobile", "@NimbusHelp"]
      instagram: [nimbusmobile]
    aliases: ["Nimbus Mobile"]
    keywords: ["Nimbus"]
  - name: Brewly
    handles:
      twitter: ["@brewly"]
    keywords: ["flat white"]
"""


@pytest.fixture()
def brands(tmp_path: Path) -> Brands:
    path = tmp_path / "brands.yml"
    path.write_text(YAML, encoding="utf-8")
    return load_brands_file(path)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "brands.yml"
    path.write_text(text, encoding="utf-8")
    return path


# --- parsing ---------------------------------------------------------------------------------------------------------


def test_parses_names_handles_keywords(brands: Brands) -> None:
    assert brands.names == ("NimbusMobile", "Brewly")
    nimbus = brands.brands[0]
    assert nimbus.handles == {"twitter": ("nimbusmobile", "nimbushelp"), "instagram": ("nimbusmobile",)}
    assert nimbus.keywords == ("Nimbus Mobile", "Nimbus")
    assert len(brands) == 2 and "NimbusMobile" in repr(brands)


def test_normalise_handle() -> None:
    assert normalise_handle(" @NimbusHelp ") == normalise_handle("nimbushelp") == "nimbushelp"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("- name: x\n", "key `brands:`"),
        ("brands: {name: x}\n", "must be a list of brands"),
        ("brand: []\n", "key `brands:`"),
        ("brands: []\nextra: 1\n", "unknown top-level key"),
        ("brands:\n  - just a name\n", r"brands\[0\] must be a mapping"),
        ("brands:\n  - handles: {twitter: ['@x']}\n", r"brands\[0\] needs a name"),
        ("brands:\n  - name: 1010\n", "needs a name"),
        ("brands:\n  - name: A\n    handle: ['@a']\n", "brand 'A': unknown key.*handle"),
        ("brands:\n  - name: A\n    handles: ['@a']\n", "handles must map a channel to a list"),
        ("brands:\n  - name: A\n    handles: {twitter: '@a'}\n", r"handles.twitter must be a list, got the single"),
        ("brands:\n  - name: A\n    handles: {Twitter: ['@a']}\n", "channel 'Twitter' is not a channel name"),
        ("brands:\n  - name: A\n    handles: {twitter: ['@a.b']}\n", r"handles.twitter\[0\] '@a.b' is not a handle"),
        ("brands:\n  - name: A\n    handles: {twitter: [42]}\n", r"handles.twitter\[0\] must be a non-empty text"),
        ("brands:\n  - name: A\n    keywords: 'a b'\n", "keywords must be a list"),
        ("brands:\n  - name: A\n    keywords: ['']\n", r"keywords\[0\] must be a non-empty text"),
        ("brands:\n  - name: A\n  - name: a\n", "brand 'a' is listed twice"),
        (
            "brands:\n  - name: A\n    handles: {twitter: ['@x']}\n  - name: B\n    handles: {twitter: ['@X']}\n",
            r"brand 'B': handle @x on twitter already belongs to brand 'A'",
        ),
        ("brands:\n  - name: A\n    keywords: [shared]\n  - name: B\n    aliases: [Shared]\n",
         "brand 'B': keyword 'Shared' already refers to brand 'A'"),
        ("brands:\n  - name: A\n  - name: B\n    keywords: [a]\n", "keyword 'a' already refers to brand 'A'"),
    ],
)
def test_mistakes_give_clear_errors_naming_file_and_brand(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(BrandsError, match=message) as info:
        load_brands_file(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_bad_yaml_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "brands:\n  - name: A\n    handles: {twitter: [@a]}\n")
    with pytest.raises(BrandsError, match=r"not valid YAML \(line 3, column \d+") as info:
        load_brands_file(path)
    assert str(path) in str(info.value)


def test_missing_directory_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(BrandsError, match="no such brands file.*SOCIALPULSE_BRANDS_FILE"):
        load_brands_file(tmp_path / "nope.yml")
    with pytest.raises(BrandsError, match="is a directory"):
        load_brands_file(tmp_path)
    latin = tmp_path / "latin.yml"
    latin.write_bytes("brands:\n  - name: Caf\xe9\n".encode("latin-1"))
    with pytest.raises(BrandsError, match="not UTF-8"):
        load_brands_file(latin)


def test_empty_list_means_no_brands_and_duplicates_within_a_brand_are_merged() -> None:
    assert len(parse_brands({"brands": []})) == 0
    assert len(parse_brands({"brands": None})) == 0
    one = parse_brands({"brands": [{"name": "A", "handles": {"twitter": ["@a", "A"]}, "keywords": ["a", "x", "X"]}]})
    assert one.brands[0].handles == {"twitter": ("a",)}
    assert one.brands[0].keywords == ("x",)


def test_registry_built_in_code_checks_duplicates_too() -> None:
    with pytest.raises(BrandsError, match="<test>: brand 'B': handle @x on twitter already belongs to brand 'A'"):
        Brands([Brand("A", {"twitter": ("x",)}), Brand("B", {"twitter": ("x",)})], "<test>")
    # The same handle on two channels may belong to two brands (accounts are per platform).
    Brands([Brand("A", {"twitter": ("x",)}), Brand("B", {"instagram": ("x",)})])


# --- brand assignment ------------------------------------------------------------------------------------------------


def test_brand_from_handle_in_text_first(brands: Brands) -> None:
    assert brands.brand_for("@NimbusHelp my signal is gone", "twitter", "jo") == "NimbusMobile"
    assert brands.brand_for("@jo try @BREWLY, better than Nimbus", "twitter", "sam") == "Brewly"  # handle beats keyword
    # The earliest brand handle wins.
    assert brands.brand_for("@brewly @nimbusmobile both down", "twitter", "x") == "Brewly"
    assert brands.brand_for("@nimbusmobile @brewly both down", "twitter", "x") == "NimbusMobile"


def test_handles_are_per_channel_with_fallback_for_unlisted_channels(brands: Brands) -> None:
    # @nimbushelp is a twitter handle only; instagram lists handles, so it is not one there.
    assert brands.brand_for("@nimbushelp hi", "instagram", "x") is None
    assert brands.brand_for("@nimbusmobile hi", "instagram", "x") == "NimbusMobile"
    # No brand lists handles for mastodon: every channel's handles count.
    assert brands.brand_for("@brewly hi", "mastodon", "x") == "Brewly"
    assert brands.addressed("@nimbushelp hi", "mastodon")


def test_brand_from_author_when_the_brand_posts(brands: Brands) -> None:
    assert brands.brand_for("@jo sorry to hear that, please DM us", "twitter", "@NimbusHelp") == "NimbusMobile"
    assert brands.brand_for("@jo sorry to hear that", "twitter", "someone") is None


def test_brand_from_keywords_whole_words_case_insensitive(brands: Brands) -> None:
    assert brands.brand_for("switched to nimbus mobile last week", "facebook", "x") == "NimbusMobile"
    assert brands.brand_for("best FLAT WHITE in town", "reviews", "x") == "Brewly"
    assert brands.brand_for("#Brewly morning", "instagram", "x") == "Brewly"  # the name is a keyword
    assert brands.brand_for("Brewly's new menu", "twitter", "x") == "Brewly"
    assert brands.brand_for("nimbusfan here", "twitter", "x") is None  # not a whole word
    assert brands.brand_for("flat whites are great", "twitter", "x") is None
    assert brands.brand_for("", "twitter", "") is None


def test_keyword_tie_break_earliest_then_longest(brands: Brands) -> None:
    assert brands.brand_for("a flat white, then Nimbus", "twitter", "x") == "Brewly"
    assert brands.brand_for("Nimbus then a flat white", "twitter", "x") == "NimbusMobile"
    # Deterministic: the same input gives the same brand, whatever the order of calls.
    assert {brands.brand_for("Nimbus or flat white", "twitter", "x") for _ in range(5)} == {"NimbusMobile"}


def test_no_brands_assigns_nothing() -> None:
    assert NO_BRANDS.brand_for("@brewly cold coffee", "twitter", "x") is None
    assert len(NO_BRANDS) == 0


# --- addressed --------------------------------------------------------------------------------------------------------


def test_addressed_means_a_brand_or_care_handle_not_any_handle(brands: Brands) -> None:
    assert brands.addressed("@NimbusMobile no signal", "twitter")
    assert brands.addressed("no signal since Monday .@nimbusmobile", "twitter")
    assert brands.addressed("@AppleSupport my phone died", "twitter")  # a known care account, not configured
    assert brands.addressed("@jo @comcastcares still down?", "twitter")
    assert not brands.addressed("@jo that's the worst, hope you feel better", "twitter")
    assert not brands.addressed("@Nike my order", "twitter")  # an unconfigured brand is not addressed
    assert not brands.addressed("I love Nimbus", "twitter")  # a keyword is not an address
    assert not brands.addressed("mail help@nimbus.example", "twitter")  # an e-mail address is not a handle
    assert NO_BRANDS.addressed("@BTCare broadband down", "twitter")
    assert not NO_BRANDS.addressed("@brewly cold coffee", "twitter")


def test_care_accounts_end_in_the_care_word_people_only_contain_it() -> None:
    for care in ("@AppleSupport", "@comcastcares", "@SpotifyCares", "@USPSHelp", "@TopmanAskUs", "@AmazonHelp's"):
        assert NO_BRANDS.addressed(f"{care} still broken", "twitter"), care
    for person in ("@careyjones", "@helpinghands", "@servicedog_sam", "@supportive_friend"):
        assert not NO_BRANDS.addressed(f"{person} that's the worst, hope you feel better", "twitter"), person


def test_hostile_long_text_is_scanned_within_caps(brands: Brands) -> None:
    text = "@jo " * 300_000 + "@brewly"
    assert not brands.addressed(text, "twitter")  # beyond the handle scan cap
    assert brands.brand_for("x " * 100_000 + "Brewly", "twitter", "") is None


# --- load_brands(settings) --------------------------------------------------------------------------------------------


def test_load_brands_from_setting_data_dir_or_none(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    assert load_brands(load_settings({}, data_dir=data_dir)) is NO_BRANDS
    assert brands_path(load_settings({}, data_dir=data_dir)) is None
    (data_dir / "brands.yml").write_text(YAML, encoding="utf-8")
    assert load_brands(load_settings({}, data_dir=data_dir)).names == ("NimbusMobile", "Brewly")
    other = write(tmp_path, "brands:\n  - name: Other\n")
    settings = load_settings({"SOCIALPULSE_BRANDS_FILE": str(other)}, data_dir=data_dir)
    assert load_brands(settings).names == ("Other",)
    missing = load_settings({"SOCIALPULSE_BRANDS_FILE": str(tmp_path / "missing.yml")}, data_dir=data_dir)
    with pytest.raises(BrandsError, match="missing.yml: no such brands file"):
        load_brands(missing)


def test_shipped_sample_brands_cover_the_demo_brands() -> None:
    from pipeline.tools.sample.generator import BRANDS

    brands = load_brands_file(SAMPLE)
    assert set(brands.names) == {b.name for b in BRANDS}
    for b in BRANDS:
        for channel in ("twitter", "instagram", "facebook"):
            assert brands.brand_for(f"@{b.handle} hello", channel, "someone") == b.name
            assert brands.addressed(f"hello @{b.name}", channel)
        assert brands.brand_for(f"Great experience with {b.name}: five stars", "reviews", "x") == b.name
    assert brands.brand_for("the Nimbus app won't let me log in", "support", "x") == "NimbusMobile"


def test_longest_keyword_at_a_position_must_still_end_on_a_word_boundary() -> None:
    brands = Brands([Brand("Short", keywords=("flat",)), Brand("Long", keywords=("flat white",))])
    assert brands.brand_for("a flat white please", "twitter") == "Long"
    assert brands.brand_for("two flat whites please", "twitter") == "Short"  # "flat white" ends inside a word
    assert brands.brand_for("FLAT-WHITE", "twitter") == "Short"
    assert brands.brand_for("flatmate", "twitter") is None


def test_check_command_prints_brands_or_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.domain.brands import main

    assert main([str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "NimbusMobile — handles facebook: @nimbusmobile" in out and "Nimbus app" in out
    bad = write(tmp_path, "brands:\n  - name: A\n    handles: {twitter: '@a'}\n")
    assert main([str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'write it as ["@a"]' in err and "Traceback" not in err
    assert main([]) == 2

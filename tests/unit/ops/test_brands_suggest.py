"""pipeline/ops/brands_suggest.py: the `brands suggest` report and its brands.yml snippet (round trip through the
project's own parser), the warning of `up` and the worker when no brand is configured, the CLI command."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pipeline.adapters.clickhouse.brand_handles import AddressedHandle, learner_rows
from pipeline.domain.brands import NO_BRANDS, Brand, Brands, BrandsError, load_brands_file, parse_brands
from pipeline.ops.brands_suggest import blind_configuration_warning, build_suggestion
from pipeline.settings import Settings

BRANDS = Brands([Brand("Brewly", {"twitter": ("brewly",), "instagram": ("brewly",)})], "brands.yml")


def row(brand: str, handle: str, mentions: int, authors: int, channel: str = "twitter") -> AddressedHandle:
    return AddressedHandle(brand, channel, handle.lower(), handle, mentions, authors)


FOUND = [
    row("American", "AmericanAir", 800, 500), row("American", "AmericanAir", 40, 30, "instagram"),
    row("American", "AmericanAir", 3, 3, "facebook"),       # too few there: the snippet leaves facebook out
    row("American", "AmericanAirHelp", 120, 90), row("American", "aa_crew", 30, 12),
    row("American", "jo", 9, 1),                            # a person: few mentions, one author
    row("American", "brewly", 50, 40),                      # Brewly's handle, configured on twitter
    row("Brewly", "brewly", 300, 120), row("Brewly", "brewly", 20, 20, "instagram"),
    row("Brewly", "BrewlyCares", 60, 40), row("Brewly", "bean_bob", 15, 2),
]


def suggestion(found=FOUND, brands=BRANDS, **kwargs):
    options = {"days": 30, "top": 10, "min_mentions": 10, "brands_file": "/etc/sp/brands.yml"} | kwargs
    return build_suggestion(found, brands, **options)


def test_rows_say_configured_resembles_care_and_learned():
    report = suggestion()
    american, brewly = report.brands
    assert (american.brand, american.configured, brewly.brand, brewly.configured) == ("American", False, "Brewly", True)
    rows = {(h.channel, h.handle): h for h in american.handles}
    assert [(h.handle, h.mentions) for h in american.handles][:3] == [("AmericanAir", 800), ("AmericanAirHelp", 120),
                                                                       ("brewly", 50)]
    air = rows["twitter", "AmericanAir"]
    assert (air.configured, air.resembles, air.care, air.learned, air.authors) == (None, True, False, True, 500)
    assert rows["twitter", "AmericanAirHelp"].care and rows["twitter", "AmericanAirHelp"].resembles
    assert rows["twitter", "brewly"].configured == "Brewly" and not rows["twitter", "brewly"].resembles
    assert rows["twitter", "aa_crew"].learned and not rows["twitter", "aa_crew"].resembles
    assert not rows["twitter", "jo"].learned
    assert [(h.handle, h.learned) for h in brewly.handles if h.handle == "bean_bob"] == [("bean_bob", False)]


def test_top_limits_the_rows_not_the_snippet():
    report = suggestion(top=1)
    assert [len(b.handles) for b in report.brands] == [1, 1]
    assert "aa_crew" in report.snippet()


def test_the_snippet_holds_the_new_handles_that_pass_the_thresholds_per_channel():
    report = suggestion()
    american, brewly = report.brands
    assert american.to_add == (("instagram", ("AmericanAir",)),
                               ("twitter", ("AmericanAir", "AmericanAirHelp", "aa_crew")))
    assert brewly.to_add == (("twitter", ("BrewlyCares",)),)  # @brewly is configured; bean_bob has 2 authors
    assert report.snippet() == (
        'brands:\n'
        '  - name: "American"\n'
        '    handles:\n'
        '      instagram: ["@AmericanAir"]\n'
        '      twitter: ["@AmericanAir", "@AmericanAirHelp", "@aa_crew"]\n'
        '  # in brands.yml already: add these handles to its entry\n'
        '  - name: "Brewly"\n'
        '    handles:\n'
        '      twitter: ["@BrewlyCares"]\n')


def test_the_snippet_round_trips_through_the_brands_parser(tmp_path: Path):
    registry = parse_brands(yaml.safe_load(suggestion().snippet()))
    assert registry.names == ("American", "Brewly")
    assert registry.handles_for("twitter") == {"americanair": "American", "americanairhelp": "American",
                                               "aa_crew": "American", "brewlycares": "Brewly"}
    path = tmp_path / "brands.yml"  # pasted as the whole file
    path.write_text(suggestion(brands=NO_BRANDS, brands_file=None).snippet())
    loaded = load_brands_file(path)
    assert loaded.names == ("American", "Brewly")
    assert loaded.handles_for("twitter")["brewly"] == "Brewly"  # nothing configured: @brewly is new too


def test_the_snippet_merged_into_the_configured_file_is_accepted():
    report = suggestion()
    merged = {"brands": [{"name": "Brewly", "handles": {"twitter": ["@brewly"], "instagram": ["@brewly"]}}]}
    for entry in yaml.safe_load(report.snippet())["brands"]:
        mine = next((b for b in merged["brands"] if b["name"] == entry["name"]), None)
        if mine is None:
            merged["brands"].append(entry)
        else:
            for channel, handles in entry["handles"].items():
                mine["handles"].setdefault(channel, []).extend(handles)
    assert parse_brands(merged).handles_for("twitter")["brewlycares"] == "Brewly"


def test_a_handle_two_brands_address_goes_to_the_brand_with_more_mentions():
    found = [row("A Corp", "shared_desk", 100, 50), row("B Corp", "shared_desk", 40, 20),
             row("B Corp", "bcorp", 200, 100)]
    report = suggestion(found, NO_BRANDS)
    assert [b.to_add for b in report.brands] == [(("twitter", ("shared_desk",)),), (("twitter", ("bcorp",)),)]
    parse_brands(yaml.safe_load(report.snippet()))  # one owner per handle and channel


def test_names_and_handles_brands_yml_would_refuse_stay_out_of_the_snippet():
    found = [row("Odd \"name\" #1: x", "odd_desk", 50, 20), row("odd \"NAME\" #1: x", "odd_help", 50, 20),
             row("Long", "x" * 65, 50, 20), row("Chan", "chan_desk", 50, 20, channel="Web Chat"),
             row("  ", "blank_desk", 50, 20)]
    snippet = suggestion(found, NO_BRANDS).snippet()
    registry = parse_brands(yaml.safe_load(snippet))
    assert registry.names == ('Odd "name" #1: x',)  # one brand for both spellings of the name
    assert set(registry.handles_for("twitter")) == {"odd_desk", "odd_help"}


def test_the_thresholds_are_the_learners():
    report = suggestion(min_mentions=100)
    assert [b.to_add for b in report.brands] == [(("twitter", ("AmericanAir", "AmericanAirHelp")),), ()]
    assert (report.min_mentions, report.min_authors, report.min_share) == (100, 3, 0.02)


def test_render_shows_the_table_and_the_snippet():
    text = suggestion().render()
    assert "mentions of the last 30 days in ClickHouse (brands file: /etc/sp/brands.yml)" in text
    assert "American  (not in brands.yml)" in text and "Brewly  (in brands.yml)" in text
    line = next(ln for ln in text.splitlines() if "@brewly" in ln and "twitter" in ln and "300" in ln)
    assert line.split()[4] == "Brewly"  # configured column
    assert "@AmericanAirHelp" in text and "add it to /etc/sp/brands.yml" in text
    assert text.rstrip().endswith('twitter: ["@BrewlyCares"]')


def test_render_without_data_or_without_anything_to_add():
    assert "no stored mention of the last 7 days has a brand" in suggestion([], days=7).render()
    configured = Brands([Brand("Brewly", {"twitter": ("brewly", "brewlycares")})])
    text = suggestion([row("Brewly", "brewly", 300, 120), row("Brewly", "BrewlyCares", 60, 40)], configured).render()
    assert "Nothing to add" in text and "brands:" not in text


def test_as_dict_is_json():
    data = json.loads(json.dumps(suggestion().as_dict()))
    assert data["thresholds"] == {"min_mentions": 10, "min_authors": 3, "min_share": 0.02}
    american = data["brands"][0]
    assert american["handles"][0] == {"channel": "twitter", "handle": "AmericanAir", "mentions": 800, "authors": 500,
                                      "configured": None, "resembles": True, "care": False, "learned": True}
    assert american["to_add"]["instagram"] == ["@AmericanAir"]
    assert data["snippet"].startswith("brands:\n")


def test_learner_rows_sum_channels():
    assert sorted(learner_rows(FOUND[:3])) == [("American", "americanair", 843, 533)]


# --- the warning when no brand is configured ------------------------------------------------------------------------

def test_no_brands_file_is_blind(tmp_path: Path):
    line = blind_configuration_warning(Settings(data_dir=tmp_path))
    assert line == (f"no brands configured ({tmp_path.resolve() / 'brands.yml'}): complaints are addressed only by "
                    "care handles, handles resembling a mention's `brand` and handles learned from the stream; run "
                    "`socialpulse brands suggest` once mentions flowed, see docs/brands.md")
    off = blind_configuration_warning(Settings(data_dir=tmp_path, complaint_learn_handles=False))
    assert "only by care handles and handles resembling a mention's `brand`;" in off


def test_an_empty_brands_file_is_blind_and_a_configured_one_is_not(tmp_path: Path):
    path = tmp_path / "mine.yml"
    path.write_text("brands: []\n")
    assert f"({path})" in blind_configuration_warning(Settings(data_dir=tmp_path, brands_file=str(path)))
    path.write_text("brands:\n  - name: Brewly\n")
    assert blind_configuration_warning(Settings(data_dir=tmp_path, brands_file=str(path))) is None
    path.write_text("brands:\n  - name: Brewly\n    handle: [x]\n")
    with pytest.raises(BrandsError, match="unknown key"):
        blind_configuration_warning(Settings(data_dir=tmp_path, brands_file=str(path)))


def test_up_prints_the_warning_before_starting_the_worker(tmp_path: Path, monkeypatch):
    from pipeline.ops import stack as stack_module

    s = Settings(data_dir=tmp_path, kafka_bootstrap="kafka.example:9092", clickhouse_host="ch.example")
    monkeypatch.setattr("pipeline.adapters.kafka.admin.ensure_kafka_topics", lambda s: [])
    monkeypatch.setattr("pipeline.adapters.clickhouse.migrations.apply_migrations", lambda s: [])
    monkeypatch.setattr(stack_module.Stack, "start_worker", lambda self: 11)
    monkeypatch.setattr(stack_module.Stack, "start_dashboard", lambda self: 12)
    lines: list[str] = []
    stack_module.Stack(s).up(lines.append)
    (warning,) = [ln for ln in lines if "no brands configured" in ln]
    assert warning.startswith("brands      warning: no brands configured (")
    assert lines.index(warning) < next(i for i, ln in enumerate(lines) if ln.startswith("worker"))
    lines.clear()
    (tmp_path / "brands.yml").write_text("brands:\n  - name: Brewly\n")
    stack_module.Stack(s).up(lines.append)
    assert not [ln for ln in lines if "brands" in ln]


def test_the_worker_logs_the_warning_at_start(tmp_path: Path, monkeypatch, caplog):
    from pipeline.ops import worker

    class Stop(Exception):
        pass

    def stop(s):
        raise Stop

    monkeypatch.setattr(worker, "check_worker_port", lambda s: None)
    monkeypatch.setattr("agents.build_worker", stop)
    with caplog.at_level(logging.WARNING, logger="pipeline.ops.worker"), pytest.raises(Stop):
        worker.run_worker(Settings(data_dir=tmp_path, uvloop=False))
    assert [r.getMessage()[:22] for r in caplog.records] == ["no brands configured ("]


# --- the CLI ------------------------------------------------------------------------------------------------------

@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    return {"SOCIALPULSE_DATA_DIR": str(tmp_path), "SOCIALPULSE_BRANDS_FILE": "", "SOCIALPULSE_CLICKHOUSE_HOST":
            "127.0.0.1", "SOCIALPULSE_LOG_LEVEL": "warn"}


def test_cli_prints_the_report_and_json(monkeypatch, cli_env):
    from pipeline.cli import main

    asked = {}

    def fetch(s, **kwargs):
        asked.update(kwargs)
        return FOUND

    monkeypatch.setattr("pipeline.adapters.clickhouse.brand_handles.fetch_addressed_handles", fetch)
    result = CliRunner().invoke(main, ["brands", "suggest", "--days", "7", "--top", "2"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert asked == {"days": 7, "per_brand": 50}
    assert "mentions of the last 7 days" in result.output and "(brands file: none)" in result.output
    assert '  - name: "American"' in result.output
    result = CliRunner().invoke(main, ["brands", "suggest", "--json", "--min-mentions", "100"], env=cli_env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["thresholds"]["min_mentions"] == 100 and data["brands_file"] is None


def test_cli_clickhouse_down_is_one_line(cli_env):
    from pipeline.cli import main
    from pipeline.ops.services.process import free_port

    env = cli_env | {"SOCIALPULSE_CLICKHOUSE_PORT": str(free_port())}
    result = CliRunner().invoke(main, ["brands", "suggest"], env=env)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "socialpulse up" in lines[0], result.output
    assert "Traceback" not in result.output


def test_cli_refuses_bad_options_and_a_broken_brands_file(cli_env, tmp_path: Path):
    from pipeline.cli import main

    result = CliRunner().invoke(main, ["brands", "suggest", "--top", "0"], env=cli_env)
    assert result.exit_code == 2 and "--top" in result.output
    bad = tmp_path / "bad.yml"
    bad.write_text("brands:\n  - name: Brewly\n    handles:\n      twitter: \"@brewly\"\n")
    result = CliRunner().invoke(main, ["brands", "suggest"], env=cli_env | {"SOCIALPULSE_BRANDS_FILE": str(bad)})
    assert result.exit_code == 2 and "must be a list" in result.output and "Traceback" not in result.output
    help_text = CliRunner().invoke(main, ["brands", "suggest", "--help"]).output
    assert "--min-mentions" in help_text and "--json" in help_text


"""`socialpulse eval …` and `socialpulse brands …`: the complaint model on labelled data, the handles that address
each brand (registered on `pipeline.cli.main`)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import click

from pipeline.cli import CONTEXT, UserError, common_options, main
from pipeline.settings import Settings


@main.group(context_settings=CONTEXT)
def brands() -> None:
    """The handles that address each brand, from the stored mentions (docs/brands.md)."""


@brands.command("suggest", context_settings=CONTEXT)
@common_options
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True, help="Mentions of the last N days.")
@click.option("--top", type=click.IntRange(1, 1000), default=5, show_default=True, help="Handles listed per brand.")
@click.option("--min-mentions", type=click.IntRange(min=1), default=10, show_default=True,
              help="Mentions a handle needs for the snippet (besides 3 authors and 2 % of the brand's).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (field names are a contract).")
def brands_suggest(s: Settings, days: int, top: int, min_mentions: int, as_json: bool) -> None:
    """List each brand's most addressed handles (mentions, authors, configured?, resembles the brand?, care handle?)
    from ClickHouse, and a brands.yml snippet of the handles not configured that pass the learner's thresholds."""
    from pipeline.ops.brands_suggest import suggest_handles

    suggestion = suggest_handles(s, days=days, top=top, min_mentions=min_mentions)
    click.echo(json.dumps(suggestion.as_dict()) if as_json else suggestion.render())


@main.group(name="eval", context_settings=CONTEXT)
def eval_() -> None:
    """Evaluate models on labelled data."""


@eval_.command("complaints", context_settings=CONTEXT)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--threshold", type=float, default=None, help="Score threshold (default: the model's).")
@click.option("--brands", "brands_file", default="derived", show_default=True,
              help="How mentions are addressed: `derived` (the brand accounts found in the file, as an operator "
                   "would list them), `none` (no brands.yml: handles resembling the row's brand, handles learned "
                   "from the file, care handles) or a brands.yml path.")
@click.option("--prior", default="", help="Expected complaint share of the file (0.2), or `auto` (estimated from the "
                                          "file's own scores by EM); default: the model's calibration.")
def eval_complaints(file: Path, threshold: Optional[float], brands_file: str, prior: str) -> None:
    """Precision/recall/F1 of the complaint model on a labelled CSV (columns id,text,label,domain; or the airline
    sentiment format tweet_id,airline,airline_sentiment,text where negative = complaint)."""
    from pipeline.domain.brands import BrandsError, load_brands_file
    from pipeline.tools.complaints_eval import evaluate_csv, render_report

    try:
        if brands_file in ("derived", "none"):
            report = evaluate_csv(file, threshold, blind=brands_file == "none", prior=prior)
        else:
            report = evaluate_csv(file, threshold, brands=load_brands_file(brands_file), prior=prior)
    except (ValueError, BrandsError) as exc:
        raise UserError(str(exc)) from None
    click.echo(render_report(report))

"""Regenerate the bundled sample data (seeded, byte-for-byte reproducible).

    python scripts/make_sample.py                    # writes pipeline/data/sample/ with the defaults
    python scripts/make_sample.py --seed 11 --out /tmp/sample --mentions 100000
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import msgspec  # noqa: E402

from pipeline.tools.sample import generator as sample  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=sample.DEFAULT_SEED)
    ap.add_argument("--out", type=Path, default=sample.sample_dir(), help="output folder (default: %(default)s)")
    ap.add_argument("--customers", type=int, default=sample.DEFAULT_CUSTOMERS)
    ap.add_argument("--mentions", type=int, default=sample.DEFAULT_MENTIONS, help="distinct valid mentions")
    ap.add_argument("--days", type=int, default=sample.DEFAULT_DAYS)
    args = ap.parse_args(argv)
    summary = sample.write_sample(args.out, seed=args.seed, customers=args.customers, mentions=args.mentions,
                                  days=args.days)
    print(msgspec.json.format(msgspec.json.encode(summary), indent=2).decode())
    print(f"wrote {args.out / sample.CUSTOMERS_FILE} and {args.out / sample.MENTIONS_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Soak run: two workers at 1,000 mentions/s for 20 minutes on a scratch stack; RSS, table sizes and lag every
minute (pipeline/tools/soak.py; results in docs/guarantees.md, "Soak"). Not part of `make test`.

    .venv/bin/python scripts/soak.py [--minutes 20] [--rate 1000] [--workers 2] [--json soak.json]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.tools.soak import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

"""pipeline/textfile.py: a user's text file, or one line saying what is wrong with it."""
from __future__ import annotations

import pytest

from pipeline.textfile import read_text


class Custom(ValueError):
    pass


def test_text_and_errors(tmp_path):
    ok = tmp_path / "a.yml"
    ok.write_bytes(b"\xef\xbb\xbfbrands: []\n")
    assert read_text(ok) == "brands: []\n"  # the byte-order mark dropped
    with pytest.raises(Custom, match=r"missing.yml: no such brands file; create it"):
        read_text(tmp_path / "missing.yml", error=Custom, what="brands file", fix="create it")
    with pytest.raises(ValueError, match="is a directory"):
        read_text(tmp_path)
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(b"caf\xe9\n")
    with pytest.raises(ValueError, match=r"not UTF-8 text \(byte 3\)"):
        read_text(bad)

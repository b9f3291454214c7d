"""A user's UTF-8 text file (brands.yml, a labelled CSV) read with one-line errors that say how to fix it."""
from __future__ import annotations

from pathlib import Path


def read_text(path: Path, *, error: type[ValueError] = ValueError, what: str = "file", fix: str = "") -> str:
    """The file's text (a UTF-8 byte-order mark dropped); `error(message)` for a missing file, a directory, an
    unreadable file or bytes that are not UTF-8. `fix` is appended to the missing-file message."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: no such {what}" + (f"; {fix}" if fix else "")) from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a {what}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start}); save the {what} as UTF-8") from None

"""The one JSON codec (msgspec): typed decoders per record, one encoder."""
from __future__ import annotations

from typing import Any, TypeVar

import msgspec

T = TypeVar("T")
_encoder = msgspec.json.Encoder()
_decoders: dict[type, msgspec.json.Decoder] = {}


def encode(obj: Any) -> bytes:
    return _encoder.encode(obj)


def decoder(kind: type[T]) -> msgspec.json.Decoder:
    dec = _decoders.get(kind)
    if dec is None:
        dec = _decoders[kind] = msgspec.json.Decoder(kind)
    return dec


def decode(data: bytes | str, kind: type[T]) -> T:
    """Decode and validate JSON into `kind`; raises msgspec.ValidationError / DecodeError with a precise path."""
    try:
        return decoder(kind).decode(data)
    except RecursionError:  # msgspec's nesting limit: callers catch msgspec errors, not RecursionError
        raise msgspec.DecodeError("nested too deeply") from None

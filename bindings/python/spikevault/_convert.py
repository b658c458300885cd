"""Checked conversions from Python values to the C types of the ABI (and back for times).

Everything here fails with ``InvalidArgumentError``/``EncodingError`` *before* C sees a value
ctypes would silently mangle: ints wrapped modulo 2**64, strings cut at an embedded NUL.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Union

from .errors import EncodingError, InvalidArgumentError

__all__ = ["EPOCH", "int64", "fd", "finite_float", "text", "fs_path", "datetime_to_ms", "ms_to_datetime"]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_ONE_MS = timedelta(milliseconds=1)


def int64(value: object, what: str) -> int:
    """``value`` as an int that fits int64_t (bool is refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            if isinstance(value, bool):
                raise TypeError
            value = value.__index__()  # type: ignore[attr-defined]
        except (AttributeError, TypeError):
            raise InvalidArgumentError(f"{what} must be an int, not {type(value).__name__}") from None
    assert isinstance(value, int)
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise InvalidArgumentError(f"{what} = {value} does not fit in 64 bits")
    return value


def fd(value: object) -> int:
    """``value`` as a file descriptor the C ``int`` can carry (ctypes would truncate 2**32 to 0,
    stdin); a negative one is passed on for the library to refuse with its own message."""
    n = int64(value, "fd")
    if n >= 2**31:
        raise InvalidArgumentError(f"fd {n} is not an open file descriptor")
    return max(n, -1)


def finite_float(value: object, what: str) -> float:
    """``value`` as a float; NaN and infinities are left for the library to refuse."""
    if isinstance(value, bool):
        raise InvalidArgumentError(f"{what} must be a number, not bool")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{what} must be a number, not {type(value).__name__}") from None


def text(value: Union[str, bytes], what: str) -> bytes:
    """A ``str`` as UTF-8 (``surrogateescape`` restores undecodable OS bytes), ``bytes`` unchanged.

    Bytes are passed through as given, so the library decides about non-UTF-8 (it refuses it
    with ``EncodingError``). An embedded NUL is refused here: C would silently cut the string.
    """
    if isinstance(value, str):
        try:
            raw = value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            raise EncodingError(f"{what} cannot be encoded as UTF-8: {exc.reason}") from None
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
    else:
        raise InvalidArgumentError(f"{what} must be str or bytes, not {type(value).__name__}")
    if b"\0" in raw:
        raise InvalidArgumentError(f"{what} contains a NUL character")
    return raw


def fs_path(value: Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"], what: str) -> bytes:
    """A filesystem path as bytes (``os.fsencode``), refusing embedded NULs."""
    try:
        raw = os.fsencode(value)
    except TypeError:
        raise InvalidArgumentError(f"{what} must be a str, bytes or os.PathLike path, not {type(value).__name__}") from None
    except UnicodeEncodeError as exc:
        raise EncodingError(f"{what} cannot be encoded: {exc.reason}") from None
    if b"\0" in raw:
        raise InvalidArgumentError(f"{what} contains a NUL character")
    return raw


def datetime_to_ms(value: object, what: str) -> int:
    """An aware ``datetime`` as milliseconds since the Unix epoch (floor); naive is refused."""
    if not isinstance(value, datetime):
        raise InvalidArgumentError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgumentError(
            f"{what} is a naive datetime; give a timezone-aware one, e.g. datetime.now(timezone.utc)"
        )
    return int64((value - EPOCH) // _ONE_MS, what)


def ms_to_datetime(ms: int) -> datetime:
    """Milliseconds since the Unix epoch as an aware UTC ``datetime``."""
    return EPOCH + timedelta(milliseconds=ms)


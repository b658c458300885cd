"""Exceptions: one ``SpikeVaultError`` subclass per ``sv_status`` error code, and ``check``."""

from __future__ import annotations

from typing import Dict, Type, Union

from ._enums import Status

__all__ = [
    "SpikeVaultError", "LibraryLoadError", "InvalidArgumentError", "NullArgumentError",
    "EncodingError", "SpikeVaultIOError", "NoSpaceError", "PermissionDeniedError",
    "NotFoundError", "CorruptError", "TooLargeError", "DatabaseError", "ClosedError",
    "BusyError", "UnsupportedError", "NoSuchProcessError", "UnsafePathError",
    "SpikeVaultTimeoutError", "CancelledError", "EmptyError", "NoMemoryError",
    "ForkedError", "InternalError", "AlreadyExistsError", "CooldownError", "error_for_status", "check", "raise_for_status",
]


class SpikeVaultError(Exception):
    """Base of every SpikeVault error.

    ``status`` is the ``Status`` (or the raw int for a code this binding does not know) and
    ``message`` the detail text; ``str(error)`` is the message.
    """

    status: Union[Status, int] = Status.ERR_INTERNAL_ERROR

    def __init__(self, message: str, status: Union[Status, int, None] = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            try:
                self.status = Status(status)
            except ValueError:
                self.status = int(status)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        name = self.status.name if isinstance(self.status, Status) else str(self.status)
        return f"{type(self).__name__}({self.message!r}, status={name})"


class InvalidArgumentError(SpikeVaultError):
    status = Status.ERR_INVALID_ARGUMENT


class NullArgumentError(SpikeVaultError):
    status = Status.ERR_NULL_ARGUMENT


class EncodingError(SpikeVaultError):
    status = Status.ERR_ENCODING


class SpikeVaultIOError(SpikeVaultError):
    status = Status.ERR_IO


class NoSpaceError(SpikeVaultError):
    status = Status.ERR_NO_SPACE


class PermissionDeniedError(SpikeVaultError):
    status = Status.ERR_PERMISSION


class NotFoundError(SpikeVaultError):
    status = Status.ERR_NOT_FOUND


class CorruptError(SpikeVaultError):
    status = Status.ERR_CORRUPT


class TooLargeError(SpikeVaultError):
    status = Status.ERR_TOO_LARGE


class DatabaseError(SpikeVaultError):
    status = Status.ERR_DATABASE


class ClosedError(SpikeVaultError):
    status = Status.ERR_CLOSED


class BusyError(SpikeVaultError):
    status = Status.ERR_BUSY


class UnsupportedError(SpikeVaultError):
    status = Status.ERR_UNSUPPORTED


class NoSuchProcessError(SpikeVaultError):
    status = Status.ERR_NO_SUCH_PROCESS


class UnsafePathError(SpikeVaultError):
    status = Status.ERR_UNSAFE_PATH


class SpikeVaultTimeoutError(SpikeVaultError):
    status = Status.ERR_TIMEOUT


class CancelledError(SpikeVaultError):
    status = Status.ERR_CANCELLED


class EmptyError(SpikeVaultError):
    status = Status.ERR_EMPTY


class NoMemoryError(SpikeVaultError):
    status = Status.ERR_NO_MEMORY


class ForkedError(SpikeVaultError):
    status = Status.ERR_FORKED


class InternalError(SpikeVaultError):
    status = Status.ERR_INTERNAL_ERROR


class AlreadyExistsError(SpikeVaultError):
    status = Status.ERR_ALREADY_EXISTS


class CooldownError(SpikeVaultError):
    status = Status.ERR_COOLDOWN


class LibraryLoadError(SpikeVaultError, ImportError):
    """libspikevault could not be found or loaded, or its version is not supported."""

    status = Status.ERR_UNSUPPORTED

    def __init__(self, message: str, status: Union[Status, int, None] = None) -> None:
        SpikeVaultError.__init__(self, message, status)


_BY_STATUS: Dict[Status, Type[SpikeVaultError]] = {
    cls.status: cls
    for cls in (
        InvalidArgumentError, NullArgumentError, EncodingError, SpikeVaultIOError, NoSpaceError,
        PermissionDeniedError, NotFoundError, CorruptError, TooLargeError, DatabaseError,
        ClosedError, BusyError, UnsupportedError, NoSuchProcessError, UnsafePathError,
        SpikeVaultTimeoutError, CancelledError, EmptyError, NoMemoryError, ForkedError,
        InternalError, AlreadyExistsError, CooldownError,
    )
}


def error_for_status(status: int, message: str) -> SpikeVaultError:
    """The exception (not raised) for an error status; unknown codes give the base class."""
    try:
        cls = _BY_STATUS[Status(status)]
    except (ValueError, KeyError):
        return SpikeVaultError(message, status)
    return cls(message, status)


def check(status: int) -> int:
    """Return ``status`` if it is not an error, else raise its exception with ``sv_errmsg()``.

    Must be called on the thread that made the failing call (the message is thread-local).
    """
    if status >= 0:
        return status
    from ._library import lib  # late import: _library raises errors defined here

    raw = lib().sv_errmsg()
    message = raw.decode("utf-8", "replace") if raw else ""
    if not message:
        message = _status_text(status)
    raise error_for_status(status, message)


def raise_for_status(result: int, function: object, arguments: object) -> int:
    """ctypes ``errcheck`` of every ``sv_status`` function on the checked namespace (``_library.api()``).

    Runs on the calling thread right after the call, so ``sv_errmsg()`` is that call's detail.
    Returns the status unchanged when it is not an error (``SV_OK``, ``SV_ROW``, ``SV_DONE``).
    """
    return check(result)


def _status_text(status: int) -> str:
    from ._library import lib

    raw = lib().sv_status_string(status)
    return raw.decode("utf-8", "replace") if raw else f"status {status}"

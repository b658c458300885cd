"""Methods of the generated enums (_enums.py), as mixins: parsing and stored names.

The values and the stored names themselves come from abi/manifest.json; only behaviour is here.
"""

from __future__ import annotations

from typing import Any, Dict

__all__ = ["MetricMethods", "CaptureStatusMethods", "register_names"]

_NAMES: Dict[Any, str] = {}  # by (enum class, number): members of different enums compare equal
_BY_KEY: Dict[type, Dict[str, Any]] = {}


def _normalise(text: str) -> str:
    return text.replace("_", "").replace("-", "").replace(" ", "").lower()


def register_names(enum: type, names: Dict[Any, str]) -> None:
    """Record each member's stored name (the manifest's ``text``) and the keys that parse to it."""
    _NAMES.update({(enum, int(member)): text for member, text in names.items()})
    keys = {_normalise(member.name): member for member in enum}  # type: ignore[attr-defined]
    keys.update({_normalise(text): member for member, text in names.items()})
    _BY_KEY[enum] = keys


class MetricMethods:
    """``Metric``: ``stored_name`` is the text the vault stores; ``parse`` accepts every spelling."""

    @property
    def stored_name(self) -> str:
        """The name stored in the vault: ``cpu``, ``memory``, ``diskIO``, ``network``, ``threads``, ``fds``."""
        return _NAMES[(type(self), int(self))]  # type: ignore[call-overload]

    def __str__(self) -> str:  # print(record.metric) -> "cpu", not "1"
        return self.stored_name

    @classmethod
    def parse(cls, value: Any) -> Any:
        """Return the member for a Metric, its number, its Python name or its stored name.

        Strings are matched case-insensitively, ignoring ``_`` and ``-``: ``"diskIO"``,
        ``"disk_io"`` and ``"DISK-IO"`` all give ``Metric.DISK_IO``. Raises ``ValueError``
        for anything else (the public API turns that into ``InvalidArgumentError``).
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            member = _BY_KEY[cls].get(_normalise(value))
            if member is None:
                known = ", ".join(m.stored_name for m in cls)  # type: ignore[attr-defined]
                raise ValueError(f"unknown metric {value!r} (known: {known})")
            return member
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return cls(value)  # type: ignore[call-arg]
            except ValueError:
                raise ValueError(f"unknown metric number {value} (known: 1..{len(cls)})") from None  # type: ignore[arg-type]
        raise ValueError(f"metric must be a Metric or a str, not {type(value).__name__}")


class CaptureStatusMethods:
    """``CaptureStatus``: stored names and parsing."""

    @property
    def stored_name(self) -> str:
        """``complete``, ``partial``, ``failed``, ``missing`` or ``quarantined``."""
        return _NAMES[(type(self), int(self))]  # type: ignore[call-overload]

    def __str__(self) -> str:
        return self.stored_name

    @classmethod
    def parse(cls, value: Any) -> Any:
        """Return the member for a CaptureStatus, its number or its name (case-insensitive)."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            try:
                return cls[value.strip().upper()]  # type: ignore[index]
            except KeyError:
                raise ValueError(f"unknown capture status {value!r}") from None
        return cls(value)  # type: ignore[call-arg]

"""The options handle: built from keyword tunables for ``sv_vault_open``, always freed."""

from __future__ import annotations

import ctypes
from typing import Dict, Optional, Tuple

from ._convert import int64, text
from ._enums import TEXT_OPTION_SPECS, Option
from ._library import api, lib


__all__ = ["OptionsHandle", "option_bounds", "STRING_OPTIONS"]

#: Keys set with ``sv_options_set_string`` (host identity, docs/fleet.md).
STRING_OPTIONS = frozenset(TEXT_OPTION_SPECS)


def option_bounds(key: Option) -> Tuple[int, int, int]:
    """``(minimum, maximum, default)`` of a tunable, as the library reports them."""
    low, high, default = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
    api().sv_option_bounds(int(Option(key)), ctypes.byref(low), ctypes.byref(high), ctypes.byref(default))
    return low.value, high.value, default.value


class OptionsHandle:
    """Context manager owning an ``sv_options*``; yields None (library defaults) when empty."""

    def __init__(self, values: Dict[Option, Optional[int]]) -> None:
        self._values = {key: value for key, value in values.items() if value is not None}
        self._handle: Optional[int] = None

    def __enter__(self) -> Optional[int]:
        if not self._values:
            return None
        library = lib()
        handle = ctypes.c_void_p()
        api().sv_options_new(ctypes.byref(handle))
        self._handle = handle.value
        try:
            for key, value in self._values.items():
                if key in STRING_OPTIONS:
                    api().sv_options_set_string(self._handle, int(key), text(value, key.name.lower()))
                else:
                    api().sv_options_set_int(self._handle, int(key), int64(value, key.name.lower()))
        except BaseException:
            self.__exit__()
            raise
        return self._handle

    def __exit__(self, *_: object) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            lib().sv_options_free(handle)

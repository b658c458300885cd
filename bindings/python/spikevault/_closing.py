"""One shape for the objects that own a C handle (a cursor, a filter, a sampler, a monitor, a
rule): ``close()`` releases it and is idempotent, a ``with`` block closes it, and a forgotten
object is closed when collected, quietly (a finaliser must never raise). ``Vault`` keeps its own:
its close waits for calls in progress, which a finaliser must not."""

from __future__ import annotations

__all__ = ["Closing"]


class Closing:
    __slots__ = ()

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

"""Background writes (``Vault.save_async``, ``purge_async``, ``maintain_async``): each call
queues the write on the vault's writer thread and returns a ``concurrent.futures.Future``
at once; the calling thread never waits for the disk.

One C callback serves every job: the library calls it on its writer thread with a token
(the ``user_data``) that names the future to complete, so no per-call ctypes object has to
be kept alive.
"""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import Future
from typing import Callable, Dict

from ._functions import CAPTURE_CALLBACK
from ._library import lib
from .errors import error_for_status

__all__ = ["start"]

_lock = threading.Lock()
_pending: Dict[int, "Future[int]"] = {}
_tokens = itertools.count(1)


def _on_done(_job: int, status: int, value: int, user_data: int) -> None:
    # On the library's writer thread. The message of a failure is this thread's sv_errmsg.
    with _lock:
        future = _pending.pop(int(user_data or 0), None)
    if future is None:
        return
    if status >= 0:
        future.set_result(int(value))
    else:
        future.set_exception(error_for_status(status, lib().sv_errmsg().decode("utf-8", "replace")))


_CALLBACK = CAPTURE_CALLBACK(_on_done)


def start(call: Callable[[object, int], int]) -> "Future[int]":
    """Runs ``call(callback, token)`` (a ``sv_vault_*_start`` call returning its status) and
    returns the future its callback completes. A refused start raises at once."""
    future: "Future[int]" = Future()
    future.set_running_or_notify_cancel()  # queued writes cannot be withdrawn through the future
    token = next(_tokens)
    with _lock:
        _pending[token] = future
    status = call(_CALLBACK, token)
    if status < 0:
        with _lock:
            _pending.pop(token, None)
        raise error_for_status(status, lib().sv_errmsg().decode("utf-8", "replace"))
    return future

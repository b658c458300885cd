"""``spikevault serve``: a local web page of recent anomalies, flame graphs and quick actions
(docs/serve.md). ``serve(vault)`` returns a running ``Server``; stop it with ``stop()`` or use
it as a context manager. No signal handler is installed in the host."""

from __future__ import annotations

import os
from typing import Any, Callable, Optional

from .server import Server

__all__ = ["serve", "Server"]


def serve(vault: Any, *, host: str = "127.0.0.1", port: int = 0, read_only: bool = False,
          token: Optional[str] = None, page_size: int = 50, log: Optional[Callable[[str], None]] = None,
          start: bool = True) -> Server:
    """Serve ``vault`` (a ``Vault``, or a vault directory opened read-only-existing and closed
    on ``stop()``) at ``http://host:port`` (port 0: any free one); ``server.url`` holds the
    random access token. ``read_only=True`` offers no action that changes anything. ``log``
    receives one line per request (default: nothing is printed)."""
    from ..vault import Vault

    owns = not isinstance(vault, Vault)
    v = Vault(os.fspath(vault), create=False) if owns else vault
    try:
        server = Server(v, host=host, port=port, read_only=read_only, token=token, page_size=page_size,
                        log=log, owns_vault=owns)
    except BaseException:
        if owns:
            v.close()
        raise
    return server.start() if start else server

"""The HTTP server: the standard library's ThreadingHTTPServer (docs/serve.md says why), one
thread per request, bound to 127.0.0.1 unless a host is given. ``Server`` runs it on a
background thread and stops it with ``stop()`` or as a context manager; it installs no signal
handler (the CLI does, for Ctrl-C and SIGTERM)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional

from .auth import Auth
from .routes import SECURITY_HEADERS, App, Response

__all__ = ["Server"]


class _Handler(BaseHTTPRequestHandler):
    server_version = "spikevault-serve"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def _run(self) -> None:
        app: App = self.server.app  # type: ignore[attr-defined]
        try:
            resp = app.handle(self.command, self.path, self.headers, self.rfile.read)
        except Exception as exc:  # a bug must not kill the server thread or leak a traceback to the page
            log = self.server.log  # type: ignore[attr-defined]
            if log:
                log(f"spikevault serve: {self.command} {self.path}: {type(exc).__name__}: {exc}")
            resp = Response(500, b"500: internal error (see the server's log)\n", "text/plain")
        self._send(resp)

    def _send(self, resp: Response) -> None:
        body = resp.body
        self.send_response(resp.status)
        for name, value in SECURITY_HEADERS:
            self.send_header(name, value)
        self.send_header("Content-Type", resp.content_type)
        for name, value in resp.headers:
            self.send_header(name, value)
        if isinstance(body, (bytes, bytearray)):
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        self.send_header("Content-Length", str(resp.length))
        self.end_headers()
        try:
            for chunk in body:
                if self.command != "HEAD":
                    self.wfile.write(chunk)
        finally:
            close = getattr(body, "close", None)
            if close:
                close()

    do_GET = do_HEAD = do_POST = _run

    def do_PUT(self) -> None:  # noqa: N802 - every other method: 405, still behind the token
        self._run()

    do_DELETE = do_PATCH = do_OPTIONS = do_PUT

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log = self.server.log  # type: ignore[attr-defined]
        if log:
            log("spikevault serve: " + format % args)


class Server:
    """A running review server. ``url`` holds the access token; ``stop()`` is idempotent."""

    def __init__(self, vault: Any, *, host: str = "127.0.0.1", port: int = 0, read_only: bool = False,
                 token: Optional[str] = None, page_size: int = 50, log: Optional[Callable[[str], None]] = None,
                 owns_vault: bool = False) -> None:
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be 1..1000")
        self.auth = Auth(token)
        self.read_only = read_only
        self._vault, self._owns_vault = vault, owns_vault
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.app = App(vault, self.auth, read_only, page_size)  # type: ignore[attr-defined]
        self._httpd.log = log  # type: ignore[attr-defined]
        self._thread: Optional[threading.Thread] = None
        self._stopped = False
        self._lock = threading.Lock()

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The address to open: the base URL with the access token."""
        return f"{self.base_url}/?token={self.auth.token}"

    def start(self) -> "Server":
        """Serve on a background (daemon) thread; returns self."""
        with self._lock:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._httpd.serve_forever, name="spikevault-serve",
                                                kwargs={"poll_interval": 0.2}, daemon=True)
                self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on this thread until ``stop()`` is called from another thread."""
        self._httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            thread = self._thread
        if thread is not None:
            self._httpd.shutdown()
            thread.join()
        self._httpd.server_close()
        if self._owns_vault:
            self._vault.close()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""``spikevault serve``: the local review web page (spikevault.serve; docs/serve.md). The
signal handlers for Ctrl-C and SIGTERM live here, in the command, never in the package."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any, List

from .common import CliError, Context
from .parsing import arg_positive_int

HELP = "a local web page of recent anomalies, flame graphs and quick actions (token-protected)"


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help=HELP, parents=parents,
                       description=HELP + ". Binds 127.0.0.1 unless --host is given; prints a URL holding a random "
                                          "access token (every request without it gets 403). Ctrl-C stops it.",
                       epilog="examples:\n  spikevault serve\n  spikevault serve --port 8765 --read-only\n"
                              "  spikevault serve --host 0.0.0.0     (reachable from the network: think twice)",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0, metavar="N", help="TCP port (default: any free port)")
    p.add_argument("--host", default=None, metavar="ADDR",
                   help="address to bind (default 127.0.0.1; anything else prints a warning)")
    p.add_argument("--read-only", action="store_true", help="offer no action that changes the vault (no re-run)")
    p.add_argument("--page-size", type=arg_positive_int, default=50, metavar="N",
                   help="captures per page of the list (default 50, at most 1000)")
    p.set_defaults(run=run)


def run(ctx: Context) -> int:
    from ..web import Server

    args = ctx.args
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port {args.port}: use 0..65535 (0: any free port)")
    if args.page_size > 1000:
        raise CliError(f"--page-size {args.page_size}: at most 1000")
    host = args.host or "127.0.0.1"
    if args.host is not None and host not in ("127.0.0.1", "::1", "localhost"):
        ctx.stderr.write(f"spikevault serve: warning: binding {host}: other machines can reach this server; "
                         "only the access token protects the captures\n")
    vault = ctx.open_vault()
    log = (lambda line: ctx.stderr.write(line + "\n")) if ctx.args.verbose else None
    try:
        server = Server(vault, host=host, port=args.port, read_only=args.read_only, page_size=args.page_size, log=log)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{args.port}: {exc.strerror or exc}") from None
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        ctx.stdout.write(f"Serving {vault.path}{' (read-only)' if args.read_only else ''} at:\n    {server.url}\n")
        ctx.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for s, h in previous.items():
            signal.signal(s, h)
    ctx.stdout.write("Stopped.\n")
    return 0

"""The request router: which page or action a method and path map to, with the safety rules
applied before anything runs (token, then for POST the CSRF token and a same-origin check,
then read-only mode). Handlers return a ``Response``; none writes on GET."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..errors import SpikeVaultError
from ..review import ANALYTICS_NAMES, record_key
from . import actions, flamedata, pages, threadchart
from .auth import Auth
from .filters import parse_filters

__all__ = ["Response", "App", "SECURITY_HEADERS"]

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = (("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
                    ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin"),
                    ("Cross-Origin-Resource-Policy", "same-origin"), ("Cross-Origin-Opener-Policy", "same-origin"),
                    ("Cache-Control", "no-store"))
STATIC = {"app.js": "text/javascript; charset=utf-8", "flame.js": "text/javascript; charset=utf-8",
          "style.css": "text/css; charset=utf-8"}
MAX_FORM = 64 * 1024
HTML = "text/html; charset=utf-8"


@dataclass
class Response:
    status: int
    body: Any = b""  # bytes, or an iterator of byte chunks (streamed)
    content_type: str = HTML
    headers: List[Tuple[str, str]] = field(default_factory=list)
    length: Optional[int] = None


@dataclass
class Request:
    method: str
    path: str
    params: Dict[str, str]
    headers: Any  # email.message.Message
    read_body: Callable[[int], bytes]


def _html(status: int, page: str) -> Response:
    return Response(status, page.encode("utf-8"))


def _json(doc: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(doc, allow_nan=False, default=str).encode(), "application/json")


class App:
    def __init__(self, vault: Any, auth: Auth, read_only: bool, page_size: int) -> None:
        self.vault, self.auth, self.read_only, self.page_size = vault, auth, read_only, page_size
        self._static: Dict[str, bytes] = {}

    # -- entry -------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Any, read_body: Callable[[int], bytes]) -> Response:
        parts = urlsplit(target)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        token = params.pop("token", None)
        if token is not None:
            if not self.auth.query_token_ok(token):
                return self._forbidden()
            # (Referrer-Policy same-origin: with no-referrer Chrome sends "Origin: null" on our own forms.)
            # Trade the URL's token for the cookie, and drop it from the address bar and history.
            clean = parts.path + (("?" + urlencode(params)) if params else "")
            return Response(303, b"", "text/plain", [("Location", clean or "/"), ("Set-Cookie", self.auth.set_cookie())])
        if not self.auth.cookie_ok(headers.get("Cookie")):
            return self._forbidden()
        req = Request(method, parts.path, params, headers, read_body)
        try:
            if method in ("GET", "HEAD"):
                return self._get(req)
            if method == "POST":
                return self._post(req)
            return Response(405, b"method not allowed", "text/plain", [("Allow", "GET, HEAD, POST")])
        except SpikeVaultError as exc:
            return _html(_status_of(exc), pages.error_page(_status_of(exc), str(exc), self.auth.csrf))

    def _forbidden(self) -> Response:
        return Response(403, b"403: open the URL with the access token that spikevault serve printed\n", "text/plain")

    # -- GET -----------------------------------------------------------------------------------

    def _get(self, req: Request) -> Response:
        path = req.path
        if path == "/":
            return self._list(req)
        if path.startswith("/static/"):
            return self._static_file(path[len("/static/"):])
        m = re.fullmatch(r"/capture/(\d{1,18})", path)
        if m:
            return self._capture(int(m.group(1)), req.params)
        m = re.fullmatch(r"/api/stacks/(\d{1,18})", path)
        if m:
            return self._stacks(int(m.group(1)), req.params.get("kind", ""))
        m = re.fullmatch(r"/api/summary/(\d{1,18})", path)
        if m:
            fmt = req.params.get("format", "text")
            if fmt not in ("text", "json"):
                return _json({"error": "format is text or json"}, 400)
            doc = self.vault.summary(int(m.group(1)), fmt, redact=True)
            return _json({"format": fmt, "summary": doc})
        if path == "/api/latest":
            newest = next(iter(self.vault.query(limit=1, order="time-desc")), None)
            return _json({"newest": newest.id if newest else None})
        if path == "/export":
            return self._export(req.params)
        if path == "/analytics":
            return self._analytics(req.params.get("template", "peak-by-process"))
        return _html(404, pages.error_page(404, f"no page {path}", self.auth.csrf))

    def _list(self, req: Request) -> Response:
        f = parse_filters(req.params)
        rows: List[Any] = []
        next_after = None
        if not f.errors:
            try:
                # One row more than a page tells whether a next page exists; memory stays one page.
                it = self.vault.query(limit=self.page_size + 1, after=f.after, **f.criteria)
                rows = [r for _, r in zip(range(self.page_size + 1), it)]
            except SpikeVaultError as exc:
                f.errors.append(str(exc))
        if len(rows) > self.page_size:
            rows = rows[:self.page_size]
            next_after = record_key(rows[-1])
        newest = next(iter(self.vault.query(limit=1, order="time-desc")), None)
        return _html(200, pages.list_page(rows, f, next_after, newest.id if newest else None,
                                          self.auth.csrf, self.read_only))

    def _capture(self, capture_id: int, params: Dict[str, str]) -> Response:
        r = self.vault.get(capture_id)
        kinds = flamedata.stack_kinds(r)
        kind = params.get("kind") if params.get("kind") in kinds else flamedata.default_kind(r)
        against = diff = None
        diff_error = None
        if params.get("against", "").strip():
            try:
                against = self.vault.get(int(params["against"]))
                diff = flamedata.diff_rows(self.vault, against, r)
            except (ValueError, LookupError, SpikeVaultError) as exc:
                diff_error = f"cannot compare: {exc}"
        try:
            summary = self.vault.summary(r.id, "text", redact=True)
        except SpikeVaultError as exc:  # e.g. a malformed procfs.json: the rest of the page still renders
            summary = f"(no summary: {exc})"
        page = pages.capture_page(r, summary, kinds, kind, actions.artefact_paths(self.vault, r), diff, against,
                                  diff_error, threadchart.render(*threadchart.load(self.vault, r)),
                                  self.auth.csrf, self.read_only)
        return _html(200, page)

    def _stacks(self, capture_id: int, kind: str) -> Response:
        r = self.vault.get(capture_id)
        try:
            return _json({"kind": kind, "root": flamedata.flame(self.vault, r, kind)})
        except LookupError as exc:
            return _json({"error": str(exc)}, 404)

    def _export(self, params: Dict[str, str]) -> Response:
        fmt = params.get("format", "json")
        if fmt not in actions.EXPORT_TYPES:
            return _html(400, pages.error_page(400, f"export format is one of {', '.join(actions.EXPORT_TYPES)}",
                                               self.auth.csrf))
        redact = params.get("redact", "1") != "0"
        if params.get("id", "").isdigit():
            criteria = actions.single_capture_criteria(self.vault.get(int(params["id"])))
        else:
            f = parse_filters(params)
            if f.errors:
                return _html(400, pages.error_page(400, "; ".join(f.errors), self.auth.csrf))
            criteria = f.criteria
        name, chunks, size = actions.export_file(self.vault, fmt, redact, criteria)
        return Response(200, chunks, actions.EXPORT_TYPES[fmt][0],
                        [("Content-Disposition", f'attachment; filename="{name}"')], size)

    def _analytics(self, name: str) -> Response:
        if name not in ANALYTICS_NAMES:
            return _html(404, pages.error_page(404, f"no analytics template {name}", self.auth.csrf))
        rows = self.vault.analytics(name)
        return _html(200, pages.analytics_page(name, sorted(ANALYTICS_NAMES), rows, self.auth.csrf, self.read_only))

    def _static_file(self, name: str) -> Response:
        if name not in STATIC:
            return Response(404, b"not found", "text/plain")
        if name not in self._static:
            self._static[name] = resources.files(__package__).joinpath("static", name).read_bytes()
        return Response(200, self._static[name], STATIC[name])

    # -- POST ----------------------------------------------------------------------------------

    def _post(self, req: Request) -> Response:
        origin = req.headers.get("Origin")
        host = req.headers.get("Host", "")
        if origin is not None and urlsplit(origin).netloc != host:
            return Response(403, b"403: cross-origin POST refused\n", "text/plain")
        try:
            length = int(req.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_FORM:
            return Response(413 if length > MAX_FORM else 400, b"bad Content-Length\n", "text/plain")
        form = dict(parse_qsl(req.read_body(length).decode("utf-8", "replace"), keep_blank_values=True))
        if not self.auth.csrf_ok(form.get("csrf")):
            return Response(403, b"403: missing or wrong CSRF token\n", "text/plain")
        if self.read_only:
            return Response(403, b"403: the server runs with --read-only\n", "text/plain")
        m = re.fullmatch(r"/capture/(\d{1,18})/rerun", req.path)
        if m:
            new = self.vault.rerun(int(m.group(1)))
            return Response(303, b"", "text/plain", [("Location", f"/capture/{new.id}")])
        m = re.fullmatch(r"/capture/(\d{1,18})/delete", req.path)
        if m:
            self.vault.delete(int(m.group(1)))
            return Response(303, b"", "text/plain", [("Location", "/")])
        return _html(404, pages.error_page(404, f"no action {req.path}", self.auth.csrf))


def _status_of(exc: SpikeVaultError) -> int:
    from ..errors import InvalidArgumentError, NotFoundError

    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, InvalidArgumentError):
        return 400
    return 409

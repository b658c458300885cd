"""Access control: a random token (given once in the URL, as Jupyter does, then kept in an
HttpOnly, SameSite=Strict cookie) on every request, and a CSRF token on every POST. Both are
compared in constant time. Without the token every request gets 403, static files included."""

from __future__ import annotations

import hmac
import secrets
from http.cookies import CookieError, SimpleCookie
from typing import Optional

__all__ = ["Auth", "COOKIE"]

COOKIE = "spikevault_token"


class Auth:
    def __init__(self, token: Optional[str] = None) -> None:
        self.token = token or secrets.token_urlsafe(32)
        if len(self.token) < 16:
            raise ValueError("the access token must have at least 16 characters")
        # Separate from the access token: a CSRF token is shown in pages, the access token never is.
        self.csrf = secrets.token_urlsafe(32)

    @staticmethod
    def _same(given: Optional[str], expected: str) -> bool:
        return given is not None and hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())

    def query_token_ok(self, given: Optional[str]) -> bool:
        return self._same(given, self.token)

    def cookie_ok(self, header: Optional[str]) -> bool:
        if not header:
            return False
        try:
            jar = SimpleCookie(header)
        except CookieError:
            return False
        morsel = jar.get(COOKIE)
        return morsel is not None and self._same(morsel.value, self.token)

    def csrf_ok(self, given: Optional[str]) -> bool:
        return self._same(given, self.csrf)

    def set_cookie(self) -> str:
        return f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"

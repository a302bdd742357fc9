"""productpage's login session: a signed ``session`` cookie holding ``{"user": name}``.

Like Flask's session (productpage.py stores ``session['user']``), the cookie is readable but
signed, so a client cannot forge a user by editing it; a cookie that fails the check counts
as no session. The cookie is path ``/`` and HttpOnly, as Flask sets it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from chaoskit.mesh.http.message import Headers

COOKIE = "session"
_KEY = hashlib.sha256(b"chaoskit bookinfo productpage session").digest()
_CLEAR = f"{COOKIE}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: str) -> str:
    return _b64(hmac.new(_KEY, payload.encode("ascii"), hashlib.sha1).digest())


def session_value(user: str | None) -> str:
    """The cookie value for a session holding ``user`` (None: logged in without a name)."""
    payload = _b64(json.dumps({"user": user}, separators=(",", ":")).encode())
    return f"{payload}.{_signature(payload)}"


def set_cookie(user: str | None) -> str:
    """``Set-Cookie`` after /login."""
    return f"{COOKIE}={session_value(user)}; HttpOnly; Path=/"


def clear_cookie() -> str:
    """``Set-Cookie`` after /logout: the session is emptied, so the cookie is deleted."""
    return _CLEAR


def _cookie(headers: Headers, name: str) -> str | None:
    for line in headers.get_all("cookie"):
        for part in line.split(";"):
            key, sep, value = part.strip().partition("=")
            if sep and key == name:
                return value.strip('"')
    return None


def session_user(headers: Headers) -> str | None:
    """The logged-in user from the request's cookies; None without a valid session.

    A session whose user is null (a /login without ``username``) also gives None: the real
    productpage then sends ``end-user: None``, which python-requests drops.
    """
    value = _cookie(headers, COOKIE)
    if not value:
        return None
    payload, _, signature = value.rpartition(".")
    try:
        if not hmac.compare_digest(signature, _signature(payload)):
            return None
        data = json.loads(_unb64(payload))
    except (ValueError, TypeError):  # bad base64 or JSON; non-ASCII signature
        return None
    user = data.get("user") if isinstance(data, dict) else None
    return user if isinstance(user, str) else None

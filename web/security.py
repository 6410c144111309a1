"""What keeps another page from acting as the logged-in user (issue 13).

- **CSRF tokens** on every state-changing request (POST, PUT, PATCH, DELETE), by Flask-WTF's
  ``CSRFProtect`` (the session holds the token; forms carry it as ``{{ csrf_field() }}``, the
  page's scripts as the ``X-CSRFToken`` header read from ``<meta name="csrf-token">``).
- **Origin / Referer**: a state-changing request that names another origin (another host, or
  another port of ours) is refused before anything runs. A request naming none (a
  non-browser client) still needs the token.
- **Redirects** only to our own paths (:func:`own_path`).

A refusal is the page in the user's language (403 for a foreign origin, 400 for a missing or
stale token), or ``{"error", "code"}`` to a script.
"""
from __future__ import annotations

import logging
import urllib.parse

from flask import current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from markupsafe import Markup, escape

log = logging.getLogger(__name__)

csrf = CSRFProtect()
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


def csrf_field() -> Markup:
    """The hidden field every POST form carries."""
    return Markup('<input type="hidden" name="csrf_token" value="%s">') % escape(generate_csrf())


def _origin_of(url: str) -> str | None:
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def _our_origin() -> str:
    return f"{request.scheme}://{request.host}".lower()


def foreign_origin() -> str | None:
    """The other origin a state-changing request comes from (None: ours, or it names none).
    Browsers send ``Origin`` on every cross-origin POST; ``Referer`` stands in where it is
    missing."""
    ours = _our_origin()
    origin = request.headers.get("Origin")
    if origin is not None:
        return None if origin.lower() == ours else origin   # "null" (a sandboxed page, a data: URL) is foreign
    referrer = request.headers.get("Referer")
    if referrer:
        theirs = _origin_of(referrer)
        return None if theirs == ours else (theirs or referrer)
    return None


def own_path(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this panel, else ``default``. A path is ours when it starts
    with one "/" and, read as browsers read it (tabs and newlines dropped, "\\" as "/"), names
    no other host or scheme: ``/%09/evil.example/`` and ``/\\evil.example`` are not."""
    if not target:
        return default
    cleaned = "".join(ch for ch in urllib.parse.unquote(target) if ch not in "\t\r\n").replace("\\", "/")
    if not target.startswith("/") or not cleaned.startswith("/") or cleaned.startswith("//"):
        return default
    parts = urllib.parse.urlsplit(cleaned)
    if parts.scheme or parts.netloc or any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in cleaned):
        return default
    return target


def back(default: str) -> str:
    """Where "back" leads after an action: the Referer when it is a page of this panel, else ``default``."""
    referrer = request.referrer
    if not referrer or _origin_of(referrer) != _our_origin():
        return default
    parts = urllib.parse.urlsplit(referrer)
    return own_path(parts.path + (f"?{parts.query}" if parts.query else ""), default)


def refuse(code: str, status: int, **params):
    """The translated refusal: a page, or JSON to a script."""
    from vksroom.web import i18n

    message = i18n.translate(code, i18n.current_language(current_app.config["LANGUAGE"]), **params)
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return jsonify({"error": message, "code": code}), status
    return render_template("message.html", message=message), status


HSTS = "max-age=31536000"


def init_app(app, https: bool = False) -> None:
    # The token lives as long as the session does (the session's idle timeout ends both).
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # The largest form (an act: two texts of 20,000 characters) is far below this.
    if app.config.get("MAX_CONTENT_LENGTH") is None:   # Flask's default: no limit
        app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    if https:
        app.config["SESSION_COOKIE_SECURE"] = True   # on HTTPS the cookie never goes out in clear

    @app.after_request
    def _headers(response):
        # No other page may frame the panel (a click on a hidden panel button is a forged action
        # no token stops); the Referer goes to our own pages only (the token check on TLS reads it).
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = HSTS
        return response

    @app.before_request
    def _same_origin():
        if request.method in STATE_CHANGING:
            other = foreign_origin()
            if other is not None:
                log.warning("panel: refused %s %s from another origin %s (%s)", request.method, request.path,
                            other, request.remote_addr)
                return refuse("security.foreign_origin", 403)
        return None

    csrf.init_app(app)   # after the origin check: a foreign page is told so before its token is looked at

    @app.errorhandler(413)
    def _too_large(exc):
        return refuse("security.too_large", 413)

    @app.errorhandler(CSRFError)
    def _bad_token(exc):
        log.warning("panel: refused %s %s: %s (%s)", request.method, request.path, exc.description,
                    request.remote_addr)
        return refuse("security.csrf", 400)

"""The panel's own error pages: 403, 404, 405 and 500 said in the reader's language on the
panel's layout (Flask's English pages are never shown); JSON for a client that asks for it."""
from __future__ import annotations


from flask import current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from vksroom.web import i18n

PAGES = (403, 404, 405, 500)


def _page(exc: HTTPException):
    code = exc.code if exc.code in PAGES else 500
    lang = i18n.current_language(current_app.config["LANGUAGE"])
    message = i18n.translate(f"error.{code}", lang)
    headers = [(k, v) for k, v in exc.get_headers() if k == "Allow"]   # a 405 says what is allowed
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"error": message}), code, headers
    return render_template("error.html", code=code, message=message), code, headers


def init_app(app) -> None:
    """Our pages for these codes; an unhandled exception reaches the 500 one (outside tests)."""
    for code in PAGES:
        app.register_error_handler(code, _page)


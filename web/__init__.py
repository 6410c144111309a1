"""The technician's panel: a Flask app built by :func:`create_app` around a controller.

Like Flask's tutorial app: a factory, blueprints, the controller passed in (so tests can
hand it one wired to simulators). The panel is an adapter on the controller: it reads
``controller.readiness()`` and calls the controller's methods; it holds no room state.
"""
from __future__ import annotations

import importlib

from flask import Flask, g, session
from vksroom.web import i18n

# Blueprint modules; each exposes ``bp`` (their words are in translations/*.po).
BLUEPRINTS = (
    "vksroom.web.auth",
    "vksroom.web.panel",
    "vksroom.web.hearings",
    "vksroom.web.audio",
    "vksroom.web.codec",
    "vksroom.web.camera",
    "vksroom.web.video",
)


def create_app(controller, config: dict | None = None) -> Flask:
    app = Flask(__name__)
    panel_cfg = getattr(getattr(controller, "cfg", None), "panel", None)
    app.config.update(
        CONTROLLER=controller,
        LANGUAGE=getattr(panel_cfg, "language", "ru"),
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    if config:
        app.config.update(config)
    from vksroom.web import auth, live, security

    auth.init_app(app, controller)
    security.init_app(app, https=bool(getattr(panel_cfg, "https", False)))
    live.init_app(app)
    from vksroom.web import errors

    errors.init_app(app)
    nav = []
    for name in BLUEPRINTS:
        module = importlib.import_module(name)
        app.register_blueprint(module.bp)
        if hasattr(module, "NAV"):   # (text key, endpoint) of the blueprint's main page
            nav.append(module.NAV)

    @app.context_processor
    def _globals():
        lang = i18n.current_language(app.config["LANGUAGE"])
        return {
            "lang": lang,
            "languages": i18n.LANGUAGE_NAMES,
            "t": lambda key, **p: i18n.translate(key, lang, **p),
            "reason_text": lambda check: i18n.reason_text(check, lang),
            # a role's name: the catalogue's word, or a role of the room's own as its config names it
            "role_name": lambda r: i18n.role_name(r, lang),
            "figure": lambda v: i18n.figure(v, lang),     # 8,0 on a kk or ru page
            "nav": nav,
            "user": getattr(g, "display", None) if session.get("user") else None,   # the name people read
            # Every POST form carries {{ csrf_field() }}: the CSRF token (web/security.py).
            "csrf_field": security.csrf_field,
        }

    return app

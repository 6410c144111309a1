"""Live pages: the parts of a page that change (banners, self-test progress, test session
steps, the call) follow the room without a reload.

A template marks such a part with ``{% call live("id") %}...{% endcall %}``: rendered as
``<div id="id" data-live>...</div>``, and the rendered content is kept for the request. The
page's own URL with ``?live=1`` answers JSON ``{"regions": {id: html}}`` instead of the page:
the same view and templates render both, so what a reload shows and what the script
(static/live.js, polling once a second) puts in place are the same. Without JS the page is
whole at every load.
"""
from __future__ import annotations

from flask import g, jsonify, request
from markupsafe import Markup, escape

from vksroom.controller import guide as day_guide
from vksroom.controller import texts as tx

LIVE_ARG = "live"


def live(region_id: str, tag: str = "div", cls: str = "", caller=None) -> Markup:
    """Jinja ``{% call live(id) %}``: the block inside a live region (kept for ``?live=1``)."""
    inner = caller() if caller is not None else Markup("")
    if not hasattr(g, "live_regions"):
        g.live_regions = {}
    g.live_regions[region_id] = str(inner)
    klass = f' class="{escape(cls)}"' if cls else ""
    return Markup(f'<{tag} id="{escape(region_id)}" data-live{klass}>{inner}</{tag}>')


def said(entry: dict | None, lang: str) -> dict | None:
    """A progress entry (controller/guide.py) with its sentence in ``lang``."""
    return {**entry, "text": tx.say(entry["code"], entry["params"], lang)} if entry else None


def selftest_view(controller, lang: str) -> dict | None:
    """The self-test under way: its sentence, bar and each device's word, for the room page."""
    p = said(day_guide.selftest_progress(controller), lang)
    if p is None:
        return None
    readiness = controller.readiness()
    p["rows"] = [{"id": dev, "label": tx.pick(getattr(readiness.device(dev), "label", dev), lang),
                  "state": "checking" if not d["done"] else ("ok" if d["ok"] else "fault"),
                  "text": tx.say(day_guide.DEVICE_CODES[d["ok"] if d["done"] else None], {}, lang)}
                 for dev, d in p["devices"].items()]
    return p


def hearing_work(life, h, lang: str) -> dict:
    """The hearing's test session step and call, with their sentences, for the hearing page."""
    work = day_guide.progress(life, h)
    return {"session": said(work["session"], lang), "call": said(work["call"], lang),
            "selftest": selftest_view(life.room, lang) if work["selftest"] else None}


def wants_live() -> bool:
    return request.method == "GET" and request.args.get(LIVE_ARG) == "1"


def init_app(app) -> None:
    app.jinja_env.globals["live"] = live

    @app.after_request
    def _live_regions(response):
        if not wants_live() or response.status_code != 200 or response.mimetype != "text/html":
            return response
        answer = jsonify({"regions": getattr(g, "live_regions", {})})
        answer.headers["Cache-Control"] = "no-store"
        return answer

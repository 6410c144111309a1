"""Who may operate the panel, and a record of what they did (rule items 5-6).

Users and their password hashes come from the room config (``[panel] users``, hashes
made by ``vks-room panel-password`` with werkzeug's scrypt). Reading the room's state
(the room page and its JSON) stays open, as the secretary looks at it too; every other
page and every action needs a login. Each state-changing request is written to the
room's SQLite with the user and the action it ran, so "who did what" survives restarts.
Password guessing is slowed (:class:`Throttle`) per account and per address alike: five
failures are free, then each further try waits 1, 2, 4... s (at most a minute), so nobody
can lock the technician out for long. An unknown name is checked against a dummy hash, so
it takes as long to refuse as a known one.

A login opens a session kept on the server (:class:`Sessions`); the signed cookie only
names it. Logout ends it, a change of the user's password hash ends all of theirs, and a
session unused for ``[panel] idle_logout_s`` (short: the panel is a shared touch screen)
ends by itself; the page's own polling is not use. A copied cookie dies with its session.
Sessions are kept in memory: a restart of the room logs everyone out.

Every action is declared in ``controller/commands.py`` (the same table as the centre's
commands): the login check finds the declaration of the endpoint a request runs and keeps
it as ``g.action``; a user none of whose roles may run it is refused (403, in their
language), and so is a state-changing request that declares no action. The audit names
the action. Roles (issue 12, the rules' items 8, 9, 15-18): the secretary (connect, end,
reconnect, the act, the protocol mark), the technician (tests, cameras, references, fault
marks), the head of chancellery (reads, signs acts), the administrator (users). A user is
``name = "hash"`` (the technician, as before roles) or
``name = { hash = "...", roles = ["secretary"] }``. A panel with no users is open to anyone,
with every role.
"""
from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from pathlib import Path

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from vksroom.controller import commands
from vksroom.controller import texts as tx
from vksroom.web import security

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)
PUBLIC = {"panel.room", "panel.api_readiness", "panel.set_language", "static", "auth.login", "auth.logout"}
FREE_FAILURES, MAX_DELAY_S, FORGET_S = 5, 60.0, 900.0


NOT_ACTIONS = {"auth.login", "auth.logout"}   # state-changing requests that act on no room
LEGACY_ROLES = (commands.TECHNICIAN,)           # a user given as a bare hash
PEOPLE_ROLES = commands.STAFF


def account(users: dict, name: str | None) -> tuple[str | None, tuple[str, ...]]:
    """A user's password hash and roles from ``[panel] users`` (None, (): no such user)."""
    entry = users.get(name or "")
    if entry is None:
        return None, ()
    if isinstance(entry, str):
        return entry, LEGACY_ROLES
    return entry.get("hash"), tuple(entry.get("roles") or ())


def display_name(users: dict, name: str | None) -> str | None:
    """The name people read for a panel user: ``display`` from ``[panel] users``, else the login."""
    entry = users.get(name or "")
    return (entry.get("display") if isinstance(entry, dict) else None) or name


def secret_key(data_dir: Path) -> bytes:
    """The session key, made once per room and kept (0600) so logins survive a restart."""
    path = Path(data_dir) / "panel-secret"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        path.touch(mode=0o600)
        path.write_bytes(key)
        return key


class Sessions:
    """The panel's open sessions: id -> (user, the password hash they logged in with, last use).
    Thread-safe; ``clock`` is monotonic seconds (a test hands its own)."""

    def __init__(self, idle_s: float, clock=time.monotonic):
        self.idle_s, self.clock = idle_s, clock
        self._lock = threading.Lock()
        self._open: dict[str, list] = {}

    def open(self, user: str, hashed: str) -> str:
        sid = secrets.token_urlsafe(24)
        with self._lock:
            self._open[sid] = [user, hashed, self.clock()]
        return sid

    def check(self, sid: str | None, user: str | None, hashed: str | None, used: bool) -> str:
        """"" when ``sid`` is an open session of ``user`` logged in with today's ``hashed``, else
        why not ("idle", "ended": logged out, restarted, another password), and it is forgotten.
        ``used``: a person acted, which keeps it open."""
        now = self.clock()
        with self._lock:
            record = self._open.get(sid or "")
            if record is None or record[0] != user or record[1] != hashed:
                self._open.pop(sid or "", None)
                return "ended"
            if now - record[2] > self.idle_s:
                del self._open[sid or ""]
                return "idle"
            if used:
                record[2] = now
            return ""

    def end(self, sid: str | None) -> None:
        with self._lock:
            self._open.pop(sid or "", None)


class Throttle:
    """Failed logins per key (an account, an address): ``[failures, next try allowed at, last failure]``.

    :meth:`take` checks every key and records the try as a failure in one locked step, before
    the password is checked (the slow part), so parallel guesses cannot all pass the check
    first; :meth:`succeeded` takes a good login's failures back."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._lock = threading.Lock()
        self._keys: dict[tuple, list[float]] = {}

    @staticmethod
    def delay(failures: float) -> float:
        return 0.0 if failures < FREE_FAILURES else min(2.0 ** (failures - FREE_FAILURES), MAX_DELAY_S)

    def take(self, *keys: tuple) -> float:
        """0 when a try is allowed now (and recorded as a failure), else the seconds to wait."""
        now = self.clock()
        with self._lock:
            if len(self._keys) > 1000:
                self._keys = {k: v for k, v in self._keys.items() if now - v[2] < FORGET_S}
            records = [self._keys.get(k) for k in keys]
            wait = max((r[1] - now for r in records if r is not None and now - r[2] < FORGET_S), default=0.0)
            if wait > 0:
                return wait
            for key, record in zip(keys, records):
                failures = record[0] + 1 if record is not None and now - record[2] < FORGET_S else 1
                self._keys[key] = [failures, now + self.delay(failures), now]
            return 0.0

    def succeeded(self, *keys: tuple) -> None:
        with self._lock:
            for key in keys:
                self._keys.pop(key, None)


_DUMMY_HASH: list[str] = []


def _check(hashed: str | None, password: str) -> bool:
    """The password against the user's hash, or against a dummy one (same cost) for an unknown name."""
    if hashed is None:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(generate_password_hash(secrets.token_hex(16)))
        check_password_hash(_DUMMY_HASH[0], password)
        return False
    return check_password_hash(hashed, password)


def _used() -> bool:
    """Whether this request is a person using the panel (not a page polling in the background):
    an action, or a page the browser navigates to."""
    return request.method not in ("GET", "HEAD") or "text/html" in request.headers.get("Accept", "")


def init_app(app, controller) -> None:
    users = dict(getattr(getattr(controller.cfg, "panel", None), "users", {}) or {})
    app.config.setdefault("USERS", users)
    data_dir = getattr(controller, "data_dir", None)
    if not app.config.get("SECRET_KEY"):   # Flask's default is None
        app.config["SECRET_KEY"] = secret_key(data_dir) if data_dir else secrets.token_bytes(32)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      PERMANENT_SESSION_LIFETIME=12 * 3600)
    panel_cfg = getattr(controller.cfg, "panel", None)
    app.config.setdefault("PANEL_IDLE_S", getattr(panel_cfg, "idle_logout_s", 300))
    app.extensions["vksroom.sessions"] = Sessions(app.config["PANEL_IDLE_S"],
                                                  app.config.get("PANEL_CLOCK") or time.monotonic)
    app.extensions["vksroom.throttle"] = Throttle(app.config.get("PANEL_CLOCK") or time.monotonic)
    store = getattr(controller, "store", None)
    if not app.config["USERS"]:
        log.warning("panel: no users configured ([panel] users): anyone who reaches the panel can operate the room")

    @app.before_request
    def _require_login():
        g.user = session.get("user")
        hashed, g.roles = account(current_app.config["USERS"], g.user)
        ended = _sessions().check(session.get("sid"), g.user, hashed, _used()) if g.user else ""
        if ended:
            log.info("panel: the session of %s has ended (%s)", g.user, ended)
            session.clear()
            session["ended"] = ended        # the login page says why
            g.user, g.roles = None, ()
        acting = request.method not in ("GET", "HEAD", "OPTIONS") and request.endpoint is not None
        g.action = commands.for_endpoint(request.endpoint) if acting else None
        if not current_app.config["USERS"]:
            g.user, g.roles = g.user or tx.PANEL, PEOPLE_ROLES
        elif not g.user:
            if request.endpoint in ("auth.login", "static") or \
                    (request.endpoint in PUBLIC and request.method in ("GET", "HEAD")):
                return None
            if request.accept_mimetypes.best == "application/json" and request.method != "GET":
                return security.refuse("login.required", 401)
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else
                                    security.back("/")))
        g.display = display_name(current_app.config["USERS"], g.user)
        if acting and request.endpoint not in NOT_ACTIONS:
            return _allowed(g.action)
        return None

    @app.context_processor
    def _roles():
        """``may("hearing.connect")``: whether the logged-in user may run that action (a page shows
        only the buttons its user may press; the check on the request stays the rule)."""
        roles = set(getattr(g, "roles", ()) or ())
        return {"may": lambda name: bool(roles & set(commands.COMMANDS[name].roles))}

    @app.after_request
    def _audit(response):
        if request.method in ("POST", "PUT", "DELETE") and store is not None and request.endpoint != "auth.login":
            action = getattr(g, "action", None)
            store.audit_panel(getattr(g, "user", None) or "-", request.method, request.path, response.status_code,
                              request.remote_addr or "-", action.name if action else "")
        return response


def _allowed(action):
    """None when the logged-in user may run ``action``, else the translated 403."""
    from vksroom.web import i18n

    if action is None:
        log.error("panel: %s %s runs no declared action (controller/commands.py): refused",
                  request.method, request.path)
        return security.refuse("security.undeclared", 403)
    if set(g.roles) & set(action.roles):
        return None
    lang = i18n.current_language(current_app.config["LANGUAGE"])
    who = ", ".join(i18n.translate(f"staff.{r}", lang) for r in action.roles if r != commands.CENTRE)
    log.warning("panel: %s (roles %s) may not run %s", g.user, ",".join(g.roles) or "-", action.name)
    return security.refuse("security.forbidden", 403, roles=who)


def _sessions() -> Sessions:
    return current_app.extensions["vksroom.sessions"]


@bp.route("/login", methods=["GET", "POST"])
def login():
    from vksroom.web import i18n

    lang = i18n.current_language(current_app.config["LANGUAGE"])
    throttle: Throttle = current_app.extensions["vksroom.throttle"]
    error = ""
    if request.method == "POST":
        address = request.remote_addr or "-"
        name = request.form.get("user", "").strip()[:80]
        keys = (("account", name), ("address", address))
        wait = throttle.take(*keys)
        if wait:
            log.warning("panel: login for %r from %s slowed: %.0f s to wait", name, address, wait)
            return render_template("login.html", error=i18n.translate("login.locked", lang,
                                                                      seconds=math.ceil(wait))), 429
        hashed, _ = account(current_app.config["USERS"], name)
        if _check(hashed, request.form.get("password", "")):
            throttle.succeeded(*keys)
            _sessions().end(session.get("sid"))
            session.clear()
            session.permanent = True
            session["user"] = name
            session["sid"] = _sessions().open(name, hashed)
            log.info("panel: %s logged in from %s", name, address)
            return redirect(security.own_path(request.args.get("next")), code=303)
        log.warning("panel: failed login for %r from %s", name, address)
        error = i18n.translate("login.failed", lang)
    ended = session.pop("ended", "")
    minutes = math.ceil(current_app.config["PANEL_IDLE_S"] / 60)
    notice = i18n.translate(f"login.ended_{ended}", lang, minutes=minutes) if ended in ("idle", "ended") else ""
    return render_template("login.html", error=error, notice=notice), (401 if error else 200)


@bp.post("/logout")
def logout():
    _sessions().end(session.get("sid"))
    session.clear()
    return redirect(url_for("panel.room"), code=303)

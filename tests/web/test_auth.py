"""The panel needs a login to act; reading the room's state does not. Actions are audited."""
import subprocess
import sys

import pytest
from werkzeug.security import generate_password_hash

from vksroom.controller.store import Store


@pytest.fixture
def panel_config():
    return {"USERS": {"tech-ivanov": generate_password_hash("correct horse")}}


def test_state_is_readable_but_acting_needs_a_login(client, room):
    assert client.get("/").status_code == 200
    assert client.get("/api/readiness").status_code == 200
    resp = client.post("/selftest")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.post("/selftest", headers={"Accept": "application/json"}).status_code == 401
    assert room.store.runs(1) == []                      # nothing ran
    assert client.get("/hearings").status_code == 302   # other pages need a login too


def test_login_then_act_is_recorded_with_the_user(client, room):
    bad = client.post("/login", data={"user": "tech-ivanov", "password": "wrong"})
    assert bad.status_code == 401 and "Неверное имя пользователя или пароль" in bad.get_data(as_text=True)
    ok = client.post("/login?next=/hearings", data={"user": "tech-ivanov", "password": "correct horse"})
    assert ok.status_code == 303 and ok.headers["Location"].endswith("/hearings")
    assert client.post("/selftest", headers={"Accept": "application/json"}).status_code == 202
    assert {"user": "tech-ivanov", "method": "POST", "path": "/selftest", "status": 202,
            "action": "selftest.run"}.items() <= room.store.panel_audit(1)[0].items()   # the action, as declared
    reopened = Store(room.store.path)                    # as after a restart
    assert reopened.panel_audit(1)[0]["user"] == "tech-ivanov"
    reopened.close()
    client.post("/logout")
    assert client.post("/selftest", headers={"Accept": "application/json"}).status_code == 401


def test_repeated_failures_lock_the_address_out(client):
    for _ in range(5):
        assert client.post("/login", data={"user": "tech-ivanov", "password": "guess"}).status_code == 401
    locked = client.post("/login", data={"user": "tech-ivanov", "password": "correct horse"})
    assert locked.status_code == 429          # even the right password waits out the lock


def test_open_redirects_are_refused(client):
    resp = client.post("/login?next=//evil.example/x", data={"user": "tech-ivanov", "password": "correct horse"})
    assert resp.headers["Location"].endswith("/") and "evil" not in resp.headers["Location"]


def test_panel_password_prints_a_hash_never_the_password():
    run = subprocess.run([sys.executable, "-m", "vksroom", "panel-password", "tech-ivanov"], input="s3cret-pass\n",
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 0 and run.stdout.startswith('tech-ivanov = "scrypt:')
    assert "s3cret-pass" not in run.stdout
    short = subprocess.run([sys.executable, "-m", "vksroom", "panel-password", "x"], input="short\n",
                           capture_output=True, text=True, timeout=30)
    assert short.returncode == 2 and "at least 8 characters" in short.stderr


def test_actions_are_signed_by_the_logged_in_user_whatever_a_form_names(client):
    from flask import g

    from vksroom.web.hearings import _who

    app = client.application
    with app.test_request_context("/x", method="POST", data={"who": "Секретарь Ахметова"}):
        g.user = "tech-ivanov"
        assert _who() == "tech-ivanov"          # a typed name signs nothing
    with app.test_request_context("/x", method="POST"):
        g.user = None
        assert _who() == "panel"                # no users configured: the panel itself

"""Another page cannot act as the logged-in technician: every state-changing request needs the
session's CSRF token and must not name another origin (issue 13). Refusals are translated."""
import re

import pytest
from werkzeug.security import generate_password_hash

from support.panelclient import page_token

PASSWORD = "correct horse"
JSON = {"Accept": "application/json"}


@pytest.fixture
def panel_config():
    return {"USERS": {"tech-ivanov": generate_password_hash(PASSWORD)}}


@pytest.fixture
def logged_in(client):
    assert client.post("/login", data={"user": "tech-ivanov", "password": PASSWORD}).status_code == 303
    return client


def test_every_form_carries_the_sessions_token(logged_in, room):
    # A token is the session's secret, then the second it was signed, then the signature: pages
    # rendered in different seconds carry different strings of the same session's token.
    secret = page_token(logged_in, "/").split(".")[0]
    for path in ("/", "/hearings", "/login"):
        page = logged_in.get(path).get_data(as_text=True)
        forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", page, re.S | re.I)
        assert forms, path
        for form in forms:
            found = re.findall(r'name="csrf_token" value="([^"]+)"', form)
            assert [t.split(".")[0] for t in found] == [secret], (path, form[:200])


def test_a_post_without_the_token_is_refused_in_the_users_language_and_changes_nothing(logged_in, room):
    resp = logged_in.post("/selftest", csrf=False)
    assert resp.status_code == 400
    assert "Страница устарела или запрос пришёл не с этой панели" in resp.get_data(as_text=True)
    assert "Bad Request" not in resp.get_data(as_text=True) and "CSRF" not in resp.get_data(as_text=True)
    scripted = logged_in.post("/selftest?lang=kk", headers={**JSON, "X-CSRFToken": "forged"})
    assert scripted.status_code == 400 and scripted.get_json()["code"] == "security.csrf"
    assert "Бет ескірген" in scripted.get_json()["error"]
    assert room.store.runs(1) == []


def test_a_token_from_another_session_is_refused(client, logged_in, app, room):
    other = app.test_client()
    foreign = page_token(other)
    assert logged_in.post("/selftest", headers={**JSON, "X-CSRFToken": foreign}).status_code == 400
    assert room.store.runs(1) == []


def test_another_origin_is_refused_even_with_the_token(logged_in, room):
    token = page_token(logged_in, "/")
    for headers in ({"Origin": "http://localhost:8081"}, {"Origin": "null"},
                    {"Referer": "http://localhost:8081/evil.html"}):
        resp = logged_in.post("/selftest", headers={**headers, **JSON, "X-CSRFToken": token})
        assert resp.status_code == 403, headers
        assert resp.get_json() == {"code": "security.foreign_origin",
                                   "error": "Отклонено: запрос пришёл с другого сайта, а не с этой панели."}
    assert room.store.runs(1) == []
    ours = logged_in.post("/selftest", headers={"Origin": "http://localhost", "Referer": "http://localhost/",
                                                **JSON, "X-CSRFToken": token})
    assert ours.status_code == 202                      # the panel's own page, with its token


def test_the_login_form_needs_its_token_too(client):
    resp = client.post("/login", data={"user": "tech-ivanov", "password": PASSWORD}, csrf=False)
    assert resp.status_code == 400
    assert client.get("/hearings").status_code == 302   # not logged in


def test_no_other_page_may_frame_the_panel(client):
    for path in ("/", "/login", "/static/panel.css"):
        resp = client.get(path)
        assert resp.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
        assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "same-origin"

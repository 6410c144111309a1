"""A session ends on the server: after logout, after the user's password changes and after the
panel was left idle, the same cookie (copied or kept) opens nothing (issue 13)."""
import pytest
from werkzeug.security import generate_password_hash

PASSWORD = "correct horse"
HTML = {"Accept": "text/html"}


@pytest.fixture
def panel_config(panel_clock):
    return {"USERS": {"tech-ivanov": generate_password_hash(PASSWORD)}, "PANEL_IDLE_S": 300,
            "PANEL_CLOCK": panel_clock}


def login(client):
    assert client.post("/login", data={"user": "tech-ivanov", "password": PASSWORD}).status_code == 303
    assert client.get("/hearings").status_code == 200


def cookie(client):
    return client.get_cookie("session").value


def opens(app, value) -> bool:
    """Whether a browser holding only this cookie gets the hearings page."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other.get("/hearings").status_code == 200


def test_logout_ends_the_session_for_a_copied_cookie_too(app, client):
    login(client)
    copied = cookie(client)
    assert opens(app, copied)
    client.post("/logout")
    assert client.get("/hearings").status_code == 302
    assert 'id="login-notice"' not in client.get("/login").get_data(as_text=True)   # they chose to leave
    assert not opens(app, copied)
    login(client)                                       # a new login is a new session
    assert cookie(client) != copied and not opens(app, copied)


def test_a_password_change_ends_the_users_sessions(app, client):
    login(client)
    copied = cookie(client)
    app.config["USERS"] = {"tech-ivanov": generate_password_hash("a new passphrase")}   # as `config` reloaded
    assert client.get("/hearings").status_code == 302
    assert not opens(app, copied)


def test_an_idle_panel_logs_out_and_use_keeps_it_open(app, client, panel_clock):
    login(client)
    copied = cookie(client)
    panel_clock.now += 250
    assert client.get("/hearings", headers=HTML).status_code == 200   # someone is using it
    panel_clock.now += 250
    assert client.get("/api/readiness").status_code == 200              # the page's own polling is not use...
    panel_clock.now += 60
    assert client.get("/hearings").status_code == 302                   # ...so 310 s after the last use it is over
    assert "Панелью не пользовались 5 мин: сеанс завершён" in client.get("/login").get_data(as_text=True)
    assert not opens(app, copied)


def test_the_idle_timeout_is_in_the_room_config(tmp_path):
    from vksroom.controller.config import ConfigInvalid, parse

    base = {"room": {"court_id": "c1", "courtroom": "101"},
            "devices": {"cam1": {"type": "camera", "url": "visca-ip://10.0.0.21"}}}
    assert parse({**base, "panel": {}}).panel.idle_logout_s == 300        # short: a shared touch panel
    assert parse({**base, "panel": {"idle_logout_s": 900}}).panel.idle_logout_s == 900
    with pytest.raises(ConfigInvalid, match="panel.idle_logout_s"):
        parse({**base, "panel": {"idle_logout_s": 0}})

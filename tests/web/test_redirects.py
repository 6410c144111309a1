"""The panel sends people only to its own pages: after a login (``next``), a language switch
and a fault mark, whatever the address or the Referer names (issue 13)."""
import pytest
from werkzeug.security import generate_password_hash


PASSWORD = "correct horse"
EVIL = ("/%09/evil.example/", "//evil.example/x", "/\\evil.example/", "/%5Cevil.example", "https://evil.example/",
        "/%0d%0a/evil.example", "javascript:alert(1)", "evil.example")


@pytest.fixture
def panel_config():
    return {"USERS": {"tech-ivanov": generate_password_hash(PASSWORD)}}


def login(client, query=""):
    return client.post(f"/login{query}", data={"user": "tech-ivanov", "password": PASSWORD})


@pytest.mark.parametrize("target", EVIL)
def test_login_never_leads_to_another_host(client, target):
    resp = login(client, f"?next={target}")
    assert resp.status_code == 303 and resp.headers["Location"] == "/", resp.headers["Location"]


def test_login_leads_back_to_the_page_asked_for(client):
    asked = client.get("/hearings?day=2025-03-10")
    assert asked.status_code == 302
    resp = login(client, asked.headers["Location"][len("/login"):])
    assert resp.headers["Location"] == "/hearings?day=2025-03-10"


@pytest.mark.parametrize("referrer", ["http://evil.example/page", "http://localhost.evil.example/",
                                      "http://localhost:8081/", "//evil.example/", "http://localhost//evil.example/"])
def test_the_language_switch_goes_back_only_to_our_pages(client, referrer):
    assert client.get("/lang/kk", headers={"Referer": referrer}).headers["Location"] == "/"
    back = client.get("/lang/kk", headers={"Referer": "http://localhost/hearings?x=1"})
    assert back.headers["Location"] == "/hearings?x=1"


def test_a_fault_mark_goes_back_to_our_page_and_a_foreign_referer_is_refused(client, room, devices):
    login(client)
    devices["codec"].up.clear()
    assert room.lifecycle.wait_for(lambda: room.lifecycle.alarms(), 3)
    [alarm] = room.lifecycle.alarms()
    foreign = client.post(f"/alarms/{alarm['id']}/mark", data={"mark": "fixing"},
                          headers={"Referer": "http://evil.example/page"})
    assert foreign.status_code == 403 and room.lifecycle.alarms()[0]["state"] == alarm["state"]
    ours = client.post(f"/alarms/{alarm['id']}/mark", data={"mark": "fixing"},
                       headers={"Referer": "http://localhost/cameras"})
    assert ours.status_code == 303 and ours.headers["Location"] == "/cameras"
    again = client.post(f"/alarms/{alarm['id']}/mark", data={"mark": "fixing"})
    assert again.headers["Location"] == "/hearings"

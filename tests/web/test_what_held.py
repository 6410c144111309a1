"""What an attack on the demo found holding, kept holding (issue 13): stored text is escaped,
paths stay inside the panel, oversized forms and wrong methods are refused."""
import pytest
from werkzeug.security import generate_password_hash

PASSWORD = "correct horse"
XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


@pytest.fixture
def panel_config():
    return {"USERS": {"tech-ivanov": {"hash": generate_password_hash(PASSWORD), "roles": ("secretary", "technician")}}}


@pytest.fixture
def logged_in(client):
    assert client.post("/login", data={"user": "tech-ivanov", "password": PASSWORD}).status_code == 303
    return client


def test_stored_text_is_escaped_on_the_pages(logged_in, room):
    room.command("vks.suspend", {"reason": XSS})       # the centre's words, shown on every page
    for path in ("/", "/hearings"):
        page = logged_in.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in logged_in.get("/").get_data(as_text=True)
    failed = logged_in.post("/login", data={"user": XSS, "password": "x"})   # a typed name is never echoed raw
    assert "<script>alert(1)" not in failed.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/static/../auth.py", "/static/..%2fauth.py", "/static/%2e%2e/auth.py",
                                  "/static/..%5cauth.py", "/hearings/..%2f..%2fetc%2fpasswd/record.csv"])
def test_paths_stay_inside_the_panel(logged_in, path):
    resp = logged_in.get(path)
    assert resp.status_code in (400, 404)
    assert "from __future__" not in resp.get_data(as_text=True) and "root:" not in resp.get_data(as_text=True)


def test_an_oversized_form_is_refused_and_changes_nothing(logged_in, room):
    resp = logged_in.post("/hearings", data={"case_number": "x" * 2_000_000, "date": "2025-03-10", "time": "10:00",
                                             "far_side": "sizo-1"})
    assert resp.status_code == 413 and "Слишком большой запрос" in resp.get_data(as_text=True)
    assert room.lifecycle.schedule.hearings() == []


def test_methods_that_do_not_act_are_refused(logged_in, room):
    assert logged_in.get("/selftest").status_code == 405
    assert logged_in.open("/selftest", method="TRACE").status_code == 405
    assert logged_in.delete("/hearings").status_code == 405
    assert room.store.runs(1) == []

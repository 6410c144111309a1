"""Errors on the panel are the panel's own pages in the reader's language, never Flask's English."""
import pytest
from flask import abort


@pytest.fixture
def app(app):
    @app.get("/boom")       # a page that fails, as a bug would
    def boom():
        raise RuntimeError("a bug")

    @app.get("/forbidden")
    def forbidden():
        abort(403)
    return app


@pytest.mark.parametrize("lang, text", [("ru", "Такой страницы нет"), ("kk", "Мұндай бет жоқ"),
                                        ("en", "There is no such page")])
def test_an_unknown_page_is_said_in_the_language_of_the_panel(client, lang, text):
    resp = client.get(f"/no-such-page?lang={lang}")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 404 and text in page and f'<html lang="{lang}">' in page
    assert "Not Found" not in page and "requested URL" not in page
    assert 'href="/"' in page                     # a way back


def test_forbidden_wrong_method_and_a_failure_have_their_pages_too(client, app):
    resp = client.get("/forbidden")
    assert resp.status_code == 403 and "У вас нет права на это действие" in resp.get_data(as_text=True)
    resp = client.get("/selftest?lang=kk")        # a POST-only address opened from the browser's bar
    assert resp.status_code == 405 and "Бұл бетті осылай ашуға болмайды" in resp.get_data(as_text=True)
    assert "POST" in resp.headers["Allow"] and "Method Not Allowed" not in resp.get_data(as_text=True)
    app.testing = False                           # as it runs in the room: the exception is caught
    resp = client.get("/boom")
    assert resp.status_code == 500 and "В панели произошла ошибка" in resp.get_data(as_text=True)
    assert "a bug" not in resp.get_data(as_text=True)


def test_a_program_asking_for_json_gets_json(client):
    resp = client.get("/no-such-page?lang=en", headers={"Accept": "application/json"})
    assert resp.status_code == 404 and resp.get_json() == {"error": "There is no such page"}

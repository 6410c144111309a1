"""Flask's test client as a browser on the panel: each state-changing request carries the CSRF
token of the session, as the page's forms and scripts do (web/security.py).

The token is read from a page (``<meta name="csrf-token">``), never made here, so a test
goes through the same token the panel hands out. ``csrf=False`` on a request sends none;
a request that names its own ``csrf_token`` or ``X-CSRFToken`` is sent as it is.
"""
import re

from flask.testing import FlaskClient

TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


def page_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token a page of the panel carries for this client's session."""
    resp = FlaskClient.open(client, path)
    m = TOKEN.search(resp.get_data(as_text=True))
    assert m, f"{path}: no csrf-token on the page (HTTP {resp.status_code})"
    return m.group(1)


class PanelClient(FlaskClient):
    def open(self, *args, csrf: bool = True, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        data = kwargs.get("data")
        headers = dict(kwargs.get("headers") or {})
        given = "X-CSRFToken" in headers or (isinstance(data, dict) and "csrf_token" in data)
        if csrf and method in STATE_CHANGING and not given and (not args or isinstance(args[0], str)):
            headers["X-CSRFToken"] = page_token(self)
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

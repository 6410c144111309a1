"""The panel over HTTPS on a real port: its own certificate made at first run (fingerprint
known), HTTP redirected, Secure cookies and HSTS; plain HTTP only where allowed (issue 13)."""
import hashlib
import http.client
import re
import ssl
import stat

import pytest

from vksroom.controller.config import ConfigInvalid, parse

from support.e2ekit import https_demo

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def https_stack(tmp_path):
    with https_demo(str(tmp_path)) as (bench, st):
        yield bench, st


def test_the_panel_speaks_https_with_a_certificate_whose_fingerprint_is_printed(https_stack, tmp_path):
    bench, st = https_stack
    port, redirect_port = st.cfg.panel.port, st.cfg.panel.redirect_port
    assert st.panel_url == f"https://127.0.0.1:{port}/"
    cert, key = tmp_path / "panel-cert.pem", tmp_path / "panel-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600                     # the key is the room's alone
    served = ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(("127.0.0.1", port)))
    assert ":".join(f"{b:02X}" for b in hashlib.sha256(served).digest()) == st.server.fingerprint

    trusting = ssl.create_default_context(cafile=str(cert))               # as a browser told to trust it
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=trusting, timeout=10)
    conn.request("GET", "/login")
    page = conn.getresponse()
    body = page.read().decode()
    assert page.status == 200 and page.getheader("Strict-Transport-Security") == "max-age=31536000"
    cookie = page.getheader("Set-Cookie")
    assert "Secure" in cookie and "HttpOnly" in cookie
    token = re.search(r'name="csrf-token" content="([^"]+)"', body).group(1)
    conn.request("POST", "/login", body=f"user={bench.DEMO_USER}&password={bench.DEMO_PASSWORD}&csrf_token={token}",
                 headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie.split(";")[0],
                          "Origin": st.panel_url.rstrip("/"), "Referer": st.panel_url + "login"})
    login = conn.getresponse()
    login.read()
    assert login.status == 303 and "Secure" in login.getheader("Set-Cookie")
    conn.close()

    plain = http.client.HTTPConnection("127.0.0.1", redirect_port, timeout=10)
    plain.request("GET", "/hearings?day=2025-03-10", headers={"Host": f"127.0.0.1:{redirect_port}"})
    moved = plain.getresponse()
    assert moved.status == 308
    assert moved.getheader("Location") == f"https://127.0.0.1:{port}/hearings?day=2025-03-10"
    plain.close()

    clear = http.client.HTTPConnection("127.0.0.1", port, timeout=10)   # plain HTTP on the HTTPS port
    try:
        clear.request("GET", "/login")
        answer = clear.getresponse()
        assert answer.status != 200 and "csrf" not in answer.read().decode()
    except (ConnectionError, http.client.HTTPException):
        pass                                              # refused outright: no page in clear either way
    finally:
        clear.close()


def test_plain_http_is_allowed_on_loopback_only():
    base = {"room": {"court_id": "c1", "courtroom": "101"},
            "devices": {"cam1": {"type": "camera", "url": "visca-ip://10.0.0.21"}}}
    assert parse({**base, "panel": {"host": "0.0.0.0"}}).panel.https          # on the room's network: HTTPS
    assert not parse({**base, "panel": {"host": "127.0.0.1"}}).panel.https    # the demo on loopback
    with pytest.raises(ConfigInvalid, match="panel.tls: plain HTTP carries the passwords in clear"):
        parse({**base, "panel": {"host": "0.0.0.0", "tls": False}})
    with pytest.raises(ConfigInvalid, match="panel.cert_file: give both"):
        parse({**base, "panel": {"host": "0.0.0.0", "cert_file": "/etc/ssl/certs/ca-certificates.crt"}})


def test_a_taken_panel_port_is_named(tmp_path):
    import socket

    from vksroom.app import make_server
    from vksroom.drivers.errors import UsageError

    base = {"room": {"court_id": "c1", "courtroom": "101", "data_dir": str(tmp_path)},
            "devices": {"cam1": {"type": "camera", "url": "visca-ip://10.0.0.21"}}}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        cfg = parse({**base, "panel": {"host": "127.0.0.1", "port": taken.getsockname()[1]}})
        with pytest.raises(UsageError, match=f"panel port {cfg.panel.port} .* is already in use"):
            make_server(cfg, controller=type("Room", (), {"cfg": cfg, "store": None, "data_dir": tmp_path})())

"""The panel's HTTP server: HTTPS on the room's network, plain HTTP only on loopback (issue 13).

cheroot (CherryPy's WSGI server, kept up by the CherryPy project) serves the panel, with TLS
from its builtin adapter over Python's own ``ssl``: waitress has no TLS, and a reverse proxy
would be a second daemon to install, configure and keep patched on every Pi, with the
passwords still crossing a local hop to it. One process, one thread pool (4), as before.

The certificate is the court CA's (``[panel] cert_file``/``key_file``) or, without one, made
once in the data directory at first run (``panel-cert.pem``, its key ``panel-key.pem`` 0600),
its SHA-256 fingerprint printed for the technician to compare with what the browser shows
(``vks-room panel-cert`` prints it again). ``[panel] redirect_port`` answers plain HTTP
with a permanent redirect to HTTPS. On TLS the panel sets Secure cookies and HSTS
(web/security.py).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import os
import re
import socket
import ssl
import threading
import urllib.parse
from pathlib import Path

log = logging.getLogger(__name__)

CERT_NAME, KEY_NAME = "panel-cert.pem", "panel-key.pem"
_HOSTNAME = re.compile(r"^[A-Za-z0-9.-]{1,253}$")


def certificate(panel, data_dir) -> tuple[Path, Path]:
    """The panel's certificate and key: the court CA's when configured, else the room's own,
    made now when missing."""
    if panel.cert_file:
        return Path(panel.cert_file), Path(panel.key_file)
    cert, key = Path(data_dir) / CERT_NAME, Path(data_dir) / KEY_NAME
    if not (cert.is_file() and key.is_file()):
        make_certificate(cert, key, panel.host)
        log.warning("panel: made a certificate for HTTPS, SHA-256 fingerprint %s", fingerprint(cert))
    return cert, key


def _alt_names(host: str) -> list:
    from cryptography import x509

    names: set[str] = {"localhost", socket.gethostname()}
    addresses = {"127.0.0.1", "::1"}
    try:
        addresses.add(str(ipaddress.ip_address(host)))
    except ValueError:
        names.add(host)
    try:
        addresses |= {str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None)}
    except OSError:
        pass
    addresses.discard("0.0.0.0")
    addresses.discard("::")
    return [x509.DNSName(n) for n in sorted(names) if n and _HOSTNAME.match(n)] + \
        [x509.IPAddress(ipaddress.ip_address(a.split("%")[0])) for a in sorted(addresses)]


def make_certificate(cert_path: Path, key_path: Path, host: str = "0.0.0.0", days: int = 3650) -> None:
    """A self-signed server certificate (EC P-256) for this room's names and addresses."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, (socket.gethostname() or "vksroom")[:64]),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vksroom panel")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(_alt_names(host)), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.unlink(missing_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)   # never readable by others
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def fingerprint(cert_path: Path) -> str:
    """The certificate's SHA-256 fingerprint as browsers show it (AB:CD:...)."""
    der = ssl.PEM_cert_to_DER_cert(Path(cert_path).read_text(encoding="ascii"))
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def redirect_to_https(port: int, fallback_host: str):
    """A WSGI app answering every request with a permanent redirect to the same path on HTTPS."""
    def app(environ, start_response):
        host = urllib.parse.urlsplit("//" + environ.get("HTTP_HOST", "")).hostname or ""
        if not (_HOSTNAME.match(host) or _is_ip(host)):
            host = fallback_host
        if ":" in host:
            host = f"[{host}]"
        path = urllib.parse.quote(environ.get("PATH_INFO", "/").encode("latin-1"), safe="/-._~!$&'()*+,;=:@%")
        query = environ.get("QUERY_STRING", "")
        location = f"https://{host}:{port}{path}" + (f"?{query}" if query else "")
        start_response("308 Permanent Redirect", [("Location", location), ("Content-Length", "0")])
        return [b""]
    return app


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


class PanelServer:
    """The panel on its port (HTTPS, or HTTP on loopback) and the optional HTTP redirect, bound
    at construction (a taken port raises OSError before anything runs); :meth:`run` serves
    until :meth:`close`."""

    def __init__(self, app, panel, data_dir, threads: int = 4):
        from cheroot import wsgi

        self.https = panel.https
        self.cert: Path | None = None
        main = wsgi.Server((panel.host, panel.port), app, numthreads=threads, server_name="vksroom")
        if self.https:
            from cheroot.ssl.builtin import BuiltinSSLAdapter

            self.cert, key = certificate(panel, data_dir)
            main.ssl_adapter = BuiltinSSLAdapter(str(self.cert), str(key))
        self.servers = [main]
        if self.https and panel.redirect_port:
            fallback = panel.host if panel.host not in ("0.0.0.0", "::") else socket.gethostname()
            self.servers.append(wsgi.Server((panel.host, panel.redirect_port),
                                            redirect_to_https(panel.port, fallback), numthreads=1,
                                            server_name="vksroom"))
        self._threads: list[threading.Thread] = []
        try:
            for server in self.servers:
                server.prepare()
        except BaseException:
            self.close()
            raise

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.cert) if self.cert else ""

    def run(self) -> None:
        for server in self.servers[1:]:
            t = threading.Thread(target=server.serve, name="panel-redirect", daemon=True)
            t.start()
            self._threads.append(t)
        self.servers[0].serve()

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        for t in self._threads:
            t.join(5)

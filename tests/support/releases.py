"""Stand-in releases of the room controller: wheels named like ours whose `vks-room run` serves
the panel's readiness page (GOOD, HTTPS when the room file says `tls = true`) or exits at once
(BROKEN). For tests/firmware/test_release.py and firmware/systemd-check.sh (a real systemd)."""
import textwrap
import zipfile
from pathlib import Path

GOOD = """
import http.server, ssl, sys, tomllib
def main():
    panel = tomllib.load(open(sys.argv[sys.argv.index("--config") + 1], "rb"))["panel"]
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200); self.end_headers(); self.wfile.write(VERSION.encode())
        def log_message(self, *a):
            pass
    server = http.server.HTTPServer(("127.0.0.1", panel["port"]), H)
    if panel.get("tls"):   # as the room serves its panel: HTTPS with its own certificate
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(panel["cert_file"], panel["key_file"])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()
"""
BROKEN = """
import sys
def main():
    sys.exit("vks-room: this release is broken")
"""


def fake_wheel(folder: Path, version: str, body: str) -> Path:
    """A wheel named like ours whose vks-room is ``body``."""
    name = f"vksroom-{version}-py3-none-any.whl"
    info = f"vksroom-{version}.dist-info"
    files = {
        "vksfake.py": f"VERSION = {version!r}\n" + textwrap.dedent(body),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: vksroom\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/entry_points.txt": "[console_scripts]\nvks-room = vksfake:main\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{n},,\n" for n in files) + f"{info}/RECORD,,\n"
    path = folder / name
    with zipfile.ZipFile(path, "w") as z:
        for n, text in files.items():
            z.writestr(n, text)
    return path

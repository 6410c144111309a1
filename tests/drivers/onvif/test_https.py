"""onvif-https://: the camera's certificate checked against a CA file, refused when unknown,
accepted knowingly with tls_verify = false."""
import shutil
import subprocess

import pytest

from vksroom.drivers.errors import TransportError


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=30)
    return str(cert), str(key)


def test_https_with_the_cameras_certificate(make_sim, make_cam, certificate):
    sim = make_sim(tls=certificate)
    assert sim.url.startswith("onvif-https://")
    cam = make_cam(sim.url, ca_file=certificate[0])
    cam.move_to(0.25, -0.25)
    assert abs(sim.positions()[0] - 0.25) < 1e-3


def test_an_unknown_certificate_is_refused_unless_accepted_knowingly(make_sim, make_cam, certificate):
    sim = make_sim(tls=certificate)
    with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        make_cam(sim.url)
    assert make_cam(sim.url, tls_verify=False).power() == "on"

"""The wire without I/O: the UsernameToken digest against the published example, faults in
the spellings cameras use, and the camera's clock."""
import base64
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest

from vksroom.drivers.errors import DeviceNotReady, DeviceRejected, ProtocolError
from vksroom.drivers.onvif import soap
from vksroom.hil.onvif_camera.model import Refusal
from vksroom.hil.onvif_camera.wire import Authenticator

# The WS-UsernameToken example of the ONVIF Application Programmer's Guide.
NONCE, CREATED, PASSWORD, DIGEST = "LKqI6G/AikKCQrN0zqZFlg==", "2010-09-16T07:50:45Z", "userpassword", \
    "tuOSpGlFlIXsozq4HFNeeGeFLEI="


def test_the_password_digest_is_the_published_example():
    assert soap.password_digest(base64.b64decode(NONCE), CREATED, PASSWORD) == DIGEST


def test_the_header_the_driver_writes_is_accepted_by_a_camera_and_a_changed_one_is_not():
    when = datetime(2010, 9, 16, 7, 50, 45, tzinfo=timezone.utc)
    header = soap.security_header("user", PASSWORD, when, base64.b64decode(NONCE))
    assert f">{base64.b64encode(base64.b64decode(NONCE)).decode()}<" in header
    el = ET.fromstring(soap.envelope(soap.el("tds:GetDeviceInformation"), header)).find(f"{{{soap.NS['env']}}}Header")
    camera = Authenticator({"user": PASSWORD})
    assert camera.check(el, when) == "user"
    with pytest.raises(Refusal):
        Authenticator({"user": "other"}).check(el, when)
    with pytest.raises(Refusal):              # the camera's clock a minute off the token's date
        Authenticator({"user": PASSWORD}).check(el, datetime(2010, 9, 16, 7, 51, 50, tzinfo=timezone.utc))


FAULT = ('<{p}:Envelope xmlns:{p}="http://www.w3.org/2003/05/soap-envelope" xmlns:{t}="http://www.onvif.org/ver10/error">'
         '<{p}:Body><{p}:Fault><{p}:Code><{p}:Value>{p}:{kind}</{p}:Value><{p}:Subcode><{p}:Value>{t}:InvalidArgVal'
         '</{p}:Value><{p}:Subcode><{p}:Value>{t}:NoToken</{p}:Value></{p}:Subcode></{p}:Subcode></{p}:Code>'
         '<{p}:Reason><{p}:Text xml:lang="en">{reason}</{p}:Text></{p}:Reason></{p}:Fault></{p}:Body></{p}:Envelope>')


@pytest.mark.parametrize("p,t", [("env", "ter"), ("s", "ter"), ("SOAP-ENV", "err")])
def test_fault_codes_are_named_the_same_whatever_the_prefixes(p, t):
    data = FAULT.format(p=p, t=t, kind="Sender", reason="No such preset").encode()
    with pytest.raises(DeviceRejected, match="No such preset") as info:
        soap.read_reply(data, "tptz", "GotoPreset")
    assert info.value.code == "ter:NoToken" and not isinstance(info.value, DeviceNotReady)
    assert "env:Sender / ter:InvalidArgVal / ter:NoToken" in str(info.value)


def test_a_receiver_fault_saying_it_is_starting_is_not_ready_and_a_sender_one_is_not():
    starting = FAULT.format(p="s", t="ter", kind="Receiver", reason="Device is initializing").encode()
    with pytest.raises(DeviceNotReady):
        soap.read_reply(starting, "tptz", "GetStatus")
    blamed = FAULT.format(p="s", t="ter", kind="Sender", reason="Device is initializing").encode()
    with pytest.raises(DeviceRejected) as info:
        soap.read_reply(blamed, "tptz", "GetStatus")
    assert not isinstance(info.value, DeviceNotReady)


def test_a_soap_11_fault_is_a_refusal_too():
    data = (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
            b'<faultcode>s:Client</faultcode><faultstring>Sender not authorized</faultstring></s:Fault></s:Body>'
            b'</s:Envelope>')
    with pytest.raises(DeviceRejected, match="Sender not authorized") as info:
        soap.read_reply(data, "trt", "GetProfiles")
    assert info.value.code == "env:Client"


def test_an_answer_to_another_question_is_a_protocol_error():
    data = (f'<env:Envelope xmlns:env="{soap.NS["env"]}" xmlns:tptz="{soap.NS["tptz"]}"><env:Body>'
            f'<tptz:StopResponse/></env:Body></env:Envelope>').encode()
    with pytest.raises(ProtocolError, match="not GetStatusResponse"):
        soap.read_reply(data, "tptz", "GetStatus")


def test_tokens_and_names_are_escaped():
    body = soap.el("tptz:PresetName", 'a<b & "c"')
    assert ET.fromstring(f'<r xmlns:tptz="{soap.NS["tptz"]}">{body}</r>')[0].text == 'a<b & "c"'


def test_the_clock_offset_is_the_middle_of_the_round_trip():
    sent = datetime(2030, 1, 1, 12, 0, 0, 200000, tzinfo=timezone.utc).timestamp()
    # the camera said 11:00:00 (an hour behind) while we waited 0.2 s for it
    offset = soap.clock_offset(datetime(2030, 1, 1, 11, 0, 0, tzinfo=timezone.utc), sent, sent + 0.2)
    assert offset == pytest.approx(-3600.0, abs=0.5)

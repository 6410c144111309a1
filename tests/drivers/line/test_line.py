"""LineClient framing and matching, as pure units over MockTransport."""
from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vksroom.drivers.errors import DeviceTimeout, TransportClosed
from vksroom.drivers.line import LineClient
from vksroom.drivers.transport import MockTransport

pytestmark = pytest.mark.timeout(30)


def _client(responder=None, **kw):
    events = []
    mock = MockTransport(responder)
    client = LineClient(mock, on_event=events.append, reconnect_interval=0.02, **kw)
    client.open(2)
    return client, mock, events


def test_request_collects_lines_until_the_end_line_and_leaves_others_as_events():
    client, mock, events = _client(lambda d: b"*s Call 1 Status: Connected\r\n" if d == b"q\r\n" else None)
    mock.responder = lambda d: b"noise-free event\r\nA\r\nB\r\nOK\r\n"
    try:
        lines = client.request("q", end=lambda l: l == "OK", accept=lambda l: l in ("A", "B", "OK"))
        assert lines == ["A", "B", "OK"]
        assert "noise-free event" in events
        assert mock.written[-1] == b"q\r\n"
    finally:
        client.close()


def test_lines_split_across_reads_are_joined():
    client, mock, events = _client()
    try:
        got = threading.Event()
        client.on_event = lambda l: got.set() if l == "hello world" else None
        for piece in (b"hel", b"lo wo", b"rld\r", b"\n"):
            mock.feed(piece)
        assert got.wait(2)
    finally:
        client.close()


def test_timeout_names_the_request_and_what_came():
    client, mock, _ = _client(lambda d: b"partial\r\n")
    try:
        with pytest.raises(DeviceTimeout, match="'status'.*partial"):
            client.request("status", end=lambda l: l == "OK", timeout=0.2)
    finally:
        client.close()


def test_overlong_line_is_dropped_and_the_next_line_is_kept():
    client, mock, events = _client(max_line=64)
    try:
        done = threading.Event()
        client.on_event = lambda l: (events.append(l), done.set() if l == "after" else None)
        mock.feed(b"x" * 50)
        mock.feed(b"y" * 50)            # now over 64 bytes without a terminator: dropped
        mock.feed(b"z" * 500 + b"\n")   # the rest of that line: dropped too
        mock.feed(b"after\n")
        assert done.wait(2)
        assert events == ["after"]
        assert client.stats["overlong"] == 1 and "overlong" in client.degraded()
    finally:
        client.close()


def test_binary_noise_before_a_line_is_cut_away():
    client, mock, events = _client()
    try:
        done = threading.Event()
        client.on_event = lambda l: (events.append(l), done.set())
        mock.feed(b"\x00\xff\x13\x07OK\r\n")
        assert done.wait(2)
        assert events == ["OK"] and "binary noise" in client.degraded()
    finally:
        client.close()


def test_prompt_without_terminator_is_a_line():
    client, mock, _ = _client(prompts=("login:",))
    mock.responder = lambda d: b"\r\nlogin: "
    try:
        assert client.request("", end=lambda l: l.endswith("login:"), timeout=1) == ["login:"]
    finally:
        client.close()


def test_unplug_fails_the_pending_request_and_the_link_comes_back():
    client, mock, _ = _client()
    try:
        result = {}

        def ask():
            try:
                client.request("q", end=lambda l: l == "OK", timeout=3)
            except TransportClosed as exc:
                result["err"] = exc

        t = threading.Thread(target=ask)
        t.start()
        mock.unplug()
        t.join(3)
        assert "err" in result
        assert client.wait_lost(1)
        mock.replug()
        assert client.wait_ready(2)
        assert client.stats["reconnects"] == 1
    finally:
        client.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=st.lists(st.binary(max_size=300), max_size=12))
def test_any_bytes_never_crash_and_the_stream_resynchronises(chunks):
    client, mock, events = _client(max_line=256)
    try:
        got = threading.Event()
        client.on_event = lambda l: got.set() if l == "RESYNC-OK" else None
        for c in chunks:
            mock.feed(c)
        mock.feed(b"\n\x00\nRESYNC-OK\n")   # after any junk: one terminator, then a clean line
        assert got.wait(2)
        assert client._thread.is_alive()
    finally:
        client.close()

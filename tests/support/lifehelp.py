"""Helpers for the hearing lifecycle tests: a fast clock on a fixed court day and stand-in devices.

The court day is Monday 10 March 2025 in Astana (UTC+5). Times are written in court time
with :func:`at` and turned into UTC epoch seconds the way the controller stores them.
"""
import datetime as dt
import threading

import pytest

from vksroom.controller.clock import ManualClock
from support.roomkit import FlagDevice

COURT_TZ = dt.timezone(dt.timedelta(hours=5))


def at(day: int, hhmm: str) -> float:
    """Court time on March ``day`` 2025 as UTC epoch seconds."""
    h, m = map(int, hhmm.split(":"))
    return dt.datetime(2025, 3, day, h, m, tzinfo=COURT_TZ).timestamp()


def iso(day: int, hhmm: str) -> str:
    return dt.datetime.fromtimestamp(at(day, hhmm), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def clock():
    return ManualClock(at(9, "08:00"))


class StandInCodec(FlagDevice):
    """A codec stand-in with the call interface: far sides answer when listed in ``answering``."""

    kind = "codec"

    def __init__(self, cfg, data_dir=None, **kw):
        super().__init__(cfg, data_dir, **kw)
        self.answering: set[str] = set()
        self.state = "idle"
        self.dialled: list[str] = []
        self.hangups = 0
        self.lock = threading.Lock()

    def dial(self, number):
        self.connect()
        with self.lock:
            self.dialled.append(number)
            self.state = "connected" if number in self.answering else "connecting"

    def hangup(self):
        with self.lock:
            self.hangups += 1
            self.state = "idle"

    def call_state(self):
        self.connect()
        return self.state


class RelayedCamera(FlagDevice):
    """A camera that hangs until its power relay has been cycled (the relay pin went high)."""

    kind = "camera"

    def __init__(self, cfg, data_dir=None, pin=None, **kw):
        super().__init__(cfg, data_dir, **kw)
        self.pin = pin            # a gpiozero MockPin, set by the test
        self.hung_at_state = None

    def hang_until_power_cycle(self):
        self.hung_at_state = len(self.pin.states) if self.pin is not None else None
        self.up.clear()

    def connect(self):
        if not self.up.is_set() and self.hung_at_state is not None:
            history = [s.state for s in self.pin.states[self.hung_at_state:]]
            if True in history and history[-1] is False:   # power was cut and is back
                self.up.set()
        super().connect()


PINS = {"red": 17, "green": 27, "blue": 22, "buzzer": 23, "button": 24, "relay_cam1": 5, "relay_codec": 6}
LIGHT = {(False, True, False): "ready", (True, True, False): "warning", (True, False, False): "fault",
         (False, False, True): "suspended", (False, False, False): "off"}


def room_config(tmp_path, mqtt_url=None):
    from vksroom.controller.config import parse

    extra = {"mqtt": {"url": mqtt_url, "keepalive": 5, "protocol": "3.1.1"}} if mqtt_url else {}
    return parse({**extra,
        "room": {"court_id": "ast-smas", "courtroom": "12", "data_dir": str(tmp_path),
                 "court_name": {"kk": "Астана қаласының мамандандырылған ауданаралық әкімшілік соты",
                                "ru": "Специализированный межрайонный административный суд г. Астаны"}},
        "devices": {
            "cam1": {"type": "camera", "url": "visca-ip://127.0.0.1", "label": "Камера судьи",
                     "presets": {"judge": 1, "defendant": 4, "wide": 6}},
            "codec": {"type": "codec", "model": "cisco", "url": "/dev/null", "label": "Кодек"},
            "cam2": {"type": "camera", "url": "visca-ip://127.0.0.2", "required": False, "presets": {"wide": 1}},
        },
        "gpio": {"status_red": PINS["red"], "status_green": PINS["green"], "status_blue": PINS["blue"],
                 "buzzer": PINS["buzzer"], "button": PINS["button"],
                 "relays": {"cam1": PINS["relay_cam1"], "codec": PINS["relay_codec"]}},
        "selftest": {"poll_interval_s": 0.05, "check_timeout_s": 5},
    })


@pytest.fixture
def mock_factory():
    """gpiozero's MockFactory, handed to the room as its ``pin_factory`` (no global is set)."""
    from gpiozero.pins.mock import MockFactory

    factory = MockFactory()
    yield factory
    factory.reset()


class Room:
    """A started controller over stand-in devices, with everything it announced collected."""

    def __init__(self, tmp_path, clock, factory, broker=None, clock_probe=None):
        from vksroom.controller.assemble import build_room

        self.cfg = room_config(tmp_path, broker.url if broker else None)
        self.factory = factory
        cam1 = RelayedCamera(self.cfg.devices["cam1"])
        self.devices = {"cam1": cam1, "codec": StandInCodec(self.cfg.devices["codec"]),
                        "cam2": FlagDevice(self.cfg.devices["cam2"])}
        self.events = []
        self.controller = build_room(self.cfg, self.devices, clock=clock, pin_factory=factory,
                                     clock_probe=clock_probe)
        self.controller.events.subscribe(self.events.append)
        self.controller.start()
        self.link = None
        self.mark = len(self.events)   # what the MQTT link follows: events from here on
        if broker is not None:         # wired as app.Stack does: the link follows a started controller
            from vksroom.mqtt.link import MqttLink

            self.link = MqttLink(self.controller, self.cfg, protocol=self.cfg.mqtt.protocol,
                                 backoff=(0.1, 0.5)).start()
        cam1.pin = factory.pin(PINS["relay_cam1"]) if factory is not None else None
        self.life = self.controller.lifecycle
        self.clock = clock

    def pin(self, name):
        return self.factory.pin(PINS[name]).state

    def light(self):
        return LIGHT[(self.pin("red"), self.pin("green"), self.pin("blue"))]

    def kinds(self, prefix=""):
        return [e.kind for e in self.events if e.kind.startswith(prefix) and e.kind != "readiness"]

    def of(self, kind):
        return [e.data for e in self.events if e.kind == kind]

    def wait(self, predicate, timeout=5.0):
        assert self.life.wait_for(predicate, timeout), "condition not reached in time"

    def wait_state(self, state, timeout=5.0):
        r = self.controller.wait_for(lambda r: r.state.value == state, timeout)
        assert r is not None, f"room never became {state}: {self.controller.readiness().state}"

    def announced(self):
        """The events the MQTT link was following, in the order the controller announced them."""
        return [e for e in self.events[self.mark:] if e.kind != "readiness"]

    def stop(self, link_timeout=5.0):
        if self.link is not None:
            self.link.stop(timeout=link_timeout)
        self.controller.stop()


@pytest.fixture
def life_room(tmp_path, clock, mock_factory):
    rooms = []

    def make(broker=None, clock_probe=None):
        room = Room(tmp_path, clock, mock_factory, broker, clock_probe)
        rooms.append(room)
        return room

    yield make
    for r in rooms:
        if r.controller.thread_alive:
            r.stop()


# -- the central scheduler on a real broker ----------------------------------------------------------

@pytest.fixture
def broker():
    """Mosquitto with persistence when installed (sessions survive its restart), else amqtt."""
    from vksroom.hil.broker import Broker, mosquitto_path

    b = Broker("mosquitto", persistent=True) if mosquitto_path() else Broker("amqtt")
    b.start()
    yield b
    b.close()


class Central:
    """The central scheduler: a separate paho client with a persistent session on the room's topics.

    Keeps every message (topic, doc, retain flag) in arrival order; sends commands and waits for
    their replies. Waiting is real time: on a condition, with a deadline."""

    def __init__(self, broker, base: str):
        import paho.mqtt.client as mqtt

        self.base = base
        self.messages: list[tuple[str, dict, bool]] = []
        self.connections = 0
        self.cond = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="central-scheduler",
                                  protocol=mqtt.MQTTv311, clean_session=False)
        self.client.reconnect_delay_set(0.05, 0.2)
        self.client.on_connect = lambda c, u, f, rc, p: rc.is_failure or c.subscribe(f"{base}/#", qos=1)
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.connect_async("127.0.0.1", broker.port, keepalive=5)
        self.client.loop_start()
        self.wait(lambda: self.connections, 10, "the central scheduler could not subscribe")

    def _on_subscribe(self, *args):
        with self.cond:
            self.connections += 1
            self.cond.notify_all()

    def _on_message(self, client, userdata, msg):
        import json

        with self.cond:
            self.messages.append((msg.topic, json.loads(msg.payload), bool(msg.retain)))
            self.cond.notify_all()

    def wait(self, predicate, timeout: float = 10.0, what: str = "condition"):
        with self.cond:
            if not self.cond.wait_for(predicate, timeout):
                raise AssertionError(f"{what}: not reached within {timeout} s; last topics: "
                                     f"{[t for t, _, _ in self.messages[-5:]]}")
            return predicate()

    def docs(self, suffix: str) -> list[dict]:
        with self.cond:
            return [d for t, d, _ in self.messages if t == f"{self.base}/{suffix}"]

    def events(self) -> list[dict]:
        """Event documents (with the ``topic`` they came on) in arrival order, duplicates (QoS 1
        redelivery) dropped by id."""
        seen, out = set(), []
        with self.cond:
            for t, d, _ in self.messages:
                if t.startswith(f"{self.base}/events/") and d["id"] not in seen:
                    seen.add(d["id"])
                    out.append({**d, "topic": t})
        return out

    def command(self, name: str, args: dict, request_id: str) -> dict:
        """Send a command on the room's commands topic; the reply from the replies topic."""
        from vksroom.mqtt import contract

        topics = contract.Topics(*self.base.split("/"))
        doc = contract.command_doc(topics, name, args, request_id=request_id)
        self.client.publish(topics.commands, contract.encode(doc), qos=1)
        return self.wait(lambda: next((r for r in self.docs("replies") if r["request_id"] == request_id), None),
                         10, f"reply to {name} {request_id}")

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def retained(broker, topic: str, timeout: float = 10.0) -> dict:
    """What a newcomer to ``topic`` gets: the broker's retained copy (asserted to be retained)."""
    import json

    import paho.mqtt.client as mqtt

    got, cond = [], threading.Condition()

    def on_message(c, u, msg):
        if msg.topic != topic:   # amqtt has been seen to hand a newcomer another topic's retained message
            return
        with cond:
            got.append(msg)
            cond.notify_all()

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    c.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
    c.on_message = on_message
    c.connect("127.0.0.1", broker.port, keepalive=5)
    c.loop_start()
    try:
        with cond:
            assert cond.wait_for(lambda: got, timeout), f"nothing retained on {topic}"
            msg = got[0]
    finally:
        c.disconnect()
        c.loop_stop()
    assert msg.retain, f"{topic}: the first message a newcomer got was not the retained copy"
    return json.loads(msg.payload)


@pytest.fixture
def central(broker):
    made = []

    def make(base):
        c = Central(broker, base)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


# -- the technician's panel through Flask's test client -------------------------------------------

class Panel:
    """The room's panel as the technician's browser reads it (Flask's test client, no server)."""

    def __init__(self, room):
        from vksroom.web import create_app

        from support.panelclient import PanelClient

        app = create_app(room.controller, {"TESTING": True})
        app.test_client_class = PanelClient   # its posts carry the page's CSRF token, as a browser's do
        self.client = app.test_client()

    def page(self, path: str, lang: str = "ru") -> str:
        resp = self.client.get(path, query_string={"lang": lang})
        assert resp.status_code == 200, f"{path}: HTTP {resp.status_code}"
        return resp.get_data(as_text=True)

    def post(self, path: str, who: str | None = None, **form) -> int:
        """A form sent by ``who``, logged in for this one request: the panel signs an action
        with the session's user, never with a name typed into the form."""
        if who:   # a room with no panel users: the name rides on a server session the panel opened
            sid = self.client.application.extensions["vksroom.sessions"].open(who, None)
            with self.client.session_transaction() as session:
                session["user"], session["sid"] = who, sid
        try:
            return self.client.post(path, data=form).status_code
        finally:
            if who:
                with self.client.session_transaction() as session:
                    session.pop("user", None)
                    session.pop("sid", None)

    def state(self, lang: str = "ru") -> tuple[str, str]:
        """The room page's state: (data-state, the text shown)."""
        import re

        page = self.page("/", lang)
        m = re.search(r'id="room-state"[^>]*data-state="([a-z_]+)".*?id="room-state-text">([^<]*)<', page, re.S)
        assert m, "no room state on the room page"
        return m.group(1), m.group(2).strip()

    def banners(self, path: str = "/", lang: str = "ru") -> list[dict]:
        """The alarm banners on a page: level, alarm id, state, the text, the mark buttons."""
        import html
        import re

        out = []
        for m in re.finditer(r'<div class="banner (fault|warning)" data-alarm="(\d+)" data-state="([a-z_]+)">(.*?)</div>',
                             self.page(path, lang), re.S):
            body = m.group(4)
            body = re.sub(r"</?span[^>]*>", "", body)       # inline marks (translate="no") are no word break
            text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body.split("<form")[0])).split())
            marks = re.findall(r'<button name="mark" value="([a-z_]+)"', body)
            out.append({"level": m.group(1), "id": int(m.group(2)), "state": m.group(3), "text": text, "marks": marks})
        return out

    def break_banner(self, path: str = "/", lang: str = "ru") -> str | None:
        """The 'technical break recommended' banner's text when it offers the reconnect button, else None."""
        import html
        import re

        m = re.search(r'<div id="break" class="banner warning">(.*?)<form.*?id="reconnect-button"', self.page(path, lang),
                      re.S)
        return " ".join(html.unescape(m.group(1)).split()) if m else None


# -- the panel over a life room ----------------------------------------------------------------------

SIZO = {"id": "sizo-1", "kind": "detention", "name": "СИЗО-1 г. Астаны", "number": "sizo1@vks.kz"}


@pytest.fixture
def life(life_room, clock):
    """A started life room, ready, that knows the far side SIZO-1."""
    room = life_room()
    room.wait_state("ready")
    room.controller.command("farside.set", SIZO)
    return room

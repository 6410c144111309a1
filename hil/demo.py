"""The demo bench: a simulated courtroom on loopback.

Starts two VISCA-over-IP cameras (UDP; three with ``cameras=3``), a Cisco codec on a
pseudo-terminal and an MQTT broker, and writes a room TOML that points at them. It is bench equipment, like the
simulators: it imports no controller code; the caller loads the TOML it writes.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from vksroom.hil.scene import DEFENDANT_VIEW, JUDGE_VIEW, OVERVIEW, PLAINTIFF_VIEW

DEMO_PRESETS = {"judge": 1, "prosecutor": 2, "defence": 3, "defendant": 4, "witness": 5, "wide": 6}
DEMO_MICS = ("judge", "prosecutor", "defence", "defendant", "witness")
# Where each role's preset points (VISCA pan, tilt, zoom) in the synthetic courtroom of
# hil/scene.py, as a technician stored them: the judge's bench, the parties, the hall.
DEMO_POSITIONS = {1: JUDGE_VIEW, 2: PLAINTIFF_VIEW, 3: (PLAINTIFF_VIEW[0] // 2, PLAINTIFF_VIEW[1], 4000),
                  4: DEFENDANT_VIEW, 5: (DEFENDANT_VIEW[0] // 2, DEFENDANT_VIEW[1], 4000), 6: OVERVIEW}


def _demo_hash(password: str) -> str:
    """The demo user's password hash (werkzeug's, as `vks-room panel-password` makes it)."""
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password)


class DemoBench:
    DEMO_USER, DEMO_PASSWORD = "technician", "demo-pass"
    # One demo user per role of the rules, named after it, all with DEMO_PASSWORD.
    DEMO_ROLES = {"technician": "technician", "secretary": "secretary", "head": "head_of_chancellery",
                  "admin": "administrator"}
    # The names people read (header, record, act): plain Cyrillic, read alike on kk and ru pages.
    DEMO_NAMES = {"technician": "Техник А. Серикова", "secretary": "Секретарь Е. Жанова",
                  "head": "Зав. канцелярией Б. Омаров", "admin": "Администратор Д. Ким"}

    def _demo_users(self) -> str:
        hashed = _demo_hash(self.DEMO_PASSWORD)   # one hash for all: the demo's users share the password
        return ", ".join(f'{name} = {{ hash = "{hashed}", roles = ["{role}"], display = "{self.DEMO_NAMES[name]}" }}'
                         for name, role in self.DEMO_ROLES.items())

    def __init__(self, panel_host: str = "127.0.0.1", panel_port: int = 8080, data_dir: str | None = None,
                 mqtt: bool = True, broker_kind: str = "auto", cameras: int = 2):
        if cameras not in (2, 3):
            raise ValueError(f"the demo courtroom has 2 or 3 cameras, not {cameras}")
        self.panel_host, self.panel_port = panel_host, panel_port
        # The judge's and the hall's camera; a third (the dock's, on the defendant) on request.
        self.camera_names = tuple(self.CAMERAS)[:cameras]
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="vksroom-demo-"))
        self.mqtt = mqtt
        self.broker_kind = broker_kind   # auto: Mosquitto when installed, else the embedded amqtt
        self.cameras: dict = {}
        self.streams: dict = {}     # camera name -> its simulated video (MJPEG over HTTP)
        self.codec = None
        self.dsp = None
        self.broker = None
        self.config_path = self.data_dir / "room.toml"
        self.config = None

    def start(self) -> "DemoBench":
        from vksroom.hil.audio_sim import TesiraSimulator
        from vksroom.hil.codec_sim import CiscoCodecSimulator
        from vksroom.hil.video_stream import VideoStreamServer
        from vksroom.hil.visca_camera import CameraSimulator

        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            for name in self.camera_names:
                state = self.data_dir / f"{name}.json"
                if not state.exists():  # the presets a technician stored when the room was set up
                    state.write_text(json.dumps({"presets": {str(n): list(pos) for n, pos in DEMO_POSITIONS.items()}}))
                sim = CameraSimulator(transport="visca-ip", host="127.0.0.1", port=0, state_file=str(state)).start()
                self.cameras[name] = sim
                # The picture follows the camera: what it shows is cropped by its pan, tilt and zoom.
                # ...and it holds still while the camera's picture freeze is on.
                self.streams[name] = VideoStreamServer(view_fn=lambda sim=sim: (sim.pan, sim.tilt, sim.zoom),
                                                       frozen_fn=lambda sim=sim: sim.frozen).start()
            self.codec = CiscoCodecSimulator().start()
            # The bench microphones, with people speaking into them (or the DSP's test tone).
            self.dsp = TesiraSimulator(channels=len(DEMO_MICS),
                                       signals={i + 1: "speech" for i in range(len(DEMO_MICS))}).start()
            if self.mqtt:
                from vksroom.hil.broker import Broker

                self.broker = Broker(self.broker_kind).start()
            self.config_path.write_text(self.toml(), encoding="utf-8")
            self.config_path.chmod(0o600)   # it holds the demo users' password hashes
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for sim in (*self.cameras.values(), *self.streams.values()):
            sim.stop()
        for sim in (self.codec, self.dsp):
            if sim is not None:
                sim.stop()
        if self.broker is not None:
            self.broker.stop()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        self.start()
        from vksroom.controller.config import load  # the caller's side: the bench itself stays controller-free

        self.config = load(self.config_path)
        return self

    def __exit__(self, *exc):
        self.stop()

    # name -> its label (kk, ru, en), whether the room needs it, its role presets (None: all)
    CAMERAS = {"cam_judge": (("Судья камерасы", "Камера судьи", "Judge camera"), True, None),
               "cam_hall": (("Зал камерасы", "Камера зала", "Hall camera"), False, {"wide": 6}),
               "cam_dock": (("Қорғалу орны камерасы", "Камера скамьи подсудимых", "Dock camera"), False,
                            {"defendant": 4})}

    def _cameras_toml(self) -> str:
        out = []
        for name in self.camera_names:
            (kk, ru, en), required, presets = self.CAMERAS[name]
            roles = ", ".join(f"{role} = {n}" for role, n in (presets or DEMO_PRESETS).items())
            out.append(f"""[devices.{name}]
type = "camera"
label = {{ kk = "{kk}", ru = "{ru}", en = "{en}" }}
url = "{self.cameras[name].url}"
video = "{self.streams[name].url}"
{"" if required else "required = false" + chr(10)}presets = {{ {roles} }}
""")
        return "\n".join(out)

    def toml(self) -> str:
        mics = "\n".join(f"channels.{name} = {{ index = {i + 1} }}" for i, name in enumerate(DEMO_MICS))
        broker_url = self.broker.url if self.broker else "mqtt://127.0.0.1:1883"
        return f"""# Generated by `vks-room demo`: a simulated courtroom on loopback.
[room]
court_id = "demo-court"
court_name = {{ kk = "Астана қаласының мамандандырылған ауданаралық соты (демо)", ru = "Специализированный межрайонный суд г. Астаны (демо)", en = "Astana specialised inter-district court (demo)" }}
courtroom = "7"
timezone = "Asia/Almaty"
data_dir = "{self.data_dir}"
demo = true

{self._cameras_toml()}
[devices.codec]
type = "codec"
model = "cisco"
label = "Кодек"
url = "{self.codec.url}"
far_end = "sizo-1"
connect_timeout_s = 10
hold_s = 2

[devices.dsp]
type = "dsp"
model = "tesira"
label = {{ kk = "Дыбыс процессоры", ru = "Аудиопроцессор", en = "Audio processor" }}
url = "{self.dsp.url}"
window_s = 2
{mics}

[mqtt]
url = "{broker_url}"
keepalive = 5
protocol = "{'3.1.1' if self.broker and self.broker.kind == 'amqtt' else 'auto'}"   # amqtt speaks 3.1.1 only

[panel]
host = "{self.panel_host}"
port = {self.panel_port}
language = "ru"
users = {{ {self._demo_users()} }}

[selftest]
poll_interval_s = 1.0
check_timeout_s = 20
"""

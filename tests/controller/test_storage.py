"""A room whose data lives in RAM (an overlay root, a tmpfs) loses its outbox, schedule and
records at the next power cut: it says so."""
import os

import pytest

from vksroom.controller import storage
from vksroom.controller.assemble import build_room
from vksroom.controller.config import parse
from support.roomkit import FlagDevice

SHM = "/dev/shm"


def test_the_file_system_of_a_path_is_read():
    assert storage.fs_type("/proc") == 0x9FA0                       # procfs
    if os.path.isdir(SHM) and storage.fs_type(SHM) == 0x01021994:
        assert storage.volatile(f"{SHM}/not-made-yet/vksroom") == "tmpfs"   # judged where it would be made


@pytest.mark.skipif(not (os.path.isdir(SHM) and storage.volatile(SHM) == "tmpfs"), reason="no tmpfs at /dev/shm")
def test_a_data_directory_in_ram_is_a_fault_of_the_room(tmp_path):
    data = os.path.join(SHM, f"vksroom-test-{os.getpid()}")
    cfg = parse({"room": {"court_id": "c", "courtroom": "1", "data_dir": data},
                 "devices": {"cam": {"type": "camera", "url": "visca-ip://127.0.0.1"}}})
    room = build_room(cfg, {"cam": FlagDevice(cfg.devices["cam"])}, check_storage=True).start()
    try:
        r = room.wait_for(lambda r: r.device("system") is not None, 5)
        check = next(c for c in r.device("system").checks if c.check == "storage")
        assert not check.ok and "tmpfs" in check.detail
        assert any("оперативной памяти" in line for line in r.reason_lines("ru"))
    finally:
        room.stop()
        import shutil

        shutil.rmtree(data, ignore_errors=True)

"""The pi-gen stage that puts the room into a Raspberry Pi OS image (firmware/pi-gen/stage-vksroom):
its scripts are shell pi-gen can run, and the step on the build machine carries a whole bundle into
the image's root. The stage itself, install and all, runs in `make pi-check` (arm64, qemu, root)."""
import hashlib
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / "firmware" / "pi-gen" / "stage-vksroom"


def test_the_stage_is_shell_pi_gen_runs_and_it_installs_from_the_bundle():
    scripts = [STAGE / "prerun.sh", STAGE / "EXPORT_IMAGE", *sorted(STAGE.glob("*/*.sh")),
               ROOT / "firmware" / "pi-gen" / "run-stage.sh", ROOT / "firmware" / "systemd-check.sh"]
    for script in scripts:
        done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=10)
        assert done.returncode == 0, f"{script.name}: {done.stderr}"
    for runs in (STAGE / "prerun.sh", STAGE / "00-vksroom" / "00-run.sh"):
        assert os.access(runs, os.X_OK), f"{runs.name}: pi-gen runs it only when executable"
    chroot = (STAGE / "00-vksroom" / "00-run-chroot.sh").read_text()
    assert "firmware/install.sh --from /root/vksroom-bundle/wheels </dev/null" in chroot
    assert "rm -rf /root/vksroom-bundle" in chroot   # the bundle does not stay in the image


def bundle(folder: Path) -> Path:
    (folder / "wheels").mkdir(parents=True)
    (folder / "firmware").mkdir()
    (folder / "firmware" / "install.sh").write_text("#!/bin/sh\n")
    (folder / "firmware" / "install.sh").chmod(0o755)
    wheel = folder / "wheels" / "vksroom-1.0.0-py3-none-any.whl"
    wheel.write_bytes(b"a wheel")
    (folder / "wheels" / "SHA256SUMS").write_text(f"{hashlib.sha256(b'a wheel').hexdigest()}  {wheel.name}\n")
    return folder


def run_on_build_machine(tmp_path, the_bundle):
    rootfs = tmp_path / "rootfs"
    (rootfs / "root").mkdir(parents=True, exist_ok=True)
    env = {"PATH": os.environ["PATH"], "ROOTFS_DIR": str(rootfs), "VKSROOM_BUNDLE": str(the_bundle)}
    done = subprocess.run(["./00-run.sh"], cwd=STAGE / "00-vksroom", env=env, capture_output=True, text=True,
                          timeout=30)
    return done, rootfs / "root" / "vksroom-bundle"


def test_the_build_machine_step_copies_a_whole_bundle_into_the_root_and_refuses_a_damaged_one(tmp_path):
    good = bundle(tmp_path / "good")
    done, inside = run_on_build_machine(tmp_path, good)
    assert done.returncode == 0, done.stderr
    assert (inside / "wheels" / "vksroom-1.0.0-py3-none-any.whl").read_bytes() == b"a wheel"
    assert os.access(inside / "firmware" / "install.sh", os.X_OK)

    damaged = bundle(tmp_path / "damaged")
    (damaged / "wheels" / "vksroom-1.0.0-py3-none-any.whl").write_bytes(b"a wheel cut sho")
    done, inside = run_on_build_machine(tmp_path / "again", damaged)
    assert done.returncode != 0 and "FAILED" in done.stdout + done.stderr
    assert not inside.exists()

    done, _ = run_on_build_machine(tmp_path / "none", tmp_path / "missing")
    assert done.returncode == 1 and "firmware/bundle.sh" in done.stderr

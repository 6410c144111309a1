#!/bin/bash -e
# pi-gen feeds this file to `bash -e` inside the image's root (on_chroot < 00-run-chroot.sh).
# No systemd runs there: install.sh builds the release, enables the unit and stops; the room
# starts at the Pi's first boot. This file is the shell's stdin: install.sh must not read it.
/root/vksroom-bundle/firmware/install.sh --from /root/vksroom-bundle/wheels </dev/null
rm -rf /root/vksroom-bundle

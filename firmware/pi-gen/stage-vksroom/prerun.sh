#!/bin/bash -e
# pi-gen runs this before the sub-stages: this stage builds on the previous one's root (stage2,
# Raspberry Pi OS Lite), copied by pi-gen's copy_previous unless the work directory has it already.
if [ ! -d "${ROOTFS_DIR}" ]; then
	copy_previous
fi

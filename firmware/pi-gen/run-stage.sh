#!/bin/bash -e
# One pi-gen stage run the way pi-gen's build.sh runs it, without the rest of pi-gen: what
# `make pi-check` uses to run stage-vksroom on a Debian arm64 root (and what builds a root
# without pi-gen). Read from pi-gen (build.sh run_stage/run_sub_stage, scripts/common); the
# kinds of file handled are the ones a stage may have except quilt patches:
#   STAGE/prerun.sh (executable), STAGE/NN-name/ (in order, unless it has SKIP) with, for
#   each NN from 00 to 99: NN-debconf, NN-packages-nr, NN-packages, NN-run.sh (executable,
#   run here in its directory), NN-run-chroot.sh (fed to bash -e in the root: on_chroot).
#   PREV_ROOTFS_DIR=/the/previous/root WORK_DIR=/a/work/dir run-stage.sh STAGE_DIR
# The stage's scripts see what pi-gen's see: ROOTFS_DIR (WORK_DIR/STAGE/rootfs), STAGE,
# STAGE_DIR, STAGE_WORK_DIR, PREV_STAGE, PREV_ROOTFS_DIR, WORK_DIR, BASE_DIR, IMG_NAME, IMG_DATE, CLEAN,
# USE_QEMU and the functions log, copy_previous, on_chroot. CLEAN=1 (the default here) starts
# the stage's root again from the previous one, as `CLEAN=1 ./build.sh` does.
# The image itself (export-image: partitions, loop devices) is not made here.
set -o pipefail
STAGE_DIR="$(cd "${1:?usage: run-stage.sh STAGE_DIR}" && pwd)"
: "${PREV_ROOTFS_DIR:?the root of the stage before (pi-gen: work/.../stage2/rootfs)}" "${WORK_DIR:?}"
export STAGE_DIR WORK_DIR PREV_ROOTFS_DIR
export STAGE="$(basename "${STAGE_DIR}")"
export STAGE_WORK_DIR="${WORK_DIR}/${STAGE}"
export ROOTFS_DIR="${STAGE_WORK_DIR}/rootfs"
export PREV_STAGE="${PREV_STAGE:-stage2}"
export BASE_DIR="${BASE_DIR:-$(dirname "${STAGE_DIR}")}"
export IMG_NAME="${IMG_NAME:-raspios-bookworm-arm64}" IMG_DATE="${IMG_DATE:-$(date +%Y-%m-%d)}" CLEAN="${CLEAN:-1}" USE_QEMU="${USE_QEMU:-0}"
export LOG_FILE="${WORK_DIR}/build.log"
mkdir -p "${STAGE_WORK_DIR}"

log() { date +"[%T] $*" | tee -a "${LOG_FILE}"; }

copy_previous() {
	[ -d "${PREV_ROOTFS_DIR}" ] || { echo "Previous stage rootfs not found" >&2; return 1; }
	mkdir -p "${ROOTFS_DIR}"
	if command -v rsync >/dev/null; then
		rsync -aHAXx --exclude var/cache/apt/archives "${PREV_ROOTFS_DIR}/" "${ROOTFS_DIR}/"
	else   # the same copy: hard links, ACLs, xattrs, one file system
		cp -a --one-file-system "${PREV_ROOTFS_DIR}/." "${ROOTFS_DIR}/"
		rm -rf "${ROOTFS_DIR}"/var/cache/apt/archives/*.deb
	fi
}

mounted() { mountpoint -q "$1"; }

# the root's /proc, /dev, /dev/pts, /sys from the host; its own /run and /tmp (tmpfs): no booted
# systemd is visible inside, as in pi-gen. Then bash -e in the root, with this environment.
on_chroot() {
	mounted "${ROOTFS_DIR}/proc" || mount -t proc proc "${ROOTFS_DIR}/proc"
	mounted "${ROOTFS_DIR}/dev" || mount --bind /dev "${ROOTFS_DIR}/dev"
	mounted "${ROOTFS_DIR}/dev/pts" || mount --bind /dev/pts "${ROOTFS_DIR}/dev/pts"
	mounted "${ROOTFS_DIR}/sys" || mount --bind /sys "${ROOTFS_DIR}/sys"
	mounted "${ROOTFS_DIR}/run" || mount -t tmpfs tmpfs "${ROOTFS_DIR}/run"
	mounted "${ROOTFS_DIR}/tmp" || mount -t tmpfs tmpfs "${ROOTFS_DIR}/tmp"
	capsh --drop=cap_setfcap "--chroot=${ROOTFS_DIR}/" -- -e "$@"
}

unmount_stage() {   # what pi-gen does at a stage's end
	local m
	for m in tmp run sys dev/pts dev proc; do
		! mounted "${ROOTFS_DIR}/$m" || umount "${ROOTFS_DIR}/$m"
	done
}
export -f log copy_previous mounted on_chroot

packages() {   # NN-packages(-nr): the names, comments removed, in one apt-get call in the root
	local list
	list="$(sed -e 's/#.*//' "$1" | tr -s ' \t\n' ' ')"
	[ -n "${list// /}" ] || return 0
	on_chroot <<EOF
apt-get install $2 -y ${list}
EOF
}

run_sub_stage() {
	local i
	log "Begin ${SUB_STAGE_DIR}"
	pushd "${SUB_STAGE_DIR}" >/dev/null
	for i in {00..99}; do
		if [ -f "${i}-debconf" ]; then
			log "Begin ${SUB_STAGE_DIR}/${i}-debconf"
			on_chroot <<EOF
debconf-set-selections <<SELEOF
$(cat "${i}-debconf")
SELEOF
EOF
		fi
		if [ -f "${i}-packages-nr" ]; then
			log "Begin ${SUB_STAGE_DIR}/${i}-packages-nr"
			packages "${i}-packages-nr" --no-install-recommends
		fi
		if [ -f "${i}-packages" ]; then
			log "Begin ${SUB_STAGE_DIR}/${i}-packages"
			packages "${i}-packages" ""
		fi
		[ ! -d "${i}-patches" ] || { log "${i}-patches: quilt patches are not applied here"; return 1; }
		if [ -x "${i}-run.sh" ]; then
			log "Begin ${SUB_STAGE_DIR}/${i}-run.sh"
			"./${i}-run.sh"
		fi
		if [ -f "${i}-run-chroot.sh" ]; then
			log "Begin ${SUB_STAGE_DIR}/${i}-run-chroot.sh"
			on_chroot <"${i}-run-chroot.sh"
		fi
	done
	popd >/dev/null
	log "End ${SUB_STAGE_DIR}"
}

log "Begin ${STAGE_DIR} (root ${ROOTFS_DIR}, from ${PREV_ROOTFS_DIR})"
trap unmount_stage EXIT
unmount_stage
if [ ! -f "${STAGE_DIR}/SKIP" ]; then
	pushd "${STAGE_DIR}" >/dev/null
	if [ "${CLEAN}" = 1 ] && [ -d "${ROOTFS_DIR}" ]; then
		# never through a mount left behind (a host's /dev bound in the root)
		! findmnt -rn -o TARGET | grep -q "^${ROOTFS_DIR}/" || { log "mounts left under ${ROOTFS_DIR}"; exit 1; }
		rm -rf --one-file-system "${ROOTFS_DIR}"
	fi
	if [ -x prerun.sh ]; then
		log "Begin ${STAGE_DIR}/prerun.sh"
		./prerun.sh
	fi
	for SUB_STAGE_DIR in "${STAGE_DIR}"/*; do
		if [ -d "${SUB_STAGE_DIR}" ] && [ ! -f "${SUB_STAGE_DIR}/SKIP" ]; then
			run_sub_stage
		fi
	done
	popd >/dev/null
fi
if [ -f "${STAGE_DIR}/EXPORT_IMAGE" ] && [ ! -f "${STAGE_DIR}/SKIP_IMAGES" ]; then
	# shellcheck source=/dev/null
	IMG_SUFFIX="$(source "${STAGE_DIR}/EXPORT_IMAGE" && echo "${IMG_SUFFIX}")"
	log "pi-gen would export ${IMG_DATE}-${IMG_NAME}${IMG_SUFFIX}.img from ${ROOTFS_DIR} (not made here)"
fi
log "End ${STAGE_DIR}"

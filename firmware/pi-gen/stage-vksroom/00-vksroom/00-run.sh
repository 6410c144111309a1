#!/bin/bash -e
# pi-gen runs this on the build machine, in this directory, after 00-packages-nr: the offline
# bundle (firmware/bundle.sh: the wheel, its dependencies, the installer) goes into the image's
# root for 00-run-chroot.sh. VKSROOM_BUNDLE (exported from pi-gen's config) names it; default
# files/bundle here.
bundle="${VKSROOM_BUNDLE:-files/bundle}"
if [ ! -x "${bundle}/firmware/install.sh" ] || ! ls "${bundle}"/wheels/vksroom-*.whl >/dev/null 2>&1; then
	echo "stage-vksroom: no offline bundle in ${bundle} (make one: firmware/bundle.sh ${bundle})" >&2
	exit 1
fi
(cd "${bundle}/wheels" && sha256sum --quiet --strict -c SHA256SUMS)   # a bundle carried on a stick
dest="${ROOTFS_DIR}/root/vksroom-bundle"
rm -rf "${dest}"
install -d -m 0700 "${dest}"
cp -r "${bundle}/firmware" "${bundle}/wheels" "${dest}/"

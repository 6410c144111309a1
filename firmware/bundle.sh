#!/usr/bin/env bash
# An offline bundle: the room controller's wheel and every dependency, for arm64 (the Pi) and
# x86-64, with the installer, so a Pi on a court network without internet installs from a folder:
#   firmware/bundle.sh OUT [WHEEL]         (on a machine with internet; WHEEL default: built here)
#   sudo OUT/firmware/install.sh --from OUT/wheels                    (on the Pi)
# Dependencies are wheels for CPython 3.11 (Debian bookworm's) on manylinux (glibc <= 2.36).
# lgpio has no arm64 wheel on PyPI: its sdist is included with what builds it (setuptools, wheel);
# Raspberry Pi OS needs none of it (python3-lgpio), plain Debian builds it with swig and gcc.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
out="${1:?usage: firmware/bundle.sh OUT [WHEEL]}"
wheel="${2:-}"
mkdir -p "$out/wheels"
if [ -z "$wheel" ]; then
  python3 -m pip wheel --no-deps -q -w "$out/wheels" "$repo"
else
  cp "$wheel" "$out/wheels/"
fi
wheel="$(ls "$out"/wheels/vksroom-*.whl | sort -V | tail -1)"
py="--python-version 3.11 --implementation cp --only-binary=:all:"
for arch in aarch64 x86_64; do
  plats=""
  for tag in manylinux2014 manylinux_2_17 manylinux_2_28 manylinux_2_31 manylinux_2_34 manylinux_2_35 linux; do
    plats="$plats --platform ${tag}_$arch"
  done
  # shellcheck disable=SC2086  # word splitting of the option lists is meant
  python3 -m pip download -q $py $plats -d "$out/wheels" "$wheel"
done
python3 -m pip download -q --no-deps --no-binary=:all: -d "$out/wheels" "lgpio>=0.2.2"
python3 -m pip download -q --no-deps --only-binary=:all: -d "$out/wheels" setuptools wheel
cp -r "$here" "$out/firmware"
(cd "$out/wheels" && sha256sum -- * >SHA256SUMS)
echo "bundle: $out ($(ls "$out/wheels" | wc -l) files); on the Pi: sudo $out/firmware/install.sh --from $out/wheels"

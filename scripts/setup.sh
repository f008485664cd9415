#!/bin/sh
# setup.sh - install the Debian 12 packages attnbench needs, and only those
# that are missing. Idempotent: when everything is there it says so and
# installs nothing. Works as root, or through sudo for other users.
#
#   scripts/setup.sh            install what is missing
#   scripts/setup.sh --check    only list what is missing (exit 1 if any)
set -eu

PACKAGES="
build-essential
pkg-config
git
libbenchmark-dev
libcsv-dev
libjansson-dev
libopenblas-dev
libcmocka-dev
gnuplot-nox
libvulkan-dev
libvulkan-volk-dev
glslc
vulkan-validationlayers
mesa-vulkan-drivers
python3-numpy
clang-format
cppcheck
clang
libclang-rt-14-dev
chromium
"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "setup: all $(echo $PACKAGES | wc -w) packages are installed" >&2
	exit 0
fi
echo "setup: missing packages:$missing" >&2
if [ "${1:-}" = "--check" ]; then
	exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "setup: not root and no sudo: install these packages as root:$missing" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "setup: apt-get update" >&2
$SUDO apt-get update -q >&2
echo "setup: apt-get install$missing" >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >&2
echo "setup: installed$missing" >&2

#!/bin/sh
# setup.sh - install the Debian 12 packages attnbench needs, and only those
# that are missing. Idempotent: when everything is there it says so and
# installs nothing. Works as root, or through sudo for other users.
#
#   scripts/setup.sh            install what is missing
#   scripts/setup.sh --check    only list what is missing (exit 1 if any)
#   scripts/setup.sh --slurm    also Slurm and MUNGE, for `make test-slurm`
#                               (a single-node cluster on this machine)
set -eu

check=0
slurm=0
for arg in "$@"; do
	case "$arg" in
	--check) check=1 ;;
	--slurm) slurm=1 ;;
	*)
		echo "setup: unknown option '$arg' (--check, --slurm)" >&2
		exit 2
		;;
	esac
done

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
if [ "$slurm" -eq 1 ]; then
	PACKAGES="$PACKAGES slurm-wlm munge"
fi

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "setup: all $(echo "$PACKAGES" | wc -w) packages are installed" >&2
	exit 0
fi
echo "setup: missing packages:$missing" >&2
if [ "$check" -eq 1 ]; then
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

# Installing munge and slurmd would start their system services (munged
# with the distribution's key, slurmd/slurmctld where a slurm.conf exists);
# `make test-slurm` starts daemons of its own and nothing else should run.
# While apt installs them a policy-rc.d, where none exists, says no to every
# service start (as Debian's Docker images do); it is removed afterwards.
policy=/usr/sbin/policy-rc.d
if [ "$slurm" -eq 1 ] && [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# scripts/setup.sh --slurm: no service starts while it installs\nexit 101\n' |
		$SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	trap '$SUDO rm -f "$policy"' EXIT
	trap 'exit 130' INT TERM
fi

export DEBIAN_FRONTEND=noninteractive
echo "setup: apt-get update" >&2
$SUDO apt-get update -q >&2
echo "setup: apt-get install$missing" >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >&2
echo "setup: installed$missing" >&2

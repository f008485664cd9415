#!/bin/sh
# ci.sh - the CI job (github-actions.yml runs it) as a plain shell recipe for
# any CI system, run from a clone that has BASE_REF's history. It stops at
# the first command that fails, with that command's exit status (attnbench:
# 1 a failed check or a regression, 2 bad input; make: 2).
#   BASE_REF  the commit the change is measured against (default:
#             origin/main; fetch it first in a shallow clone)
#
# The A/B gate: the CPU backends of BASE_REF and of this tree, each built
# into a backend library (make backends-lib), measured side by side in one
# sweep (repetition pairs, base and candidate in turn) and judged by
# `compare --ab`: is the candidate more than 2% slower at any point,
# significantly? A BASE_REF older than `make backends-lib` skips the gate,
# saying so. A backend of your own: build its library at both commits
# instead, and name it with --backend mine@base,mine@cand.
set -eu
BASE_REF=${BASE_REF:-origin/main}
make test
build/attnbench check --golden datasets/golden --junit check-junit.xml
if ! git rev-parse --verify --quiet "$BASE_REF^{commit}" >/dev/null; then
	echo "ci.sh: BASE_REF=$BASE_REF is not a commit of this clone (fetch it, or set BASE_REF)" >&2
	exit 2
fi
rm -rf .ab-base
git worktree prune
git worktree add --detach .ab-base "$BASE_REF"
if ! make -C .ab-base -n backends-lib >/dev/null 2>&1; then
	echo "ci.sh: $BASE_REF has no 'make backends-lib' (it predates the A/B gate): gate skipped" >&2
	exit 0
fi
make -C .ab-base backends-lib
make backends-lib
build/attnbench sweep --config datasets/sweeps/ab.conf --out ab \
	--backend-lib base=.ab-base/build/libattnbench_cpu.so --backend-lib cand=build/libattnbench_cpu.so
build/attnbench compare --ab ab --max-slowdown 1.02 --alpha 0.01 --junit ab-junit.xml

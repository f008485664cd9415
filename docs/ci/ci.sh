#!/bin/sh
# ci.sh - the gate of github-actions.yml as a plain shell recipe for any CI
# system, run from a clone that has BASE_REF. Exit status: 0 pass, 1 a check
# or the gate failed, 2 bad input.
#   BASE_REF  the commit the change is measured against (default:
#             origin/main); it must have `make backends-lib`
#
# The A/B gate: the CPU backends of BASE_REF and of this tree, each built
# into a backend library, measured side by side in one sweep (repetition
# pairs, base and candidate in turn) and judged by `compare --ab`: is the
# candidate more than 2% slower at any point, significantly? A backend of
# your own: build its library at both commits instead, and name it with
# --backend mine@base,mine@cand.
set -eu
BASE_REF=${BASE_REF:-origin/main}
make test
build/attnbench check --golden datasets/golden --junit check-junit.xml
rm -rf .ab-base
git worktree prune
git worktree add --detach .ab-base "$BASE_REF"
make -C .ab-base backends-lib
make backends-lib
build/attnbench sweep --config datasets/sweeps/ab.conf --out ab \
	--backend-lib base=.ab-base/build/libattnbench_cpu.so --backend-lib cand=build/libattnbench_cpu.so
build/attnbench compare --ab ab --max-slowdown 1.02 --alpha 0.01 --junit ab-junit.xml

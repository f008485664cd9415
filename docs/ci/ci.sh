#!/bin/sh
# ci.sh - the same gate as github-actions.yml as a plain shell recipe for any
# CI system. Exit status: 0 pass, 1 a check or the gate failed, 2 bad input.
#   BASELINE  a run directory or results.csv measured on the same machine class
set -eu
BASELINE=${BASELINE:-baseline}
make test
build/attnbench check --golden datasets/golden --junit check-junit.xml
build/attnbench sweep --config datasets/sweeps/smoke.conf --repetitions 10 --out run
build/attnbench compare "$BASELINE" run --max-slowdown 1.10 --alpha 0.05 --junit compare-junit.xml

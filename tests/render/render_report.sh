#!/bin/sh
# render_report.sh - the report as a reader opens it: index.html rendered in
# headless Chromium, every picture loaded (naturalWidth > 0) and every link
# to a file of the report's pointing at a file that exists.
#
#   tests/render/render_report.sh ATTNBENCH_BINARY
#
# RENDER_ENV, when set, is VAR=value words put before each run of the
# binary (the sanitizers' settings of `make test`), not before Chromium.
#
# Builds a report from reports/example (with a check of the naive backend
# beside it, so the verdict has results), copies index.html to a page that
# appends one line once the page has loaded, and reads that line back from
# Chromium's --dump-dom. Chromium comes from scripts/setup.sh when it is
# missing; the test is skipped, saying so, only when it cannot be installed.
set -eu

bin=${1:?usage: render_report.sh ATTNBENCH_BINARY}
attnbench() {
	# shellcheck disable=SC2086
	env ${RENDER_ENV:-} "$bin" "$@"
}
here=$(cd "$(dirname "$0")/../.." && pwd)
browser=""
find_browser() {
	for b in chromium chromium-browser; do
		if command -v "$b" >/dev/null 2>&1; then
			browser=$b
			return 0
		fi
	done
	return 1
}
if ! find_browser; then
	echo "render: chromium is missing: installing it through scripts/setup.sh" >&2
	"$here/scripts/setup.sh" >&2 || true
	if ! find_browser; then
		echo "render: SKIP: chromium is not installed and scripts/setup.sh could not install it" >&2
		exit 0
	fi
fi

tmp=$(mktemp -d /tmp/attnbench-render-XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/run"
cp "$here/reports/example/results.csv" "$here/reports/example/machine.json" "$tmp/run/"
attnbench check --backend naive --golden "$here/datasets/golden" --out "$tmp/run" >"$tmp/check.log" 2>&1 ||
	{ cat "$tmp/check.log" >&2; echo "render: FAIL: attnbench check --out failed" >&2; exit 1; }
attnbench report "$tmp/run" --out "$tmp/rep" --format png >"$tmp/report.log" 2>&1 ||
	{ cat "$tmp/report.log" >&2; echo "render: FAIL: attnbench report failed" >&2; exit 1; }

page="$tmp/rep/index.html"
nimg=$(grep -o '<img ' "$page" | wc -l)
if [ "$nimg" -lt 1 ]; then
	echo "render: FAIL: $page has no <img>" >&2
	exit 1
fi
# the page as it is, plus a script that reports once everything loaded
sed 's|</body>|<script>\
window.addEventListener("load", function () {\
  var imgs = document.images, bad = [];\
  for (var i = 0; i < imgs.length; i++)\
    if (!imgs[i].complete \|\| imgs[i].naturalWidth === 0) bad.push(imgs[i].getAttribute("src"));\
  var p = document.createElement("pre");\
  p.textContent = "RENDER" + "-RESULT " + (bad.length ? "BROKEN " + bad.join(" ") : "LOADED") + " " + imgs.length;\
  document.body.appendChild(p);\
});\
</script>\
</body>|' "$page" >"$tmp/rep/render_check.html"
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$tmp/profile" \
	--virtual-time-budget=15000 --dump-dom "file://$tmp/rep/render_check.html" >"$tmp/dom.html" 2>"$tmp/chromium.log" ||
	{ tail -20 "$tmp/chromium.log" >&2; echo "render: FAIL: chromium did not render the page" >&2; exit 1; }
result=$(grep -o 'RENDER-RESULT [^<]*' "$tmp/dom.html" || true)
if [ "$result" != "RENDER-RESULT LOADED $nimg" ]; then
	echo "render: FAIL: want all $nimg pictures loaded, got '${result:-no result: the page did not finish loading}'" >&2
	exit 1
fi
# every link to a file (not an anchor, not a URL) names a file that exists
missing=""
for href in $(grep -o 'href="[^"#][^"]*"' "$page" | sed 's/^href="//; s/"$//'); do
	case "$href" in *://*) continue ;; esac
	[ -e "$tmp/rep/$href" ] || missing="$missing $href"
done
if [ -n "$missing" ]; then
	echo "render: FAIL: index.html links to files that do not exist:$missing" >&2
	exit 1
fi
echo "render: index.html rendered in $($browser --version 2>/dev/null | head -1): $nimg pictures loaded, every file link resolves"

#!/usr/bin/env python3
"""Rewrite the OPTIONS section of docs/attnbench.1 from `attnbench help CMD`.

The help text is the one owner of each option's wording: run this after
changing an option, and commit the page.
usage: scripts/man_options.py BUILD/attnbench docs/attnbench.1
"""
import re
import subprocess
import sys

COMMANDS = ["list", "check", "sweep", "bench", "roofline", "report", "compare", "plan"]

# options a command's help lists outside its "options:" block
EXTRA = {
    "bench": [
        ".TP",
        "\\fB\\-\\-benchmark_*\\fR",
        "Google Benchmark's own flags in its current syntax: \\fB\\-\\-benchmark_filter=\\fR\\fIREGEX\\fR, "
        "\\fB\\-\\-benchmark_min_time=0.5s\\fR (or \\fB=100x\\fR), \\fB\\-\\-benchmark_repetitions=\\fR\\fIN\\fR, "
        "\\fB\\-\\-benchmark_format=console|json|csv\\fR, \\fB\\-\\-benchmark_out=\\fR\\fIFILE\\fR, "
        "\\fB\\-\\-benchmark_out_format=json|console|csv\\fR.",
    ]
}


def roff(text):
    return text.replace("\\", "\\\\").replace("-", "\\-")


def options(binary, cmd):
    out = subprocess.run([binary, "help", cmd], capture_output=True, text=True, check=True).stdout
    opts, cur, inside = [], None, False
    for line in out.splitlines():
        if line.strip() == "options:":
            inside = True
            continue
        if not inside:
            continue
        if not line.strip():
            if opts or cur:
                break
            continue
        m = re.match(r"^  (--?[\w-]+)(?: (\S+))?\s{2,}(.*)$", line) or re.match(r"^  (--?[\w-]+)(?: (\S+))?$", line)
        if m:
            if cur:
                opts.append(cur)
            cur = [m.group(1), m.group(2) or "", (m.group(3) if m.lastindex >= 3 else "") or ""]
        elif cur and line.startswith("   "):
            cur[2] = (cur[2] + " " + line.strip()).strip()
        else:
            break
    if cur:
        opts.append(cur)
    return opts


def main():
    binary, page = sys.argv[1], sys.argv[2]
    text = open(page, encoding="utf-8").read()
    start = text.index(".SH OPTIONS\n")
    end = text.index("\n.SH ", start + 1) + 1
    body = [".SH OPTIONS", "Each command's options, as \\fBattnbench help\\fR \\fIcommand\\fR prints them."]
    for cmd in COMMANDS:
        body.append(".SS " + cmd)
        for name, arg, desc in options(binary, cmd):
            if name == "--help":
                continue
            head = "\\fB" + roff(name) + "\\fR" + (" \\fI" + roff(arg) + "\\fR" if arg else "")
            body += [".TP", head, roff(desc)]
        body += EXTRA.get(cmd, [])
    open(page, "w", encoding="utf-8").write(text[:start] + "\n".join(body) + "\n" + text[end:])


if __name__ == "__main__":
    main()

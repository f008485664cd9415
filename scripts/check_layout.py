#!/usr/bin/env python3
"""check_layout.py - the architecture rules that a compiler does not check.

  scripts/check_layout.py [ROOT]     (run by `make lint`; exit 1 on a finding)

1. Dependencies run one way. Each folder has a layer, and a file may
   include only files of its own folder or of a lower layer:
       harness/main.c           5   the table of commands
       harness/cmd/             4   one file per command
       harness/run/, report/    3   running and timing / reporting (peers:
                                    neither includes the other)
       harness/model/           2   one owner per file format
       harness/lib/             1   small shared pieces
       include/                 0   the public backend interface
   The harness reaches the built-in backends only through impls/builtin.h;
   a backend (impls/NAME/) includes only include/, impls/builtin.h and its
   own folder.
2. No include cycle between modules (a module is x.c with x.h).
3. No source file over 800 lines, unless its first comment says why it is
   longer ("Longer than 800 lines: ...").
"""
import os
import re
import sys

MAX_LINES = 800
LAYERS = {
    "harness/main": 5,
    "harness/cmd": 4,
    "harness/run": 3,
    "harness/report": 3,
    "harness/model": 2,
    "harness/lib": 1,
    "include": 0,
}
INCLUDE_DIRS = ["include", "harness", "."]
SOURCE_DIRS = ["include", "harness", "impls", "tests"]
EXTS = (".c", ".h", ".cc")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(root):
    for top in SOURCE_DIRS:
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if f.endswith(EXTS):
                    yield os.path.relpath(os.path.join(d, f), root)


def resolve(root, src, name):
    for base in [os.path.dirname(src)] + INCLUDE_DIRS:
        p = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(os.path.join(root, p)):
            return p
    return None  # generated (shaders) or a system header


def layer(path):
    if path == "harness/main.c":
        return "harness/main"
    d = os.path.dirname(path)
    return d if d in LAYERS else None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    problems = []
    edges = {}
    for src in sources(root):
        with open(os.path.join(root, src), encoding="utf-8") as f:
            text = f.read()
        lines = text.count("\n")
        head = text[: text.find("*/") + 2] if text.lstrip().startswith("/*") else ""
        if lines > MAX_LINES and not src.startswith("tests/plugins/abi1/") and \
                "Longer than 800 lines:" not in head:
            problems.append(f"{src}: {lines} lines (at most {MAX_LINES}, or say why in its first comment)")
        mod = os.path.splitext(src)[0]
        for name in INCLUDE_RE.findall(text):
            dst = resolve(root, src, name)
            if not dst:
                continue
            dmod = os.path.splitext(dst)[0]
            if dmod != mod:
                edges.setdefault(mod, set()).add(dmod)
            if src.startswith("tests/"):
                continue
            a, b = layer(src), layer(dst)
            if src.startswith("harness/") and dst.startswith("impls/") and dst != "impls/builtin.h":
                problems.append(f"{src}: includes {dst}, a backend's own header (use impls/builtin.h)")
            elif src.startswith("impls/"):
                own = "/".join(src.split("/")[:2])
                if not (dst.startswith("include/") or dst == "impls/builtin.h" or dst.startswith(own + "/")):
                    problems.append(f"{src}: a backend includes {dst} (only include/, impls/builtin.h, its folder)")
            elif a and b and a != b and LAYERS[b] >= LAYERS[a]:
                problems.append(f"{src}: includes {dst}: {a} (layer {LAYERS[a]}) may not depend on {b} "
                                f"(layer {LAYERS[b]})")
    # cycles: Tarjan's strongly connected components of the module graph
    index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    for comp in sccs:
        problems.append("include cycle between " + ", ".join(comp))
    for p in problems:
        print("check_layout: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

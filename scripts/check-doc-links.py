#!/usr/bin/env python3
# Run from anywhere: python3 scripts/check-doc-links.py (exit 1 if something is broken).
# Every relative Markdown link and every backticked repo path in README.md, BENCHMARKS.md, docs/**/*.md
# must name a file or folder that exists in the repository.
import os, re, sys, glob, subprocess
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the repository
tracked = set(subprocess.check_output(["git", "ls-files"], cwd=root, text=True).split())
dirs = {os.path.dirname(p) for p in tracked}
for p in list(dirs):
    while p:
        p = os.path.dirname(p); dirs.add(p)
def exists(rel):
    rel = os.path.normpath(rel).rstrip("/")
    return rel in tracked or rel in dirs
bad = 0
files = ["README.md", "BENCHMARKS.md", "src/data/README.md"] + sorted(os.path.relpath(p, root) for p in glob.glob(os.path.join(root, "docs", "**", "*.md"), recursive=True))
for f in files:
    text = open(os.path.join(root, f), encoding="utf-8").read()
    base = os.path.dirname(f)
    # [text](target) and ![alt](target)
    for m in re.finditer(r"\]\(([^)\s]+)\)", text):
        t = m.group(1).split("#")[0]
        if not t or re.match(r"[a-z]+:", t):
            continue
        ok = exists(os.path.join(base, t))
        print(("ok  " if ok else "BAD ") + f"{f}: link {m.group(1)}")
        bad += not ok
    # `src/...`, `docs/...` etc. mentioned in backticks (paths from the repo root)
    for m in re.finditer(r"`((?:src|tests|docs|bench|scripts|cmake)/[^`\s{}<>*]*)`", text):
        t = m.group(1)
        ok = exists(t)
        if not ok:
            print(f"BAD {f}: path {t}")
        bad += not ok
print(f"{bad} broken")
sys.exit(1 if bad else 0)

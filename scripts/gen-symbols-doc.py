#!/usr/bin/env python3
"""Writes docs/symbols.md from the symbol table in src/scan/scoring.cc (the source).
tests/unit/scan_symbols_test.cc fails when the two disagree; run this after editing the table."""
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent.parent
src = (root / "src/scan/scoring.cc").read_text()
rows = re.findall(r'\{"([A-Z0-9_]+)", (-?[0-9.]+), "([a-z]+)", "((?:[^"\\]|\\.)+)"\}', src)
titles = {
    "mime": "MIME structure and encoding", "html": "HTML",
    "limit": "Limits (action: `policy.limit_action`)",
    "unscannable": "Unscannable (action: `policy.unscannable_action`)",
    "dangerous": "Dangerous files (action at least `policy.dangerous_file_action`)",
    "file": "Files and names", "encrypted": "Encrypted content (action at least `policy.encrypted_action`)",
    "archive": "Archives", "bomb": "Decompression bombs (action at least `policy.bomb_action`)",
    "document": "Documents", "av": "Antivirus", "yara": "YARA",
    "bayes": "Statistical classifier (one per message; see docs/classifier.md)",
}
order, groups = [], {}
for name, score, group, desc in rows:
    if group not in groups:
        order.append(group)
    groups.setdefault(group, []).append((name, score, desc))
out = ["# Symbols", "",
       "Every symbol Bulwark raises, its default score and why it exists. A message's score is the",
       "sum of its symbols' scores; `policy.*_score` thresholds turn it into an action. Some classes",
       "of symbols carry an action of their own (limits, encrypted content, dangerous files, bombs,",
       "unscannable content), set in `[policy]`; the stronger action wins. Threats (`virus`,",
       "`exploit`, `malware`) reject the message.",
       "Generated from `src/scan/scoring.cc` by `scripts/gen-symbols-doc.py`; a test fails when they disagree.", ""]
for g in order:
    out += [f"## {titles.get(g, g)}", "", "| symbol | score | meaning |", "| --- | --- | --- |"]
    out += [f"| `{n}` | {s} | {d} |" for n, s, d in groups[g]]
    out.append("")
(root / "docs/symbols.md").write_text("\n".join(out))
print(f"{len(rows)} symbols")

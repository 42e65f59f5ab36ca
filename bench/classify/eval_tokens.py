#!/usr/bin/env python3
"""Evaluates the classifier's combining rule on dumped tokens (bulwark_dump_tokens output),
so tokenizer families and combining variants can be compared in seconds.

    eval_tokens.py tokens.tsv [--drop PREFIX,...] [--keep-only PREFIX,...] [--maxd 1000]

Rows are labelled by their path (train/spam, train/ham, test/spam, test/easy-ham,
test/hard-ham as bench_accuracy.py lays them out). Prints, for TEST: spam recall, easy-ham and
hard-ham false positives at fixed probability thresholds, and recall at <= 1 easy-ham FP.
"""
import argparse
import math
import collections


def chi2q(x2, v):
    m = x2 / 2.0
    s = t = math.exp(-m)
    for i in range(1, v // 2):
        t *= m / i
        s += t
    return min(s, 1.0)


def load(path, drop, keep):
    rows = []
    for line in open(path, encoding="utf-8", errors="replace"):
        p, _, toks = line.rstrip("\n").partition("\t")
        parts = p.split("/")
        label = parts[-3] + "/" + parts[-2]
        ts = set(toks.split("\x1f")) if toks else set()
        if drop:
            ts = {t for t in ts if not t.startswith(drop)}
        if keep:
            ts = {t for t in ts if t.startswith(keep) or ":" not in t}
        rows.append((label, p, ts))
    return rows


def train(rows):
    s, h = collections.Counter(), collections.Counter()
    ns = nh = 0
    for label, _, ts in rows:
        if label == "train/spam":
            ns += 1
            s.update(ts)
        elif label == "train/ham":
            nh += 1
            h.update(ts)
    return s, h, ns, nh


def prob(model, ts, maxd, strength=0.45, mindev=0.1, mode="fisher"):
    s, h, ns, nh = model
    f = []
    for t in ts:
        a, b = s.get(t, 0), h.get(t, 0)
        if a + b == 0:
            continue
        sp, hp = a / ns, b / nh
        p = sp / (sp + hp)
        n = a + b
        fw = (strength * 0.5 + n * p) / (strength + n)
        if abs(fw - 0.5) >= mindev:
            f.append(fw)
    if not f:
        return 0.5
    f.sort(key=lambda x: -abs(x - 0.5))
    f = f[:maxd]
    if mode == "nb":
        lo = sum(math.log(x / (1 - x)) for x in f)
        return 1 / (1 + math.exp(-max(-700, min(700, lo))))
    lh = sum(math.log(x) for x in f)
    ls = sum(math.log1p(-x) for x in f)
    S = 1 - chi2q(-2 * ls, 2 * len(f))
    H = 1 - chi2q(-2 * lh, 2 * len(f))
    return (S - H + 1) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tokens")
    ap.add_argument("--drop", default="")
    ap.add_argument("--keep-only", default="")
    ap.add_argument("--maxd", type=int, default=1000)
    ap.add_argument("--strength", type=float, default=0.45)
    ap.add_argument("--mode", default="fisher")
    ap.add_argument("--show", type=int, default=0, help="print N least spammy spam")
    a = ap.parse_args()
    drop = tuple(x for x in a.drop.split(",") if x)
    keep = tuple(x for x in a.keep_only.split(",") if x)
    rows = load(a.tokens, drop, keep)
    model = train(rows)
    res = collections.defaultdict(list)
    for label, path, ts in rows:
        if label.startswith("test/"):
            res[label[5:]].append((prob(model, ts, a.maxd, a.strength, mode=a.mode), path))
    n = {g: len(v) for g, v in res.items()}
    line = []
    for t in (0.5, 0.8, 0.9, 0.95, 0.99):
        c = {g: sum(p >= t for p, _ in v) for g, v in res.items()}
        line.append(f"p>={t}: {100*c['spam']/n['spam']:.1f}% {c['easy-ham']}/{c['hard-ham']}")
    ham = sorted((p for p, _ in res["easy-ham"]), reverse=True)
    thr = ham[1] + 1e-12 if len(ham) > 1 else 0.5  # at most 1 easy FP
    rec = sum(p >= thr for p, _ in res["spam"]) / n["spam"]
    hfp = sum(p >= thr for p, _ in res["hard-ham"])
    print(" | ".join(line) + f" || @<=1FP: {100*rec:.1f}% hard {hfp}")
    for p, path in sorted(res["spam"])[: a.show]:
        print(f"  {p:.4f} {path}")


if __name__ == "__main__":
    main()

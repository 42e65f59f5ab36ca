#!/usr/bin/env python3
"""Spam-filtering accuracy on the SpamAssassin public corpus, with the split of DESIGN.md.

    bench/accuracy/bench_accuracy.py [--bulwark build/bulwark] [--corpus DIR]

TRAIN: easy-ham-1 + the first 125 of hard-ham-1 (sorted by name) + spam-1.
TEST:  easy-ham-2 + the last 125 of hard-ham-1 + spam-2.

Bulwark is trained on TRAIN (`bulwark train`, a fresh model in a temporary data dir), then
TEST is scanned (`bulwark scan --format json`). Printed: spam recall, easy-ham and hard-ham
false positives at the default thresholds (flagged = action != accept, i.e. score >=
policy.tag_score = 5), a ROC-style table over score thresholds, the classifier's own table
over its probability, and messages per CPU-second of the scan (with and without the
classifier). Other filters plug in as engines: see ENGINES at the bottom.
"""
import argparse
import json
import os
import pathlib
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

GROUPS = ("spam", "easy-ham", "hard-ham")


# ----------------------------------------------------------------------------- the split
def build_split(corpus: pathlib.Path, work: pathlib.Path, subset: int = 0, test_spam: str = "") -> dict:
    """Symlinks the DESIGN.md split under work/{train,test}/<group>/; returns the layout.
    subset > 0: only the first `subset` files (by name) of spam-1, easy-ham-1, spam-2 and
    easy-ham-2 (hard ham stays whole: 125 + 125), for a quick fixed sample. test_spam: a
    directory whose messages replace spam-2 as the TEST spam (e.g. a collection of current
    phishing); training and the ham stay as they are."""
    def files(sub, limit=0):
        d = corpus / sub
        if not d.is_dir():
            sys.exit(f"bench_accuracy: {d}: missing (fetch the corpus first)")
        found = sorted(p for p in d.iterdir() if p.is_file() and not p.name.startswith("."))
        return found[:limit] if limit else found

    hard = files("hard-ham-1")
    half = 125
    split = {
        "train": {"spam": files("spam-1", subset), "ham": files("easy-ham-1", subset) + hard[:half]},
        # (empty files in such a collection are no messages: skipped for every system)
        "test": {"spam": files("spam-2", subset) if not test_spam else sorted(
                     p for p in pathlib.Path(test_spam).iterdir()
                     if p.is_file() and not p.name.startswith(".") and p.stat().st_size > 0),
                 "easy-ham": files("easy-ham-2", subset),
                 "hard-ham": hard[-half:]},
    }
    layout = {}
    for phase, groups in split.items():
        for group, paths in groups.items():
            d = work / phase / group
            d.mkdir(parents=True, exist_ok=True)
            for p in paths:
                # corpus subdir in the name: the same file name may exist in two subdirs
                (d / f"{p.parent.name}__{p.name}").symlink_to(p.resolve())
            layout[(phase, group)] = d
    return layout


def cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd, **kw):
    """Runs a command; returns (CompletedProcess, CPU seconds of it and its children)."""
    before = cpu_children()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return p, cpu_children() - before


# ----------------------------------------------------------------------------- Bulwark
BAYES_P = re.compile(r"p=([0-9.]+)")


def write_config(work: pathlib.Path, classify: bool, rules: bool = True) -> pathlib.Path:
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / f"bulwark-classify-{str(classify).lower()}-rules-{str(rules).lower()}.toml"
    cfg.write_text(f'[spool]\ndata_dir = "{work / "data"}"\n\n'
                   f'[classify]\nenabled = {str(classify).lower()}\n\n'
                   f'[rules]\nenabled = {str(rules).lower()}\n')
    return cfg


def bulwark_train(bulwark: str, work: pathlib.Path, layout: dict) -> float:
    cfg = write_config(work, True)
    t0 = time.monotonic()
    p, _ = run([bulwark, "train", "--config", str(cfg), "--reset", "--no-progress",
                "--spam", str(layout[("train", "spam")]), "--ham", str(layout[("train", "ham")])])
    if p.returncode != 0:
        sys.exit(f"bulwark train failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    print(p.stdout.strip().replace("\n", "\n  "), file=sys.stderr)
    return time.monotonic() - t0


def bulwark_scan(bulwark: str, work: pathlib.Path, layout: dict, classify: bool, rules: bool = True) -> tuple:
    """Scans TEST; returns ({group: [result]}, cpu_seconds). A result: score, flagged, p."""
    cfg = write_config(work, classify, rules)
    dirs = [str(layout[("test", g)]) for g in GROUPS]
    p, cpu = run([bulwark, "scan", "--format", "json", "--no-progress", "--config", str(cfg), *dirs])
    if p.returncode not in (0, 1):
        sys.exit(f"bulwark scan failed ({p.returncode}):\n{p.stderr}")
    results = {g: [] for g in GROUPS}
    for line in p.stdout.splitlines():
        v = json.loads(line)
        group = pathlib.Path(v["file"]).parent.name
        prob = None
        for s in v["symbols"]:
            if s["name"].startswith("BAYES_"):
                m = BAYES_P.search(s.get("detail", ""))
                prob = float(m.group(1)) if m else None
        results[group].append({"file": v["file"], "score": v["score"],
                               "flagged": v["action"] != "accept", "p": prob})
    return results, cpu


def engine_bulwark(args, work, layout):
    bulwark_train(args.bulwark, work, layout)
    results, cpu = bulwark_scan(args.bulwark, work, layout, classify=True)
    extra = {}
    if not args.no_speed_baseline:
        _, extra["cpu_without_classifier"] = bulwark_scan(args.bulwark, work, layout, classify=False)
        _, extra["cpu_without_rules_and_classifier"] = bulwark_scan(
            args.bulwark, work, layout, classify=False, rules=False)
    return results, cpu, extra


# ----------------------------------------------------------------------------- peers
def engine_spamassassin(args, work, layout):
    """SpamAssassin, local tests only, Bayes trained on TRAIN (peer_spamassassin.py)."""
    import peer_spamassassin
    return peer_spamassassin.run(args, work, layout)


def engine_rspamd(args, work, layout):
    """Rspamd with a private Redis on 127.0.0.1, network checks off, Bayes trained on TRAIN
    (peer_rspamd.py)."""
    import peer_rspamd
    return peer_rspamd.run(args, work, layout)


ENGINES = {"bulwark": engine_bulwark, "spamassassin": engine_spamassassin, "rspamd": engine_rspamd}


# ----------------------------------------------------------------------------- report
def rate(n, d):
    return f"{100.0 * n / d:.2f}%" if d else "-"


def report(name, results, cpu, extra):
    n = {g: len(results[g]) for g in GROUPS}
    flagged = {g: sum(r["flagged"] for r in results[g]) for g in GROUPS}
    print(f"\n== {name}: TEST = {n['spam']} spam, {n['easy-ham']} easy ham, {n['hard-ham']} hard ham")
    print(f"default thresholds (flagged = action != accept):")
    print(f"  spam recall     {flagged['spam']}/{n['spam']} = {rate(flagged['spam'], n['spam'])}")
    print(f"  easy-ham FP     {flagged['easy-ham']}/{n['easy-ham']} = {rate(flagged['easy-ham'], n['easy-ham'])}")
    print(f"  hard-ham FP     {flagged['hard-ham']}/{n['hard-ham']} = {rate(flagged['hard-ham'], n['hard-ham'])}")

    print("\nscore threshold -> spam recall, easy-ham FP, hard-ham FP")
    print("| score >= | recall | easy FP | hard FP |\n| --- | --- | --- | --- |")
    for t in (-1, 0, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20):
        c = {g: sum(r["score"] >= t for r in results[g]) for g in GROUPS}
        print(f"| {t} | {rate(c['spam'], n['spam'])} | {c['easy-ham']} ({rate(c['easy-ham'], n['easy-ham'])}) "
              f"| {c['hard-ham']} ({rate(c['hard-ham'], n['hard-ham'])}) |")

    if any(r["p"] is not None for g in GROUPS for r in results[g]):
        print("\nclassifier alone: p threshold -> spam recall, easy-ham FP, hard-ham FP")
        print("| p >= | recall | easy FP | hard FP |\n| --- | --- | --- | --- |")
        for t in (0.2, 0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999):
            c = {g: sum((r["p"] or 0) >= t for r in results[g]) for g in GROUPS}
            print(f"| {t} | {rate(c['spam'], n['spam'])} | {c['easy-ham']} ({rate(c['easy-ham'], n['easy-ham'])}) "
                  f"| {c['hard-ham']} ({rate(c['hard-ham'], n['hard-ham'])}) |")
        missed = sorted((r["p"] or 0, r["file"]) for r in results["spam"])[:5]
        fps = sorted(((r["p"] or 0, r["file"]) for r in results["easy-ham"]), reverse=True)[:5]
        print("\nleast spammy spam:   " + ", ".join(f"{pathlib.Path(f).name} p={p:.4f}" for p, f in missed))
        print("most spammy easy ham: " + ", ".join(f"{pathlib.Path(f).name} p={p:.4f}" for p, f in fps))

    total = sum(n.values())
    print(f"\nspeed: {total} messages, {cpu:.2f} CPU-s = {total / cpu:.0f} msgs/CPU-s" if cpu > 0 else "")
    if extra.get("cpu_without_classifier", 0) > 0:
        c0 = extra["cpu_without_classifier"]
        print(f"       without the classifier: {c0:.2f} CPU-s = {total / c0:.0f} msgs/CPU-s")
    if extra.get("cpu_without_rules_and_classifier", 0) > 0:
        c1 = extra["cpu_without_rules_and_classifier"]
        print(f"       without rules and classifier (MIME + inspection + sandbox): {c1:.2f} CPU-s = "
              f"{total / c1:.0f} msgs/CPU-s")
        print(f"       rules + classifier cost {1000 * (cpu - c1) / total:.3f} ms/msg; everything else "
              f"{1000 * c1 / total:.3f} ms/msg")
    for k, v in extra.items():
        if not k.startswith("cpu_"):
            print(f"       {k}: {v}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = pathlib.Path(__file__).resolve().parents[2]
    ap.add_argument("--bulwark", default=str(root / "build" / "bulwark"))
    ap.add_argument("--corpus", default=os.environ.get("BULWARK_CORPUS", str(root / ".cache/corpus/spamassassin")))
    ap.add_argument("--engines", default="bulwark", help="comma-separated: " + ", ".join(ENGINES))
    ap.add_argument("--workdir", help="keep the split, model and outputs here (default: a temp dir)")
    ap.add_argument("--no-speed-baseline", action="store_true",
                    help="skip the scans without the classifier and without rules")
    ap.add_argument("--test-spam", default="",
                    help="a directory of messages to score as the TEST spam instead of spam-2")
    ap.add_argument("--subset", type=int, default=0,
                    help="only the first N messages (by name) of each spam and easy-ham group")
    args = ap.parse_args()
    args.bulwark = os.path.abspath(args.bulwark)
    if not os.access(args.bulwark, os.X_OK):
        sys.exit(f"bench_accuracy: {args.bulwark}: not executable (build it: make)")
    work = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix="bulwark-accuracy-"))
    try:
        if args.workdir and work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True, exist_ok=True)
        if args.test_spam and not pathlib.Path(args.test_spam).is_dir():
            sys.exit(f"bench_accuracy: --test-spam {args.test_spam}: not a directory")
        layout = build_split(pathlib.Path(args.corpus), work, args.subset, args.test_spam)
        summary = []
        for name in args.engines.split(","):
            results, cpu, extra = ENGINES[name](args, work / name, layout)
            report(name, results, cpu, extra)
            summary.append((name, results, cpu))
        if len(summary) > 1:
            print("\n== side by side (same split, same run; flagged at each system's default thresholds)")
            print("| system | spam recall | easy-ham FP | hard-ham FP | msgs/CPU-s |\n| --- | --- | --- | --- | --- |")
            for name, results, cpu in summary:
                n = {g: len(results[g]) for g in GROUPS}
                f = {g: sum(r["flagged"] for r in results[g]) for g in GROUPS}
                speed = f"{sum(n.values()) / cpu:.0f}" if cpu > 0 else "-"
                print(f"| {name} | {rate(f['spam'], n['spam'])} | {f['easy-ham']}/{n['easy-ham']} "
                      f"| {f['hard-ham']}/{n['hard-ham']} | {speed} |")
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

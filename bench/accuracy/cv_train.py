#!/usr/bin/env python3
"""Two-fold cross-validation of the whole Bulwark scan (rules + classifier) on the TRAIN half
only, for tuning rules and scores without looking at TEST.

    bench/accuracy/cv_train.py [--bulwark build/bulwark] [--corpus DIR] [--workdir DIR]

TRAIN (easy-ham-1, the first 125 of hard-ham-1, spam-1) is split by position into two folds;
each fold is scanned with a model trained on the other, and the two results are added up.
Prints spam recall and easy/hard-ham false positives over score thresholds; with --workdir,
the per-message scores stay in DIR/results.json and the fold models under DIR."""
import argparse
import json
import pathlib
import shutil
import sys
import tempfile
import types

import bench_accuracy as B


def main():
    root = pathlib.Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bulwark", default=str(root / "build" / "bulwark"))
    ap.add_argument("--corpus", default=str(root / ".cache" / "corpus" / "spamassassin"))
    ap.add_argument("--workdir", help="keep the folds, models and results here")
    args = ap.parse_args()
    corpus = pathlib.Path(args.corpus)

    def files(sub):
        d = corpus / sub
        if not d.is_dir():
            sys.exit(f"cv_train: {d}: missing (fetch the corpus first)")
        return sorted(p for p in d.iterdir() if p.is_file() and not p.name.startswith("."))

    train = {"spam": files("spam-1"), "easy-ham": files("easy-ham-1"), "hard-ham": files("hard-ham-1")[:125]}
    work = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix="bulwark-cv-"))
    shutil.rmtree(work, ignore_errors=True)
    engine_args = types.SimpleNamespace(bulwark=args.bulwark, no_speed_baseline=True)
    results = {g: [] for g in B.GROUPS}
    for fold in (0, 1):
        layout = {}
        for group, paths in train.items():
            for phase in ("train", "test"):
                name = group if phase == "test" else ("spam" if group == "spam" else "ham")
                d = work / f"fold{fold}" / phase / name
                d.mkdir(parents=True, exist_ok=True)
                for i, p in enumerate(paths):
                    if (i % 2 == fold) == (phase == "test"):
                        (d / f"{p.parent.name}__{p.name}").symlink_to(p.resolve())
                layout[(phase, name)] = d
        r, _, _ = B.engine_bulwark(engine_args, work / f"fold{fold}" / "bulwark", layout)
        for g in B.GROUPS:
            results[g] += r[g]

    n = {g: len(results[g]) for g in B.GROUPS}
    print("| score >= | spam recall | easy FP | hard FP |\n| --- | --- | --- | --- |")
    for t in (2, 3, 4, 5, 6, 8):
        c = {g: sum(r["score"] >= t for r in results[g]) for g in B.GROUPS}
        print(f"| {t} | {c['spam']}/{n['spam']} = {B.rate(c['spam'], n['spam'])} | {c['easy-ham']} | {c['hard-ham']} |")
    if args.workdir:
        (work / "results.json").write_text(json.dumps(results))
        print(f"\nper-message results: {work / 'results.json'}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

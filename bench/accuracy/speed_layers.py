#!/usr/bin/env python3
"""What each layer of a Bulwark scan costs per message, measured so that a shared, noisy
machine still gives a usable answer: the three configurations (everything; without the
classifier; without rules and classifier) are run in alternation, ROUNDS times, and the
minimum CPU time of each is kept (noise only ever adds time). Start-up (loading engines,
compiling rules, opening the model) is measured on an empty directory the same way and
subtracted, so the per-message figures are what a long-running gateway pays.

    bench/accuracy/speed_layers.py [--bulwark build/bulwark] [--corpus DIR] [--rounds 5]
                                   [--sandbox]

The scan runs in-process (--no-sandbox) by default: one process, no worker scheduling, the
least noise. --sandbox measures through the workers instead. TEST is scanned (DESIGN.md
split), after training the classifier on TRAIN as bench_accuracy.py does."""
import argparse
import pathlib
import shutil
import sys
import tempfile

import bench_accuracy as B

CONFIGS = [("everything", True, True), ("without classifier", False, True),
           ("without rules and classifier", False, False)]


def main():
    root = pathlib.Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bulwark", default=str(root / "build" / "bulwark"))
    ap.add_argument("--corpus", default=str(root / ".cache" / "corpus" / "spamassassin"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sandbox", action="store_true", help="scan through the sandboxed workers")
    args = ap.parse_args()
    if args.rounds < 1:
        sys.exit("speed_layers: --rounds must be at least 1")

    work = pathlib.Path(tempfile.mkdtemp(prefix="bulwark-speed-"))
    try:
        layout = B.build_split(pathlib.Path(args.corpus), work)
        B.bulwark_train(args.bulwark, work / "bulwark", layout)
        dirs = [str(layout[("test", g)]) for g in B.GROUPS]
        messages = sum(len(list(pathlib.Path(d).iterdir())) for d in dirs)
        empty = work / "empty"
        empty.mkdir()
        mode = [] if args.sandbox else ["--no-sandbox"]

        def cpu(cfg, targets):
            p, seconds = B.run([args.bulwark, "scan", "--format", "json", "--no-progress", *mode,
                                "--config", str(cfg), *targets])
            if p.returncode not in (0, 1):
                sys.exit(f"speed_layers: bulwark scan failed ({p.returncode}):\n{p.stderr}")
            return seconds

        best = {name: [float("inf"), float("inf")] for name, _, _ in CONFIGS}  # start-up, scan
        for _ in range(args.rounds):
            for name, classify, rules in CONFIGS:
                cfg = B.write_config(work / "bulwark", classify, rules)
                best[name][0] = min(best[name][0], cpu(cfg, [str(empty)]))
                best[name][1] = min(best[name][1], cpu(cfg, dirs))

        print(f"{messages} TEST messages, {'sandboxed workers' if args.sandbox else 'in-process'}, "
              f"minimum of {args.rounds} alternated rounds (CPU seconds)\n")
        print("| configuration | start-up s | scan s | per message (start-up excluded) |")
        print("| --- | --- | --- | --- |")
        per = {}
        for name, _, _ in CONFIGS:
            start, scan = best[name]
            per[name] = max(0.0, scan - start) / messages * 1000
            print(f"| {name} | {start:.2f} | {scan:.2f} | {per[name]:.3f} ms |")
        rules_ms = per["without classifier"] - per["without rules and classifier"]
        classifier_ms = per["everything"] - per["without classifier"]
        rest_ms = per["without rules and classifier"]
        print(f"\nrules {rules_ms:.3f} ms + classifier {classifier_ms:.3f} ms = spam layer "
              f"{rules_ms + classifier_ms:.3f} ms/msg; MIME + inspection{' + sandbox' if args.sandbox else ''} "
              f"{rest_ms:.3f} ms/msg")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

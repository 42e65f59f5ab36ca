"""Peer engine for bench_accuracy.py: Debian's Rspamd 3.4, Bayes on Redis, no network checks.

    import peer_rspamd
    results, cpu_seconds, extra = peer_rspamd.run(args, work, layout)   # args is unused

A private redis-server and rspamd are started on free 127.0.0.1 ports with a config under
`work` (the system's instances, /etc and /var/lib/rspamd are left alone), Bayes is trained with
`rspamc learn_spam/learn_ham` on TRAIN, and TEST is scanned with `rspamc --json`. flagged =
the message is marked or refused as spam by Rspamd's default actions: add header (score >= 6),
rewrite subject, soft reject or reject. Greylist (>= 4) only delays delivery and does not mark
the message, so it does not count (it is the same cut as the reference figures in the issue).
Each result keeps score and action, so a caller can apply any other threshold.
"""
import json
import os
import pathlib
import re
import resource
import socket
import subprocess
import sys
import time

GROUPS = ("spam", "easy-ham", "hard-ham")

# Modules that query DNS or other hosts (rbl also runs the SURBL and email lists; once_received
# resolves the PTR of the client IP Rspamd takes from the Received chain; hfilter's lookups are
# switched off below), plus the Redis-backed ones whose state would carry over from training
# into the scan (greylist, ratelimit, replies, reputation, neural).
DISABLED = ("rbl", "surbl", "emails", "dkim", "spf", "dmarc", "arc", "asn", "fuzzy_check",
            "dcc", "external_services", "url_redirector", "mx_check", "rspamd_update", "bimi",
            "p0f", "once_received", "greylist", "ratelimit", "replies", "reputation", "neural")

# Top level mirroring /etc/rspamd/rspamd.conf (Debian's defaults are still included from
# $CONFDIR), but only the normal and controller workers, bound to our ports: no proxy, no fuzzy.
TOP = """.include "$CONFDIR/common.conf"
options {{ pidfile = "$RUNDIR/rspamd.pid"; .include "$CONFDIR/options.inc"
  .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc" }}
logging {{ type = "file"; filename = "$LOGDIR/rspamd.log"; .include "$CONFDIR/logging.inc" }}
worker "normal" {{ bind_socket = "127.0.0.1:{normal}"; .include "$CONFDIR/worker-normal.inc" }}
worker "controller" {{ bind_socket = "127.0.0.1:{controller}";
  .include "$CONFDIR/worker-controller.inc" }}
"""

LOCAL = {  # local.d/ files; {redis} is the port
    # A resolver that answers nothing, and quickly, so any forgotten lookup fails instead of
    # leaking to the real network (remote maps then fall back to the packaged copies).
    "options.inc": 'dns { nameserver = ["127.0.0.1:1"]; timeout = 0.1s; retransmits = 1; }\n',
    "redis.conf": 'servers = "127.0.0.1:{redis}";\n',
    "classifier-bayes.conf":
        'backend = "redis";\nservers = "127.0.0.1:{redis}";\nautolearn = false;\n',
    "phishing.conf": "openphish_enabled = false;\nphishtank_enabled = false;\n",
    "hfilter.conf": "from_enabled = false;\nmid_enabled = false;\n",  # their A/MX lookups
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(work: pathlib.Path, ports: dict) -> pathlib.Path:
    local = work / "local" / "local.d"
    for d in (local, work / "db", work / "run", work / "log", work / "redis"):
        d.mkdir(parents=True, exist_ok=True)
    for name in DISABLED:
        (local / f"{name}.conf").write_text("enabled = false;\n")
    for name, text in LOCAL.items():
        (local / name).write_text(text.replace("{redis}", str(ports["redis"])))
    (work / "rspamd.conf").write_text(TOP.format(**ports))
    return work / "rspamd.conf"


def proc_stat(pid: int):
    """(ppid, utime+stime, cutime+cstime) in clock ticks, or None if the process is gone."""
    try:
        s = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    f = s[s.rindex(")") + 2:].split()  # comm may contain spaces: split after it
    return int(f[1]), int(f[11]) + int(f[12]), int(f[13]) + int(f[14])


def children(main_pid: int) -> list:  # rspamd's workers: the main forks them all directly
    return [int(p.name) for p in pathlib.Path("/proc").iterdir()
            if p.name.isdigit() and (proc_stat(int(p.name)) or (0,))[0] == main_pid]


def wait_ready(proc, log: pathlib.Path, timeout=600.0):
    # Ready once the normal and controller workers have loaded the hyperscan database (they log
    # it when serving): on a fresh DBDIR it is compiled after startup, and until then workers
    # match with PCRE, which would inflate the CPU figure.
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"rspamd exited ({proc.returncode}); see {log.parent}")
        text = log.read_text(errors="replace") if log.exists() else ""
        alive = children(proc.pid)
        workers = {int(w) for w in re.findall(r"starting (?:normal|controller) process (\d+)", text)
                   if int(w) in alive}
        if len(workers) >= 2 and all(re.search(
                rf"#{w}\(\w+\).*hyperscan database.*has been loaded", text) for w in workers):
            return
        time.sleep(0.5)
    raise RuntimeError(f"rspamd not ready after {timeout}s; see {log}")


def server_cpu(main_pid: int, redis_pid: int) -> tuple:
    # CPU seconds (rspamd main + workers, redis); with the main's reaped-children time, so a
    # worker exiting mid-scan is not lost.
    ticks = [sum((proc_stat(pid) or (0, 0))[1] for pid in children(main_pid)), 0]
    for i, pid in enumerate((main_pid, redis_pid)):
        st = proc_stat(pid)
        ticks[i] += st[1] + st[2] if st else 0
    return tuple(t / os.sysconf("SC_CLK_TCK") for t in ticks)


def files(d) -> list:
    # rspamc given a directory skips symlinks (the layout is all symlinks): list them here.
    return sorted(str(f) for f in pathlib.Path(d).iterdir() if f.is_file() and f.name[0] != ".")


def rspamc(host: str, cmd: list, paths: list, chunk=1000) -> tuple:
    """`rspamc -h host -n 4 cmd paths...` in chunks (argv size); returns (stdout, its CPU s)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = []
    for i in range(0, len(paths), chunk):  # never without paths: rspamc would read stdin
        p = subprocess.run(["rspamc", "-h", host, "-n", "4", "-t", "120", *cmd,
                            *paths[i:i + chunk]], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"rspamc {cmd} failed ({p.returncode}): {p.stderr[-2000:]}")
        out.append(p.stdout)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return "".join(out), (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)


def parse_json_stream(out: str) -> dict:
    # `rspamc -j a b c` prints one pretty-printed object per file, back to back, in completion
    # order, each naming its "filename" as given on the command line.
    res, dec, pos = {}, json.JSONDecoder(), 0
    while (pos := out.find("{", pos)) >= 0:
        try:
            obj, pos = dec.raw_decode(out, pos)
            res[obj.get("filename")] = obj
        except json.JSONDecodeError:  # stray text: resync on the next brace
            pos += 1
    return res


def bayes_p(symbols: dict):
    # The option is the winning class's probability in percent; None when Bayes abstained
    # (|p - 0.5| <= 0.05, fewer than min_tokens tokens, or untrained).
    for name, spam in (("BAYES_SPAM", True), ("BAYES_HAM", False)):
        m = re.match(r"([0-9.]+)%", ((symbols.get(name) or {}).get("options") or [""])[0])
        if m:
            return float(m.group(1)) / 100 if spam else 1 - float(m.group(1)) / 100
    return None


def redis_learns(port: int) -> dict:
    # Bayes's own counters (hash "RS" in the new schema); `rspamc stat` refreshes them lazily.
    p = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "hgetall", "RS"],
                       capture_output=True, text=True)
    kv = p.stdout.split()
    return {k: int(v) for k, v in zip(kv[::2], kv[1::2]) if v.isdigit()}


def spawn(cmd: list, out: pathlib.Path) -> subprocess.Popen:
    # A session of its own: rspamd's workers share its process group, which stop() can kill.
    with open(out, "w") as f:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)


def stop(*procs):
    # SIGTERM (rspamd's main stops its workers itself), SIGKILL after 30 s; then SIGKILL to
    # whatever is left in each one's process group (workers of a main that had to be killed).
    for p in filter(None, procs):
        if p.poll() is None:
            p.terminate()
    for p in filter(None, procs):
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        try:
            os.killpg(p.pid, 9)
        except ProcessLookupError:
            pass


def run(args, work: pathlib.Path, layout: dict) -> tuple:
    work = pathlib.Path(work)
    ports = {"redis": free_port(), "normal": free_port(), "controller": free_port()}
    conf = write_config(work, ports)
    log = work / "log" / "rspamd.log"
    redis = rspamd = None
    extra = {"version": "Rspamd 3.4", "disabled_modules": list(DISABLED)}
    try:
        redis = spawn(["redis-server", "--port", str(ports["redis"]), "--bind", "127.0.0.1",
                       "--save", "", "--appendonly", "no", "--dir", str(work / "redis")],
                      work / "log" / "redis.out")
        cmd = ["rspamd", "-f", "-c", str(conf)] + [f"--var={var}={work / d}" for var, d in (
            ("LOCAL_CONFDIR", "local"), ("DBDIR", "db"), ("RUNDIR", "run"), ("LOGDIR", "log"))]
        # As root rspamd refuses to run workers unless given -u/-g or --insecure; another user
        # would need `work` and the corpus readable, so stay as we are.
        rspamd = spawn(cmd + (["--insecure"] if os.geteuid() == 0 else []),
                       work / "log" / "rspamd.out")
        wait_ready(rspamd, log)
        socket.create_connection(("127.0.0.1", ports["redis"]), 5).close()  # raises if no redis

        # Learning goes through the controller. Learn-Type=bulk: without it the default
        # learn_condition skips every message Bayes already puts in the class at >= 95% once
        # both classes have min_learns (here 2,081 of the 2,625 ham), which suits feedback on
        # single messages, not training on a corpus. Repeated Message-IDs are still skipped.
        ctl = f"127.0.0.1:{ports['controller']}"
        t0 = time.monotonic()
        for kind in ("spam", "ham"):
            out, _ = rspamc(ctl, ["--header", "Learn-Type=bulk", f"learn_{kind}"],
                            files(layout[("train", kind)]))
            (work / f"learn_{kind}.txt").write_text(out)
            extra[f"learn_{kind}_ok"] = out.count("success = true")
            extra[f"learn_{kind}_skipped"] = out.count("error = ")
        extra["train_seconds"] = time.monotonic() - t0
        learns = redis_learns(ports["redis"])
        for kind in ("spam", "ham"):
            extra[f"learned_{kind}"] = learns.get(f"learns_{kind}", 0)
        if min(extra["learned_spam"], extra["learned_ham"]) < 200:  # min_learns
            print(f"peer_rspamd: only {learns} Bayes learns: Bayes will abstain", file=sys.stderr)

        tests = {g: files(layout[("test", g)]) for g in GROUPS}
        log_mark = log.stat().st_size
        cpu0 = server_cpu(rspamd.pid, redis.pid)
        out, extra["rspamc_cpu"] = rspamc(f"127.0.0.1:{ports['normal']}", ["-j"],
                                          [f for g in GROUPS for f in tests[g]])
        cpu1 = server_cpu(rspamd.pid, redis.pid)
        extra["cpu_rspamd"], extra["cpu_redis"] = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
        (work / "scan.json").write_text(out)
    finally:
        stop(rspamd, redis)
    # Read once stopped, so the log is flushed. Each scan logs "dns req: N"; N > 0 means an
    # enabled module still tried the (dead) resolver.
    with open(log, errors="replace") as f:
        f.seek(log_mark)
        dns = re.findall(r"dns req: (\d+)", f.read())
    extra["tasks_logged"], extra["tasks_with_dns"] = len(dns), sum(n != "0" for n in dns)

    scanned = parse_json_stream(out)
    results = {g: [] for g in GROUPS}
    for g in GROUPS:
        for f in tests[g]:
            v = scanned.get(f) or {}
            if "score" not in v:
                print(f"peer_rspamd: no result for {f}: {v.get('error')}", file=sys.stderr)
                continue
            extra["required_score"] = v.get("required_score")  # the reject threshold
            results[g].append({"file": f, "score": float(v["score"]), "action": v.get("action"),
                               "flagged": v.get("action") not in ("no action", "greylist"),
                               "p": bayes_p(v.get("symbols", {}))})
    extra["with_bayes_symbol"] = sum(r["p"] is not None for g in GROUPS for r in results[g])
    for bad, why in ((not extra["with_bayes_symbol"], "no BAYES_* symbol in any result"),
                     (extra["tasks_with_dns"], f"{extra['tasks_with_dns']} scans used DNS ({log})")):
        if bad:
            print(f"peer_rspamd: {why}", file=sys.stderr)
    return results, extra["cpu_rspamd"] + extra["cpu_redis"], extra

#!/usr/bin/env python3
"""SMTP throughput and added latency: Bulwark (full scanning, relay mode) against a plain
Postfix relay (no filtering), in the same run, on the same machine, all on 127.0.0.1.

    smtp-source -s SESSIONS -m MESSAGES -l SIZE  ->  bulwark serve | postfix  ->  smtp-sink

For each system: messages/s in (until smtp-source has finished), messages/s delivered (until
the sink has taken them all), the CPU time the system used (user + system, its scan workers
or its daemons included), and the latency of probe messages sent one at a time, idle and
under the load: end of DATA -> 250 ("accept"), end of DATA -> arrival at a separate sink
("end to end"). Then the ratios Bulwark/Postfix.

Usage: bench/smtp/bench_smtp.sh [--messages N] [--sessions S] [--size BYTES] [--only bulwark|postfix]
Needs root (Postfix runs from a private config directory) and the postfix package.
"""
import argparse
import json
import os
import platform
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

import harness  # noqa: E402
import peers  # noqa: E402
import postfix  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")


def proc_times(pid, children_too=True):
    """utime+stime (+ cutime+cstime of reaped children) of pid, in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return 0.0
    fields = stat[stat.rfind(")") + 2:].split()
    # fields[11..14] = utime stime cutime cstime (stat fields 14..17)
    t = int(fields[11]) + int(fields[12])
    if children_too:
        t += int(fields[13]) + int(fields[14])
    return t / CLK


def descendants(root):
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(name))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def bulwark_cpu(b):
    """CPU seconds of the gateway: itself, reaped workers, live workers."""
    pid = b.proc.pid
    return proc_times(pid) + sum(proc_times(c, children_too=False) for c in descendants(pid))


def postfix_cpu(pf):
    """CPU seconds of one Postfix instance: every live process of it, plus the master's reaped
    children (smtpd, cleanup, smtp... that exited)."""
    total = 0.0
    for pid in postfix._processes_of(pf.etc):
        with open(f"/proc/{pid}/comm") as f:
            master = f.read().strip() == "master"
        total += proc_times(pid, children_too=master)
    return total


def percentile(values, p):
    return peers.percentile(sorted(values), p)


class Prober:
    """Sends one probe at a time to probe@probe.example: measures end of DATA -> 250 and end
    of DATA -> arrival at the probe sink, then waits `interval` and sends the next."""

    def __init__(self, port, sink, interval):
        self.port, self.sink, self.interval = port, sink, interval
        self.samples = []  # (accept s, end-to-end s or None)
        self.stop = threading.Event()
        self.errors = []

    def one(self, conn, seq):
        data = (f"From: <probe@sender.test>\r\nTo: <probe@probe.example>\r\nSubject: probe-{seq}\r\n"
                f"Message-ID: <probe-{seq}.{uuid.uuid4().hex}@sender.test>\r\n"
                f"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nProbe {seq}.\r\n")
        before = self.sink.count()
        for line, want in (("MAIL FROM:<probe@sender.test>", 250), ("RCPT TO:<probe@probe.example>", 250),
                           ("DATA", 354)):
            code, text = conn.cmd(line)
            if code != want:
                raise RuntimeError(f"{line}: {text}")
        conn.sock.sendall(data.encode() + b".\r\n")
        t0 = time.monotonic()
        code, text = conn.reply()
        accept = time.monotonic() - t0
        if code != 250:
            raise RuntimeError(f"probe refused: {text}")
        deadline = t0 + 120
        while self.sink.count() <= before and time.monotonic() < deadline:
            time.sleep(0.0005)
        e2e = time.monotonic() - t0 if self.sink.count() > before else None
        return accept, e2e

    def run(self, count=None):
        seq = 0
        conn = None
        while not self.stop.is_set() and (count is None or seq < count):
            try:
                if conn is None:
                    conn = peers._Conn(self.port, 60, "probe.test")
                self.samples.append(self.one(conn, seq))
            except Exception as e:  # noqa: BLE001 - a probe failing is a finding, reported
                self.errors.append(str(e))
                if conn is not None:
                    conn.close(False)
                conn = None
            seq += 1
            self.stop.wait(self.interval)
        if conn is not None:
            conn.close()
        return self


def run_load(name, port, load_sink, probe_sink, args, cpu):
    # Idle latency first, then the load with probes alongside.
    idle = Prober(port, probe_sink, 0.02).run(args.idle_probes)
    prober = Prober(port, probe_sink, args.probe_interval)
    pt = threading.Thread(target=prober.run, daemon=True)
    cpu0 = cpu()
    start = time.monotonic()
    pt.start()
    result = {}

    def source():
        result["src"] = peers.run_smtp_source(port, args.messages, sessions=args.sessions,
                                              size=0 if args.message_file else args.size,
                                              sender="source@sender.test", recipient="user@example.com",
                                              subject="bench", reuse=args.reuse, timeout=args.timeout,
                                              message_file=args.message_file)
    st = threading.Thread(target=source)
    st.start()
    st.join()
    src = result["src"]
    t_in = src.seconds
    expect = args.messages if src.returncode == 0 else (src.counter or 0)
    got = load_sink.wait_count(expect, max(1.0, args.timeout - (time.monotonic() - start)))
    t_done = time.monotonic() - start
    cpu_s = cpu() - cpu0
    prober.stop.set()
    pt.join(130)
    under = [s for s in prober.samples]
    out = {
        "system": name,
        "messages": args.messages,
        "source_rc": src.returncode,
        "source_counter": src.counter,
        "source_stderr": src.stderr[-500:],
        "accepted_in_s": round(t_in, 3),
        "delivered": got,
        "delivered_in_s": round(t_done, 3),
        "msgs_per_s_in": args.messages / t_in if t_in else None,
        "msgs_per_s_delivered": got / t_done if t_done else None,
        "cpu_s": round(cpu_s, 2),
        "cpu_ms_per_msg": 1000 * cpu_s / got if got else None,
        "idle_accept_ms": [1000 * percentile([a for a, _ in idle.samples], p) for p in (50, 99)]
        if idle.samples else None,
        "idle_e2e_ms": [1000 * percentile([e for _, e in idle.samples if e is not None], p) for p in (50, 99)]
        if idle.samples else None,
        "load_probes": len(under),
        "load_accept_ms": [1000 * percentile([a for a, _ in under], p) for p in (50, 99)] if under else None,
        "load_e2e_ms": [1000 * percentile([e for _, e in under if e is not None], p) for p in (50, 99)]
        if any(e is not None for _, e in under) else None,
        "probe_errors": idle.errors + prober.errors,
    }
    return out


def bench_bulwark(args):
    load_sink = peers.SmtpSink(dump=False).start()
    probe_sink = peers.SmtpSink(dump=False).start()
    b = harness.Bulwark({
        "delivery.mode": "relay",
        "delivery.routes": [f"example.com=127.0.0.1:{load_sink.port}",
                            f"probe.example=127.0.0.1:{probe_sink.port}"],
        "smtp.accepted_domains": ["example.com", "probe.example"],
        "smtp.max_messages_per_minute_per_ip": 100000000,  # one client IP sends everything here
        "sandbox.workers": 0,  # one per CPU, the default
    })
    try:
        b.start()
        r = run_load("bulwark", b.port, load_sink, probe_sink, args, lambda: bulwark_cpu(b))
        q = b.cli("queue", "list").stdout.strip().splitlines()
        r["left_in_queue"] = q[-1] if q else "?"
        r["quarantined"] = b.cli("quarantine", "list").stdout.strip().splitlines()[-1:]
        return r
    finally:
        b.cleanup()
        load_sink.cleanup()
        probe_sink.cleanup()


def bench_postfix(args):
    load_sink = peers.SmtpSink(dump=False).start()
    probe_sink = peers.SmtpSink(dump=False).start()
    pf = postfix.upstream_relay(load_sink.port, tls="none", settings={
        "transport_maps": f"inline:{{probe.example=smtp:[127.0.0.1]:{probe_sink.port}}}",
    })
    try:
        pf.start()
        r = run_load("postfix", pf.port, load_sink, probe_sink, args, lambda: postfix_cpu(pf))
        r["left_in_queue"] = f"{pf.queued()} messages queued"
        return r
    finally:
        pf.cleanup()
        load_sink.cleanup()
        probe_sink.cleanup()


def realistic_message(path):
    """A 22 KB newsletter-like message: text and HTML alternatives with 60 links, and a 12 KB
    binary attachment in base64 (deterministic)."""
    import base64
    import random
    rng = random.Random(3)
    html = "<html><body>" + "".join(
        f"<p>Dear customer, your <a href='http://shop{i % 7}.example.org/o/{i}'>order {i}</a> has shipped.</p>\n"
        for i in range(60)) + "</body></html>\n"
    att = base64.encodebytes(bytes(rng.getrandbits(8) for _ in range(12000))).decode()
    msg = ("From: Shop <shop@sender.test>\nTo: user@example.com\nSubject: Your order\nMIME-Version: 1.0\n"
           "Content-Type: multipart/mixed; boundary=\"b1\"\n\n"
           "--b1\nContent-Type: multipart/alternative; boundary=\"b2\"\n\n"
           "--b2\nContent-Type: text/plain; charset=utf-8\n\nYour order has shipped.\n"
           "--b2\nContent-Type: text/html; charset=utf-8\n\n" + html + "--b2--\n"
           "--b1\nContent-Type: application/pdf; name=\"receipt.pdf\"\nContent-Transfer-Encoding: base64\n\n"
           + att + "--b1--\n")
    with open(path, "w") as f:
        f.write(msg)
    return path


def fmt(v, spec="{:.0f}"):
    if v is None:
        return "-"
    if isinstance(v, list):
        return " / ".join(fmt(x, spec) for x in v)
    return spec.format(v)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    if isinstance(a, list):
        return " / ".join(ratio(x, y) for x, y in zip(a, b))
    return f"{a / b:.2f}x"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=int(os.environ.get("BENCH_MESSAGES", 5000)))
    ap.add_argument("--sessions", type=int, default=int(os.environ.get("BENCH_SESSIONS", 20)))
    ap.add_argument("--size", type=int, default=int(os.environ.get("BENCH_SIZE", 5120)),
                    help="smtp-source -l: body bytes per message")
    ap.add_argument("--reuse", action="store_true", help="smtp-source -d: several messages per connection")
    ap.add_argument("--message-file", help="smtp-source -F: send this pre-formatted message (headers and "
                    "body, LF line ends) instead of the generated one; --size is then ignored")
    ap.add_argument("--realistic", action="store_true",
                    help="send a generated 22 KB MIME message (HTML with links, base64 attachment) via -F")
    ap.add_argument("--probe-interval", type=float, default=0.05)
    ap.add_argument("--idle-probes", type=int, default=30)
    ap.add_argument("--timeout", type=float, default=240.0, help="per system, seconds")
    ap.add_argument("--only", choices=("bulwark", "postfix"))
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    if not harness.BULWARK or not os.access(harness.BULWARK, os.X_OK):
        sys.exit("set BULWARK_BINARY to the bulwark executable (bench_smtp.sh uses build/bulwark)")
    why = peers.available() or (postfix.available() if args.only != "bulwark" else "")
    if why:
        sys.exit(f"cannot run: {why}")
    postfix.kill_leftovers()
    if args.realistic and not args.message_file:
        import tempfile
        fd, args.message_file = tempfile.mkstemp(prefix="bench-smtp-", suffix=".eml")
        os.close(fd)
        realistic_message(args.message_file)
    cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"machine: {os.cpu_count()} cores, {cpu_model}; {platform.platform()}")
    what = f"-F {args.message_file}" if args.message_file else f"-l {args.size}"
    print(f"load: smtp-source -s {args.sessions} -m {args.messages} {what}{' -d' if args.reuse else ''}; "
          f"probes every {args.probe_interval * 1000:.0f} ms under load, {args.idle_probes} idle")
    print(f"bulwark: {harness.BULWARK} (relay mode, full scanning, {os.cpu_count()} scan workers); "
          f"postfix: {postfix.subprocess.run(['postconf', '-h', 'mail_version'], capture_output=True, text=True).stdout.strip()} "
          "relay, no content filter\n")
    results = []
    try:
        if args.only != "postfix":
            results.append(bench_bulwark(args))
        if args.only != "bulwark":
            results.append(bench_postfix(args))
    finally:
        if args.realistic and args.message_file and os.path.basename(args.message_file).startswith("bench-smtp-"):
            os.unlink(args.message_file)
    rows = [
        ("messages/s in (smtp-source done)", "msgs_per_s_in", "{:.0f}"),
        ("messages/s delivered (sink has all)", "msgs_per_s_delivered", "{:.0f}"),
        ("seconds in / delivered", None, None),
        ("CPU ms per message", "cpu_ms_per_msg", "{:.2f}"),
        ("idle accept p50 / p99 ms", "idle_accept_ms", "{:.1f}"),
        ("idle end-to-end p50 / p99 ms", "idle_e2e_ms", "{:.1f}"),
        ("load accept p50 / p99 ms", "load_accept_ms", "{:.1f}"),
        ("load end-to-end p50 / p99 ms", "load_e2e_ms", "{:.1f}"),
        ("probes under load", "load_probes", "{:d}"),
    ]
    names = [r["system"] for r in results]
    print(f"{'':40s}" + "".join(f"{n:>22s}" for n in names) + (f"{'bulwark/postfix':>22s}" if len(results) == 2 else ""))
    for label, key, spec in rows:
        if key is None:
            cells = [f"{r['accepted_in_s']:.2f} / {r['delivered_in_s']:.2f}" for r in results]
            rat = ""
        else:
            cells = [fmt(r.get(key), spec) for r in results]
            rat = ratio(results[0].get(key), results[1].get(key)) if len(results) == 2 and key != "load_probes" else ""
        print(f"{label:40s}" + "".join(f"{c:>22s}" for c in cells) + (f"{rat:>22s}" if rat else ""))
    ok = True
    for r in results:
        notes = []
        if r["source_rc"] != 0:
            notes.append(f"smtp-source exit {r['source_rc']}: {r['source_stderr'].strip()}")
            ok = False
        if r["delivered"] < r["messages"]:
            notes.append(f"only {r['delivered']} of {r['messages']} delivered")
            ok = False
        if r["probe_errors"]:
            notes.append(f"{len(r['probe_errors'])} probe errors, first: {r['probe_errors'][0]}")
        notes.append(f"left: {r['left_in_queue']}")
        if r.get("quarantined"):
            notes.append(f"quarantine: {r['quarantined'][0]}")
        print(f"{r['system']}: " + "; ".join(notes))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

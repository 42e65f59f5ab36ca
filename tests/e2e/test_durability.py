"""Durability of `bulwark serve` in relay mode: whatever got 250 must reach the next hop (an
smtp-sink that writes every message to a file), through kill -9 of the gateway, a next hop
that is down, a full disk and scan workers that die or hang. Real processes on 127.0.0.1.

Sizes can be changed for a longer soak: BULWARK_E2E_CRASH_MESSAGES (default 2000),
BULWARK_E2E_CRASH_KILLS (3), BULWARK_E2E_SEED (random).
"""
import base64
import os
import random
import re
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

import harness
import peers
from harness import Bulwark, SmtpConversation

SEED = int(os.environ.get("BULWARK_E2E_SEED", str(random.randrange(1 << 30))))


def relay_settings(sink_port, **extra):
    s = {
        "delivery.mode": "relay",
        "delivery.routes": [f"example.com=127.0.0.1:{sink_port}"],
        "smtp.accepted_domains": ["example.com"],
        "delivery.tls": "none",
        "delivery.retry_initial_s": 1,
        "delivery.retry_max_s": 2,
        "delivery.connect_timeout_s": 5,
        "smtp.max_messages_per_minute_per_ip": 1000000,
        "sandbox.workers": 2,
    }
    s.update(extra)
    return s


def numbered(i, run, body="Numbered test message.\r\n", extra=""):
    return (f"From: <load@sender.test>\r\nTo: <user@example.com>\r\nSubject: n-{i}\r\n"
            f"Message-ID: <n-{i}.{run}@sender.test>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n{extra}\r\n{body}")


def queued(bulwark):
    """The number `bulwark queue list` reports."""
    out = bulwark.cli("queue", "list").stdout
    m = re.search(r"^(\d+) messages? queued$", out, re.M)
    return int(m.group(1)) if m else None


def children(pid):
    """Pids whose parent is `pid` (from /proc/*/stat)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            out.append(int(name))
    return out


def slow_to_scan_message(subject):
    """About 20 MB: a base64 attachment holding 15 MB of HTML, which takes a worker far more
    than 100 ms to decode, render and inspect."""
    rng = random.Random(7)
    words = ["alpha", "beta", "<a href=\"http://example.org/p/%d\">link</a>", "invoice", "<b>gamma</b>",
             "delta", "<p>", "account", "</p>"]
    parts = []
    size = 0
    while size < 15 * 1024 * 1024:
        w = rng.choice(words)
        if "%d" in w:
            w = w % rng.randrange(100000)
        parts.append(w)
        size += len(w) + 1
    html = ("<html><body>" + " ".join(parts) + "</body></html>").encode()
    b64 = base64.encodebytes(html).decode().replace("\n", "\r\n")
    return (f"From: <load@sender.test>\r\nTo: <user@example.com>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@sender.test>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
            "--BB\r\nContent-Type: text/plain\r\n\r\nThe report is attached.\r\n"
            "--BB\r\nContent-Type: text/html; name=\"report.html\"\r\nContent-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=\"report.html\"\r\n\r\n" + b64 + "--BB--\r\n")


def send_one(port, data, timeout=120):
    """One transaction on a fresh connection; returns the final (code, text) (or an earlier refusal)."""
    c = SmtpConversation(port, timeout=timeout)
    try:
        c.reply()
        code, text = c.cmd("EHLO client.test")
        for line in ("MAIL FROM:<load@sender.test>", "RCPT TO:<user@example.com>", "DATA"):
            code, text = c.cmd(line)
            if code >= 400:
                return code, text
        c.send(peers.dot_stuff(data) + ".\r\n")
        return c.reply()
    finally:
        c.close()


@unittest.skipUnless(harness.BULWARK, "BULWARK_BINARY is not set")
class DurabilityTest(unittest.TestCase):

    def setUp(self):
        why = peers.available()
        if why:
            self.skipTest(why)
        self.cleanups = []

    def tearDown(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:
                print(f"cleanup failed: {e}")

    def sink(self, port=None, start=True):
        s = peers.SmtpSink(port=port)
        self.cleanups.append(s.cleanup)
        return s.start() if start else s

    def bulwark(self, settings, workdir=None):
        b = Bulwark(settings, workdir=workdir)
        self.cleanups.append(b.cleanup)
        return b

    def wait_queue_empty(self, b, timeout=120):
        deadline = time.time() + timeout
        n = None
        while time.time() < deadline:
            n = queued(b)
            if n == 0:
                return
            time.sleep(0.25)
        self.fail(f"the queue still holds {n} messages after {timeout}s\n{b.cli('queue', 'list').stdout[-2000:]}"
                  f"\n--- log ---\n{b.log()[-3000:]}")

    # (a) -------------------------------------------------------------------------------
    def test_kill9_under_load_loses_no_accepted_message(self):
        n = int(os.environ.get("BULWARK_E2E_CRASH_MESSAGES", "2000"))
        kills = int(os.environ.get("BULWARK_E2E_CRASH_KILLS", "3"))
        rng = random.Random(SEED)
        run = uuid.uuid4().hex[:8]
        sink = self.sink()
        b = self.bulwark(relay_settings(sink.port)).start()
        body = "".join(f"line {k} of a numbered message, to give it some size\r\n" for k in range(20))
        client = peers.LoadClient(b.port, lambda i: numbered(i, run, body), n, sessions=10, deadline=200,
                                  retry_delay=0.05)
        thresholds = sorted(rng.randint(n // 10, n * 85 // 100) for _ in range(kills))
        events = []
        errors = []

        def killer():
            try:
                for t in thresholds:
                    while client.accepted_count() < t:
                        if not sender.is_alive():
                            return
                        time.sleep(0.002)
                    time.sleep(rng.random() * 0.05)  # somewhere inside the next transactions
                    at = client.accepted_count()
                    b.kill9()
                    down = rng.random() * 0.3
                    time.sleep(down)
                    b.start()
                    events.append((at, round(down, 3)))
            except Exception as e:  # reported by the main thread
                errors.append(e)
                client._stop = True  # no point in retrying against a gateway that is gone

        sender = threading.Thread(target=client.run, daemon=True)
        sender.start()
        k = threading.Thread(target=killer, daemon=True)
        k.start()
        sender.join(260)
        k.join(60)
        self.assertFalse(sender.is_alive(), "the load client did not finish")
        self.assertEqual(errors, [], "restarting bulwark failed")
        print(f"\n  seed {SEED}: {n} messages, 10 sessions, {client.seconds:.1f}s; kill -9 at "
              f"{[e[0] for e in events]} accepted (down {[e[1] for e in events]} s); "
              f"{client.connection_errors} connection errors, "
              f"{sum(len(v) for v in client.tempfails.values())} retries")
        self.assertEqual(len(events), kills, f"only {len(events)} of {kills} kills happened")
        self.assertEqual(client.refused, {}, "messages refused with 5xx")
        self.assertEqual(client.unfinished, [], "messages never accepted")

        self.wait_queue_empty(b, 120)
        seen = sink.header_values("Subject")
        missing = sorted(i for i in client.accepted if seen.get(f"n-{i}", 0) == 0)
        dups = {s: c for s, c in seen.items() if c > 1}
        extra = sorted(s for s in seen if not re.fullmatch(r"n-\d+", s) or int(s[2:]) >= n)
        print(f"  delivered {sum(seen.values())} copies of {len(seen)} messages; "
              f"{len(dups)} messages arrived more than once ({sum(c - 1 for c in dups.values())} duplicates)")
        self.assertEqual(extra, [], "unexpected messages at the sink")
        if missing:
            ids = {i: re.search(r"queued as ([0-9a-f]+)", client.accepted[i][0]) for i in missing[:10]}
            self.fail(f"LOST {len(missing)} accepted messages, e.g. {missing[:10]}; queue ids "
                      f"{ {i: m.group(1) if m else None for i, m in ids.items()} }\n--- log ---\n{b.log()[-3000:]}")
        self.assertIsNone(b.proc.poll(), "bulwark died")

    # (b) -------------------------------------------------------------------------------
    def test_next_hop_down_then_queue_retry_delivers_everything(self):
        # The back-off is long (60 s) so that what arrives afterwards was sent because of
        # `bulwark queue retry`, not because a retry happened to be due.
        run = uuid.uuid4().hex[:8]
        sink = self.sink(start=False)  # its port is chosen, nothing listens yet
        b = self.bulwark(relay_settings(sink.port, **{"delivery.retry_initial_s": 60,
                                                      "delivery.retry_max_s": 120})).start()
        n = 50
        client = peers.LoadClient(b.port, lambda i: numbered(i, run), n, sessions=5, deadline=60).run()
        self.assertEqual(len(client.accepted), n, f"refused {client.refused} tempfailed {client.tempfails}")
        self.assertEqual(queued(b), n)

        def all_deferred():
            out = b.cli("queue", "list").stdout
            return len(re.findall(r"attempts [1-9].*last error: ", out)) == n
        deadline = time.time() + 30
        while not all_deferred() and time.time() < deadline:
            time.sleep(0.2)
        listing = b.cli("queue", "list").stdout
        self.assertTrue(all_deferred(), f"not every message was tried and deferred:\n{listing[-2000:]}")
        self.assertIn(f"{n} messages queued", listing)

        sink.start()
        time.sleep(1.5)
        self.assertEqual(sink.count(), 0, "delivered before the retry was asked for (back-off is 60 s)")
        r = b.cli("queue", "retry")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{n} messages due now", r.stdout)
        got = sink.wait_count(n, 30)
        self.assertEqual(got, n, f"only {got} of {n} arrived after `queue retry`\n{b.log()[-3000:]}")
        self.wait_queue_empty(b, 30)
        seen = sink.header_values("Subject")
        self.assertEqual(sorted(seen), sorted(f"n-{i}" for i in range(n)))
        self.assertEqual(set(seen.values()), {1}, "duplicates")

    # (c) -------------------------------------------------------------------------------
    def test_low_disk_space_refuses_mail_from_with_452(self):
        sink = self.sink()
        workdir = tempfile.mkdtemp(prefix="bulwark-e2e-")
        st = os.statvfs(workdir)
        free_mb = st.f_bavail * st.f_frsize // (1 << 20)
        b = self.bulwark(relay_settings(sink.port, **{"spool.min_free_mb": free_mb + 4096}), workdir=workdir)
        b.start()
        c = SmtpConversation(b.port)
        try:
            self.assertEqual(c.reply()[0], 220)
            self.assertEqual(c.cmd("EHLO client.test")[0], 250)
            code, text = c.cmd("MAIL FROM:<load@sender.test>")
            self.assertEqual(code, 452, text)
            self.assertIn("4.3.1", text)
            self.assertEqual(c.cmd("RCPT TO:<user@example.com>")[0], 503)  # no transaction was opened
            self.assertEqual(c.cmd("QUIT")[0], 221)
        finally:
            c.close()
        self.assertEqual(queued(b), 0)
        self.assertIn("0 shown", b.cli("quarantine", "list").stdout)
        self.assertIn("spool_low_space", b.log())

    def test_real_enospc_tempfails_and_recovers(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a small tmpfs needs root")
        mnt = tempfile.mkdtemp(prefix="bulwark-e2e-tmpfs-")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", mnt],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            os.rmdir(mnt)
            self.skipTest(f"cannot mount a 2 MB tmpfs here: {r.stderr.strip()}")

        def unmount():
            if subprocess.run(["umount", mnt], capture_output=True, timeout=30).returncode != 0:
                subprocess.run(["umount", "-l", mnt], capture_output=True, timeout=30)
            os.rmdir(mnt)
        self.cleanups.append(unmount)
        sink = self.sink()
        b = self.bulwark(relay_settings(sink.port, **{"spool.data_dir": os.path.join(mnt, "var")}))
        b.start()  # (cleanups run in reverse: bulwark stops before the unmount)
        big = numbered(0, "enospc", "".join(f"{k:08d} filler line to overflow a 2 MB file system\r\n"
                                            for k in range(60000)))  # ~3.5 MB
        code, text = send_one(b.port, big)
        print(f"\n  {len(big)} bytes into a 2 MB tmpfs: {text.splitlines()[0]}")
        self.assertIn(code, (451, 452), f"a message larger than the file system got {code} {text}")
        if code == 452:
            self.assertIn("4.3.1", text)
        self.assertEqual(queued(b), 0, "a half-written message is in the queue")
        leftovers = os.listdir(os.path.join(mnt, "var", "spool", "tmp"))
        self.assertEqual(leftovers, [], "the failed write left a temporary file behind")
        # The gateway is still healthy: a small message goes through and arrives.
        code, text = send_one(b.port, numbered(1, "enospc"))
        self.assertEqual(code, 250, text)
        self.assertEqual(sink.wait_count(1, 30), 1)
        self.wait_queue_empty(b, 30)
        self.assertEqual(sink.header_values("Subject"), {"n-1": 1})

    # (d) -------------------------------------------------------------------------------
    def test_scan_worker_timeout_tempfails_with_451(self):
        sink = self.sink()
        b = self.bulwark(relay_settings(sink.port, **{"sandbox.timeout_ms": 100})).start()
        code, text = send_one(b.port, slow_to_scan_message("slow"))
        self.assertEqual(code, 451, text)
        self.assertIn("4.3.0", text)
        self.assertRegex(b.log(), r"event=decision .*action=tempfail .*timed out")
        # Nothing kept, nothing delivered; the gateway still takes small mail.
        self.assertEqual(queued(b), 0)
        self.assertIn("0 shown", b.cli("quarantine", "list").stdout)
        code, text = send_one(b.port, numbered(1, "timeout"))
        self.assertEqual(code, 250, text)
        self.assertEqual(sink.wait_count(1, 30), 1)
        time.sleep(0.5)
        self.assertEqual(sink.header_values("Subject"), {"n-1": 1}, "the slow message was delivered")

    def test_killing_scan_workers_loses_nothing(self):
        run = uuid.uuid4().hex[:8]
        sink = self.sink()
        b = self.bulwark(relay_settings(sink.port)).start()
        # ~150 KB each, so some kills land in the middle of a scan.
        attachment = base64.encodebytes(random.Random(SEED).randbytes(110 * 1024)).decode().replace("\n", "\r\n")
        body_tmpl = ("--BB\r\nContent-Type: text/plain\r\n\r\nMessage {i}.\r\n--BB\r\n"
                     "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\n" + attachment + "--BB--\r\n")
        mime = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BB\"\r\n"
        n = 200
        client = peers.LoadClient(b.port, lambda i: numbered(i, run, body_tmpl.replace("{i}", str(i)), mime), n,
                                  sessions=5, deadline=150, retry_delay=0.02)
        killed = []
        stop = threading.Event()
        rng = random.Random(SEED)

        def killer():
            while not stop.is_set():
                before = client.accepted_count()
                for pid in children(b.proc.pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                    except ProcessLookupError:
                        pass
                stop.wait(0.01 + rng.random() * 0.05)
                # On a loaded machine a scan may take longer than the gap between kills;
                # let one more message through (or half a second pass) so kills cannot
                # starve every scan until the deadline.
                waited = 0.0
                while client.accepted_count() == before and waited < 0.5 and not stop.is_set():
                    stop.wait(0.01)
                    waited += 0.01

        k = threading.Thread(target=killer, daemon=True)
        k.start()
        try:
            client.run()
        finally:
            stop.set()
            k.join(10)
        replies = [r for v in client.tempfails.values() for r in v]
        print(f"\n  {len(killed)} scan workers killed; {len(replies)} tempfails "
              f"({len({i for i in client.tempfails})} messages retried); {client.seconds:.1f}s")
        self.assertIsNone(b.proc.poll(), "the supervisor died with its workers")
        self.assertGreater(len(killed), 10, "the killer hardly ran")
        self.assertEqual(client.connection_errors, 0, f"connections broke: {replies[:5]}")
        for r in replies:
            self.assertTrue(r.startswith("451 4.3.0"), f"unexpected tempfail: {r}")
        self.assertEqual(client.refused, {})
        self.assertEqual(client.unfinished, [])
        self.assertEqual(len(client.accepted), n)
        self.wait_queue_empty(b, 60)
        seen = sink.header_values("Subject")
        missing = [i for i in range(n) if f"n-{i}" not in seen]
        self.assertEqual(missing, [], "accepted messages did not arrive")
        self.assertEqual(sum(seen.values()), n, "duplicates without any gateway crash")


if __name__ == "__main__":
    unittest.main()

"""Bulwark between two real Postfix servers, all on 127.0.0.1:

    swaks / smtp-source -> Postfix "upstream" (relayhost = Bulwark)
                        -> bulwark serve (delivery.mode = "relay", example.com routed on)
                        -> Postfix "downstream" (final destination of example.com, a maildir)

Needs root (Postfix runs from a private config directory) and the postfix and swaks packages.
"""
import base64
import os
import re
import struct
import subprocess
import tempfile
import time
import unittest
import uuid

import harness
import peers
import postfix
from harness import Bulwark

SWAKS = "/usr/bin/swaks"


def eicar():
    # The EICAR test string, put together here so that no file of ours contains it.
    head = "X5O!P%@AP[4\\" + "PZX54(P^)7CC)7}$"
    tail = "EICAR-STANDARD-" + "ANTIVIRUS-" + "TEST-FILE!" + "$H+H*"
    return head + tail


def minimal_pe():
    """A tiny Windows PE image: DOS header ('MZ', e_lfanew -> 64), 'PE\\0\\0', a COFF header
    and an empty optional header. Not runnable; typed as an executable by content."""
    dos = bytearray(64)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 64)
    coff = struct.pack("<HHIIIHH", 0x14C, 1, 0, 0, 0, 0xE0, 0x0102)
    return bytes(dos) + b"PE\0\0" + coff + bytes(0xE0) + bytes(40)


def body_for(i, tag):
    long_line = ("%04d-" % i) + "abcdefghij" * 90
    return (f"Message {i} of run {tag}.\n"
            ".a line that starts with a dot\n"
            "..and one with two\n"
            ".\n"
            "trailing spaces   \n"
            "a\ttab\n"
            f"{long_line}\n"
            "\n"
            "From the last paragraph (a line starting with From).\n")


def parse(data):
    """(header text, body text) of a delivered file, LF line ends."""
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
    head, _, body = text.partition("\n\n")
    return head, body


def received_headers(head):
    """The Received: fields of a header block, unfolded, top first."""
    out = []
    for field in re.split(r"\n(?=\S)", head):
        if field.lower().startswith("received:"):
            out.append(" ".join(field.split()))
    return out


def swaks(port, data_path, timeout=60):
    return subprocess.run([SWAKS, "--server", f"127.0.0.1:{port}", "--helo", "client.test",
                           "--from", "sender@sender.test", "--to", "user@example.com",
                           "--data", data_path, "--timeout", "30"],
                          capture_output=True, text=True, timeout=timeout)


def wait(predicate, timeout, what, log=lambda: ""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{log()}")


@unittest.skipUnless(harness.BULWARK, "BULWARK_BINARY is not set")
class PostfixRelayTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        why = postfix.available() or peers.available() or ("" if os.path.exists(SWAKS) else "swaks is missing")
        if why:
            raise unittest.SkipTest(why)
        postfix.kill_leftovers()
        cls.tmp = tempfile.mkdtemp(prefix="bulwark-pfrelay-")
        cls.down = cls.bulwark = cls.up = None
        try:
            cls.down = postfix.downstream_final(["example.com"]).start()
            cls.bulwark = Bulwark({
                "delivery.mode": "relay",
                "delivery.routes": [f"example.com=127.0.0.1:{cls.down.port}"],
                "smtp.accepted_domains": ["example.com"],
                "delivery.tls": "none",
                "delivery.retry_initial_s": 1,
                "delivery.retry_max_s": 2,
                "sandbox.workers": 2,
            }).start()
            cls.up = postfix.upstream_relay(cls.bulwark.port).start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for peer in (cls.up, cls.bulwark, cls.down):
            if peer is not None:
                try:
                    peer.cleanup()
                except Exception as e:  # keep tearing down the others
                    print(f"cleanup of {peer!r} failed: {e}")
        import shutil
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def logs(self):
        return (f"--- bulwark log ---\n{self.bulwark.log()[-3000:]}\n"
                f"--- upstream maillog ---\n{self.up.log()[-3000:]}\n"
                f"--- downstream maillog ---\n{self.down.log()[-2000:]}")

    def delivered(self, subject_prefix):
        """{subject: [(header, body)]} of downstream messages whose Subject starts with the prefix."""
        out = {}
        for _, data in self.down.maildir_messages():
            head, body = parse(data)
            m = re.search(r"^Subject: (.*)$", head, re.M)
            if m and m.group(1).startswith(subject_prefix):
                out.setdefault(m.group(1), []).append((head, body))
        return out

    def write_message(self, subject, body, extra_headers=""):
        path = os.path.join(self.tmp, uuid.uuid4().hex + ".eml")
        msg = (f"From: <sender@sender.test>\nTo: <user@example.com>\nSubject: {subject}\n"
               f"Message-ID: <{uuid.uuid4().hex}@sender.test>\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n"
               f"{extra_headers}\n{body}")
        with open(path, "w", newline="\n") as f:
            f.write(msg)
        return path

    def test_swaks_messages_arrive_intact_with_our_received_header(self):
        tag = uuid.uuid4().hex[:8]
        n = 20
        for i in range(n):
            r = swaks(self.up.port, self.write_message(f"relay-{tag}-{i}", body_for(i, tag)))
            self.assertEqual(r.returncode, 0, f"swaks #{i} failed:\n{r.stdout[-1500:]}{r.stderr[-500:]}")
            self.assertRegex(r.stdout, r"<-\s+250 2\.0\.0 Ok: queued as", "upstream did not take the message")
        got = wait(lambda: (lambda d: d if len(d) >= n else None)(self.delivered(f"relay-{tag}-")), 90,
                   f"{n} messages downstream", self.logs)
        self.assertEqual(sorted(got), sorted(f"relay-{tag}-{i}" for i in range(n)))
        for i in range(n):
            copies = got[f"relay-{tag}-{i}"]
            self.assertEqual(len(copies), 1, f"message {i} arrived {len(copies)} times")
            head, body = copies[0]
            received = received_headers(head)
            ours = [h for h in received if "by gw.test (Bulwark)" in h]
            self.assertEqual(len(ours), 1, f"message {i}: Received fields {received}")
            # Order: downstream's own on top, then ours, then upstream's.
            self.assertIn("by downstream.test (Postfix)", received[0])
            self.assertIn("by gw.test (Bulwark)", received[1])
            self.assertIn("by upstream.test (Postfix)", received[2])
            self.assertRegex(ours[0], r"^Received: from \S* \(\[127\.0\.0\.1\]\) by gw\.test \(Bulwark\) "
                                      r"with ESMTPS? id [0-9a-f]+ for <user@example\.com>; ")
            # swaks ends the data with an empty line of its own before the final dot.
            self.assertIn(body, (body_for(i, tag), body_for(i, tag) + "\n"), f"message {i}: body changed on the way")
            self.assertNotIn("X-Bulwark-Action", head)
        self.assertEqual(self.up.queued(), 0, "mail left in the upstream queue\n" + self.logs())
        wait(lambda: "0 messages queued" in self.bulwark.cli("queue", "list").stdout, 30, "an empty Bulwark queue",
             self.logs)

    def test_upstream_uses_starttls_to_bulwark(self):
        # The upstream Postfix has smtp_tls_security_level = may; Bulwark offers STARTTLS with
        # its generated certificate, so the hop is encrypted (ESMTPS in our Received field).
        tag = uuid.uuid4().hex[:8]
        r = swaks(self.up.port, self.write_message(f"tls-{tag}", "hello over TLS\n"))
        self.assertEqual(r.returncode, 0, r.stdout[-1000:])
        got = wait(lambda: self.delivered(f"tls-{tag}"), 60, "the message downstream", self.logs)
        head, _ = got[f"tls-{tag}"][0]
        ours = [h for h in received_headers(head) if "by gw.test (Bulwark)" in h]
        self.assertEqual(len(ours), 1)
        self.assertIn(" with ESMTPS id ", ours[0], f"not encrypted? {ours[0]}\n{self.logs()}")
        self.assertRegex(self.up.log(), r"Anonymous TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:"
                         f"{self.bulwark.port}|TLS connection established to 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:"
                         f"{self.bulwark.port}")

    def test_executable_attachment_is_quarantined_not_delivered(self):
        tag = uuid.uuid4().hex[:8]
        subject = f"invoice-{tag}"
        b64 = base64.encodebytes(minimal_pe()).decode()
        body = ("--BOUNDARY\nContent-Type: text/plain; charset=us-ascii\n\nPlease find the invoice attached.\n"
                "--BOUNDARY\nContent-Type: application/octet-stream; name=\"invoice.exe\"\n"
                "Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"invoice.exe\"\n\n"
                f"{b64}--BOUNDARY--\n")
        path = self.write_message(subject, body, "MIME-Version: 1.0\n"
                                  "Content-Type: multipart/mixed; boundary=\"BOUNDARY\"\n")
        # A harmless marker sent right after it: once the marker is downstream, the invoice
        # had every chance to get there too.
        marker = f"after-invoice-{tag}"
        r = swaks(self.up.port, path)
        self.assertEqual(r.returncode, 0, r.stdout[-1000:])
        r = swaks(self.up.port, self.write_message(marker, "marker\n"))
        self.assertEqual(r.returncode, 0, r.stdout[-1000:])
        wait(lambda: self.delivered(marker), 60, "the marker message downstream", self.logs)

        def listed():
            out = self.bulwark.cli("quarantine", "list").stdout
            return out if f'subject "{subject}"' in out else None
        listing = wait(listed, 30, "the invoice in `bulwark quarantine list`", self.logs)
        line = next(l for l in listing.splitlines() if f'subject "{subject}"' in l)
        self.assertIn("held", line)
        self.assertIn("from <sender@sender.test>", line)
        self.assertRegex(line, r"FILE_DANGEROUS|invoice\.exe|executable", line)
        self.assertEqual(self.delivered(subject), {}, "the executable reached the downstream server")
        # Upstream handed it over (Bulwark said 250, it was quarantined): nothing is stuck there.
        wait(lambda: self.up.queued() == 0, 30, "an empty upstream queue", self.logs)
        self.assertRegex(self.up.log(), r"status=sent \(250 2\.0\.0 Ok: queued as [0-9a-f]+\)")

    def test_eicar_is_not_delivered(self):
        sample = os.path.join(self.tmp, "eicar.eml")
        with open(sample, "w") as f:
            f.write("Subject: probe\n\n" + eicar() + "\n")
        probe = subprocess.run([harness.BULWARK, "scan", sample, "--config", self.bulwark.config],
                               capture_output=True, text=True, timeout=120)
        if "accept" in probe.stdout.split(":", 1)[-1][:20]:
            self.skipTest("ClamAV has no signature database on this machine (the EICAR file scans clean: "
                          f"{probe.stdout.strip()}); the executable-attachment test covers the quarantine path")
        tag = uuid.uuid4().hex[:8]
        subject = f"eicar-{tag}"
        r = swaks(self.up.port, self.write_message(subject, eicar() + "\n"))
        self.assertEqual(r.returncode, 0, r.stdout[-1000:])
        marker = f"after-eicar-{tag}"
        swaks(self.up.port, self.write_message(marker, "marker\n"))
        wait(lambda: self.delivered(marker), 60, "the marker message downstream", self.logs)
        self.assertEqual(self.delivered(subject), {}, "EICAR reached the downstream server")

    def test_smtp_source_load_through_upstream(self):
        tag = uuid.uuid4().hex[:8]
        subject = f"load-{tag}"
        n = 200
        r = peers.run_smtp_source(self.up.port, n, sessions=5, size=2048, subject=subject,
                                  sender="source@sender.test", recipient="user@example.com", timeout=120)
        self.assertEqual(r.returncode, 0, repr(r))
        self.assertEqual(r.counter, n, repr(r))
        got = wait(lambda: (lambda d: d if sum(len(v) for v in d.values()) >= n else None)(self.delivered(subject)),
                   120, f"{n} smtp-source messages downstream", self.logs)
        copies = got.get(subject, [])
        self.assertEqual(len(copies), n, "lost or duplicated messages")
        for head, body in copies:
            self.assertEqual(len([h for h in received_headers(head) if "by gw.test (Bulwark)" in h]), 1)
            # -l counts CRLF line ends; the maildir copy has LF ones (about 25 lines of 80).
            self.assertGreaterEqual(len(body), 2048 - 2048 // 80 - 2)
            self.assertIn("X" * 70, body)
        wait(lambda: self.up.queued() == 0, 30, "an empty upstream queue", self.logs)
        wait(lambda: "0 messages queued" in self.bulwark.cli("queue", "list").stdout, 30, "an empty Bulwark queue",
             self.logs)

    def test_received_header_names_the_helo_on_reused_connections(self):
        # Postfix caches its connection to Bulwark when mail queues up, so most of these
        # arrive several per SMTP session. Every one must still carry the upstream's HELO
        # name in our Received field (RFC 5321 4.4: "from" is the HELO/EHLO argument).
        tag = uuid.uuid4().hex[:8]
        subject = f"reuse-{tag}"
        n = 60
        r = peers.run_smtp_source(self.up.port, n, sessions=6, subject=subject, sender="source@sender.test",
                                  recipient="user@example.com", timeout=120)
        self.assertEqual(r.returncode, 0, repr(r))
        got = wait(lambda: (lambda d: d if sum(len(v) for v in d.values()) >= n else None)(self.delivered(subject)),
                   120, f"{n} messages downstream", self.logs)
        ours = [next(h for h in received_headers(head) if "by gw.test (Bulwark)" in h) for head, _ in got[subject]]
        bad = [h for h in ours if not h.startswith("Received: from upstream.test ([127.0.0.1])")]
        reused = len(re.findall(r"conn_use=\d+", self.up.log()))
        self.assertGreater(reused, 0, "the upstream Postfix reused no connection: nothing was tested")
        if bad:
            self.fail(f"{len(bad)} of {n} Received fields lack the HELO name (upstream reused cached "
                      f"connections {reused} times); first: {bad[0]}")


if __name__ == "__main__":
    unittest.main()

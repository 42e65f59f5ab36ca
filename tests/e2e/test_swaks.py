"""SMTP conversations with the real swaks, and raw ones for what swaks cannot say: delivery
in the embedded default, STARTTLS, PIPELINING, BDAT, DSN parameters, SIZE, errors and
limits, the smuggling sequences, relay control, AUTH on submission. Exact reply codes."""
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import BULWARK, Bulwark, SmtpConversation, free_port, message

SWAKS = "/usr/bin/swaks"


def swaks(port, *args, timeout=60):
    r = subprocess.run([SWAKS, "--server", f"127.0.0.1:{port}", "--from", "bob@sender.test",
                        "--to", "alice@example.com", "--helo", "client.test", *args],
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def queue_id(transcript):
    m = re.search(r"<[~-]  250 2\.0\.0 Ok: queued as ([0-9a-f]{20})", transcript)
    return m.group(1) if m else None


def conversation(port):
    c = SmtpConversation(port)
    code, _ = c.reply()
    assert code == 220
    return c


def conversation_once_free(port, timeout=10.0):
    """Like conversation(), but retries while the server still counts an earlier connection
    from this address (the harness's readiness probe closes without waiting for the server)."""
    deadline = time.time() + timeout
    while True:
        c = SmtpConversation(port)
        code, text = c.reply()
        if code == 220:
            return c
        c.close()
        if code != 421 or time.time() > deadline:
            raise AssertionError(f"no greeting: {code} {text}")
        time.sleep(0.05)


@unittest.skipUnless(os.path.exists(SWAKS), "swaks not installed")
class Swaks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Bulwark().start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()

    def delivered(self, qid, address="alice@example.com"):
        def find():
            for path in self.gw.maildir_files(address):
                with open(path, errors="replace") as f:
                    text = f.read()
                if f" id {qid}" in text:
                    return text
            return None
        return self.gw.wait_for(find, 30, f"{qid} in the Maildir of {address}")

    def test_plain_delivery_into_the_maildir(self):
        rc, out = swaks(self.gw.port, "--body", "Hello from swaks.\n.dotted line\n")
        self.assertEqual(rc, 0, out)
        qid = queue_id(out)
        self.assertIsNotNone(qid, out)
        text = self.delivered(qid)
        self.assertTrue(text.startswith("Return-Path: <bob@sender.test>\nDelivered-To: alice@example.com\n"), text[:200])
        self.assertRegex(text, rf"Received: from client.test \(\[127.0.0.1\]\)\n\tby gw.test \(Bulwark\) with ESMTP id {qid}\n")
        self.assertIn("\nHello from swaks.\n.dotted line\n", text)
        self.gw.wait_for(lambda: "0 messages queued" in self.gw.cli("queue", "list").stdout, 30, "empty queue")

    def test_starttls(self):
        rc, out = swaks(self.gw.port, "--tls")
        self.assertEqual(rc, 0, out)
        self.assertIn("220 2.0.0 Ready to start TLS", out)
        self.assertRegex(out, r"TLS started with cipher TLSv1\.[23]")
        self.assertIn(" with ESMTPS id ", self.delivered(queue_id(out)))

    def test_pipelining(self):
        rc, out = swaks(self.gw.port, "--pipeline", "--to", "alice@example.com,carol@example.com")
        self.assertEqual(rc, 0, out)
        self.assertIn("250-PIPELINING", out)
        qid = queue_id(out)
        self.delivered(qid)
        self.delivered(qid, "carol@example.com")

    def test_attachment_through_the_scanner(self):
        rc, out = swaks(self.gw.port, "--attach-type", "text/plain", "--attach-name", "notes.txt",
                        "--attach", "@/etc/hostname")
        self.assertEqual(rc, 0, out)
        self.assertIn("notes.txt", self.delivered(queue_id(out)))
        self.assertRegex(self.gw.log(), rf"event=decision id={queue_id(out)} .*action=accept")

    def test_bdat_chunks_are_kept_verbatim(self):
        c = conversation(self.gw.port)
        self.assertIn("CHUNKING", c.cmd("EHLO client.test")[1])
        c.send("MAIL FROM:<bob@sender.test>\r\nRCPT TO:<alice@example.com>\r\n")
        self.assertEqual(c.reply()[0], 250)
        self.assertEqual(c.reply()[0], 250)
        chunk1 = "Subject: bdat\r\n\r\nfirst\r\n.\r\nMAIL FROM:<evil@x.test>\r\n"
        chunk2 = "last line\r\n"
        c.send(f"BDAT {len(chunk1)}\r\n{chunk1}BDAT {len(chunk2)} LAST\r\n{chunk2}")
        self.assertEqual(c.reply(), (250, f"250 2.0.0 {len(chunk1)} octets received"))
        code, text = c.reply()
        self.assertEqual(code, 250, text)
        c.cmd("QUIT")
        body = self.delivered(text.split()[-1])
        self.assertIn("\nfirst\n.\nMAIL FROM:<evil@x.test>\nlast line\n", body)

    def test_dsn_parameters_are_accepted(self):
        c = conversation(self.gw.port)
        self.assertIn("250-DSN", c.cmd("EHLO client.test")[1])
        self.assertEqual(c.cmd("MAIL FROM:<bob@sender.test> RET=HDRS ENVID=QQ+2B1"), (250, "250 2.1.0 Ok"))
        self.assertEqual(c.cmd("RCPT TO:<alice@example.com> NOTIFY=FAILURE,DELAY ORCPT=rfc822;alice+40example.com"),
                         (250, "250 2.1.5 Ok"))
        self.assertEqual(c.cmd("RCPT TO:<x@example.com> NOTIFY=BOGUS")[0], 501)
        c.close()

    def test_size_limit(self):
        c = conversation(self.gw.port)
        ehlo = c.cmd("EHLO client.test")[1]
        self.assertIn("250-SIZE 52428800", ehlo)
        self.assertEqual(c.cmd("MAIL FROM:<bob@sender.test> SIZE=60000000"),
                         (552, "552 5.3.4 Error: message size exceeds the limit of 52428800 bytes"))
        c.close()

    def test_errors_and_error_limit(self):
        c = conversation(self.gw.port)
        self.assertEqual(c.cmd("MAIL FROM:<bob@sender.test>"), (503, "503 5.5.1 Error: send HELO/EHLO first"))
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("RCPT TO:<alice@example.com>"), (503, "503 5.5.1 Error: need MAIL command"))
        self.assertEqual(c.cmd("VRFY alice")[0], 252)
        self.assertEqual(c.cmd("EXPN list")[0], 502)
        # Three errors so far; the tenth (smtp.max_errors) ends the session with 421.
        codes = [c.cmd(f"BOGUS{i}")[0] for i in range(7)]
        self.assertEqual(codes, [500] * 7)
        self.assertEqual(c.reply()[0], 421)
        self.assertTrue(c.closed(5))
        c.close()

    def test_smuggling_sequences_never_make_a_second_message(self):
        seqs = [b"\n.\n", b"\n.\r\n", b"\r.\r", b"\r\n.\r", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r\r\n",
                b"\r\n\x00.\r\n", b"\r\n.\x00\r\n"]
        for seq in seqs:
            c = conversation(self.gw.port)
            c.cmd("EHLO client.test")
            c.send("MAIL FROM:<bob@sender.test>\r\nRCPT TO:<smuggle@example.com>\r\n")
            c.reply(), c.reply()
            self.assertEqual(c.cmd("DATA")[0], 354)
            c.send(b"Subject: real\r\n\r\nbody" + seq +
                   b"MAIL FROM:<admin@bank.test>\r\nRCPT TO:<smuggle@example.com>\r\nDATA\r\n"
                   b"Subject: SMUGGLED\r\n\r\nforged\r\n.\r\n" + b"\r\n.\r\n")
            replies = []
            c.sock.settimeout(2)  # the connection stays open when the message was only refused
            try:
                while True:
                    replies.append(c.reply())
            except (ConnectionError, socket.timeout, OSError):
                pass
            c.close()
            queued = [r for r in replies if r[0] == 250]
            self.assertLessEqual(len(queued), 1, (seq, replies))
        time.sleep(1)
        for path in self.gw.maildir_files("smuggle@example.com"):
            with open(path, errors="replace") as f:
                headers = f.read().split("\n\n", 1)[0]
            self.assertNotIn("Subject: SMUGGLED", headers)


@unittest.skipUnless(os.path.exists(SWAKS), "swaks not installed")
class Limits(unittest.TestCase):
    def tearDown(self):
        self.gw.cleanup()

    def test_not_an_open_relay_and_unknown_users(self):
        d = tempfile.mkdtemp(prefix="bulwark-rcpt-")
        with open(os.path.join(d, "recipients"), "w") as f:
            f.write("# valid users\nalice@example.com\n@example.org\n")
        self.gw = Bulwark({"delivery.mode": "relay", "smtp.accepted_domains": ["example.com", "example.org"],
                           "delivery.routes": [f"example.com=127.0.0.1:{free_port()}"],
                           "smtp.trusted_networks": [], "smtp.recipients_file": os.path.join(d, "recipients")}).start()
        rc, out = swaks(self.gw.port, "--to", "victim@elsewhere.test", "--quit-after", "RCPT")
        self.assertIn("554 5.7.1 <victim@elsewhere.test>: Relay access denied", out)
        rc, out = swaks(self.gw.port, "--to", "nobody@example.com", "--quit-after", "RCPT")
        self.assertIn("550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown", out)
        rc, out = swaks(self.gw.port, "--to", "anyone@example.org", "--quit-after", "RCPT")
        self.assertIn("250 2.1.5 Ok", out)

    def test_connection_and_rate_limits(self):
        self.gw = Bulwark({"smtp.max_connections_per_ip": 2, "smtp.max_messages_per_minute_per_ip": 3}).start()
        a, b = conversation_once_free(self.gw.port), conversation_once_free(self.gw.port)
        c = SmtpConversation(self.gw.port)
        code, text = c.reply()
        self.assertEqual(code, 421, text)
        self.assertIn("4.7.0", text)
        for x in (a, b, c):
            x.close()
        conv = conversation_once_free(self.gw.port)
        conv.cmd("EHLO client.test")
        for _ in range(3):
            self.assertEqual(conv.cmd("MAIL FROM:<bob@sender.test>")[0], 250)
            conv.cmd("RSET")
        self.assertEqual(conv.cmd("MAIL FROM:<bob@sender.test>")[0], 450)
        conv.close()

    def test_early_talker_and_idle_timeout(self):
        self.gw = Bulwark({"smtp.greeting_delay_ms": 500, "smtp.command_timeout_s": 1}).start()
        s = socket.create_connection(("127.0.0.1", self.gw.port))
        s.sendall(b"EHLO impatient.test\r\n")
        data = s.recv(4096)
        self.assertTrue(data.startswith(b"554 5.5.1"), data)
        s.close()
        c = conversation(self.gw.port)  # waited politely: greeted after the delay
        c.cmd("EHLO client.test")
        code, text = c.reply()  # nothing sent: the server gives up
        self.assertEqual(code, 421)
        self.assertIn("4.4.2", text)
        c.close()

    def test_auth_on_submission_after_tls(self):
        sub_port = free_port()
        hashed = subprocess.run([BULWARK, "hash-password"], input="s3cret\n", capture_output=True, text=True,
                                timeout=60).stdout.strip()
        self.assertTrue(hashed.startswith("$argon2id$"), hashed)
        d = tempfile.mkdtemp(prefix="bulwark-users-")
        with open(os.path.join(d, "users"), "w") as f:
            f.write(f"alice:{hashed}\n")
        self.gw = Bulwark({"smtp.submission_listen": f"127.0.0.1:{sub_port}", "smtp.auth_users_file": os.path.join(d, "users"),
                           "smtp.trusted_networks": [], "delivery.mode": "relay",
                           "smtp.accepted_domains": ["example.com"],
                           "delivery.routes": [f"example.com=127.0.0.1:{free_port()}"]}).start()
        rc, out = swaks(sub_port, "--tls", "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "s3cret",
                        "--to", "someone@far-away.test")
        self.assertEqual(rc, 0, out)
        self.assertIn("235 2.7.0 Authentication successful", out)
        self.assertIsNotNone(queue_id(out), out)
        rc, out = swaks(sub_port, "--tls", "--auth", "LOGIN", "--auth-user", "alice", "--auth-password", "wrong",
                        "--quit-after", "AUTH")
        self.assertIn("535 5.7.8", out)
        c = conversation(sub_port)
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("AUTH PLAIN AGFsaWNlAHMzY3JldA==")[0], 538)
        self.assertEqual(c.cmd("MAIL FROM:<alice@example.com>")[0], 530)
        c.close()


if __name__ == "__main__":
    unittest.main()

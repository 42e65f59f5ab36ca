"""Decisions and operations of `bulwark serve`: tag headers (and forged ones stripped),
quarantine with list/show/release/delete, reject with the queue id, SIGHUP reload (and a
broken file refused), SIGTERM drain, and the queue commands."""
import base64
import re
import signal
import time
import unittest

from harness import Bulwark, SmtpConversation, free_port, message, send


def pe_attachment_message(to="alice@example.com"):
    pe = bytearray(512)
    pe[0:2] = b"MZ"
    pe[0x3c:0x40] = (0x80).to_bytes(4, "little")
    pe[0x80:0x84] = b"PE\0\0"
    pe[0x84:0x86] = b"\x4c\x01"
    b64 = base64.encodebytes(bytes(pe)).decode().replace("\n", "\r\n")
    body = ("--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--b1\r\n"
            "Content-Type: application/octet-stream; name=\"invoice.exe\"\r\nContent-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=\"invoice.exe\"\r\n\r\n" + b64 + "--b1--\r\n")
    return message(subject="invoice", to=to, body=body,
                   extra="MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n")


class Decisions(unittest.TestCase):
    def tearDown(self):
        self.gw.cleanup()

    def test_tag_adds_headers_and_strips_forged_ones(self):
        self.gw = Bulwark({"policy.tag_score": -100.0, "policy.quarantine_score": 50.0,
                           "policy.reject_score": 100.0}).start()
        code, text = send(self.gw, message(extra="X-Bulwark-Score: -999\r\n"))
        self.assertEqual(code, 250, text)
        qid = text.split()[-1]
        files = self.gw.wait_for(lambda: self.gw.maildir_files("alice@example.com"), 30, "delivery")
        with open(files[0]) as f:
            headers = f.read().split("\n\n", 1)[0]
        self.assertIn("X-Bulwark-Action: tag", headers)
        self.assertRegex(headers, r"X-Bulwark-Score: -?\d+\.\d\d")
        self.assertIn("X-Bulwark-Symbols:", headers)
        self.assertNotIn("-999", headers)
        self.assertRegex(self.gw.log(), rf"event=decision id={qid} .*action=tag")

    def test_quarantine_list_show_release_delete(self):
        self.gw = Bulwark().start()
        ids = []
        for _ in range(2):
            code, text = send(self.gw, pe_attachment_message())
            self.assertEqual(code, 250, text)
            ids.append(text.split()[-1])
        self.assertRegex(self.gw.log(), rf"event=decision id={ids[0]} .*action=quarantine")
        time.sleep(0.5)
        self.assertEqual(self.gw.maildir_files("alice@example.com"), [])
        listing = self.gw.cli("quarantine", "list").stdout
        for qid in ids:
            self.assertIn(qid, listing)
        shown = self.gw.cli("quarantine", "show", ids[0]).stdout
        self.assertIn("status held", shown)
        self.assertIn('"action":"quarantine"', shown)
        r = self.gw.cli("quarantine", "release", ids[0])
        self.assertEqual(r.returncode, 0, r.stderr)
        files = self.gw.wait_for(lambda: self.gw.maildir_files("alice@example.com"), 30, "released delivery")
        self.assertEqual(len(files), 1)
        self.assertIn(ids[0], self.gw.cli("quarantine", "list", "--status", "released").stdout)
        self.assertEqual(self.gw.cli("quarantine", "release", ids[0]).returncode, 2)  # not held any more
        self.assertEqual(self.gw.cli("quarantine", "delete", ids[1]).returncode, 0)
        self.assertIn(ids[1], self.gw.cli("quarantine", "list", "--status", "deleted").stdout)
        self.assertNotIn(ids[1], self.gw.cli("quarantine", "list").stdout)

    def test_reject_names_the_queue_id(self):
        self.gw = Bulwark({"policy.dangerous_file_action": "reject"}).start()
        code, text = send(self.gw, pe_attachment_message())
        self.assertEqual(code, 550, text)
        self.assertRegex(text, r"^550 5\.7\.1 Message rejected: .* \([0-9a-f]{20}\)$")
        time.sleep(0.5)
        self.assertEqual(self.gw.maildir_files("alice@example.com"), [])
        self.assertIn("0 shown", self.gw.cli("quarantine", "list").stdout)


class Operations(unittest.TestCase):
    def tearDown(self):
        self.gw.cleanup()

    def test_sighup_reloads_without_dropping_connections(self):
        self.gw = Bulwark().start()
        old = SmtpConversation(self.gw.port)
        self.assertEqual(old.reply()[0], 220)
        self.gw.settings["smtp.max_recipients"] = 1
        self.gw.write_config()
        self.gw.signal(signal.SIGHUP)
        self.gw.wait_for(lambda: "event=reloaded" in self.gw.log(), 60, "reload")
        self.assertEqual(old.cmd("NOOP")[0], 250)  # the connection from before survives
        old.close()
        c = SmtpConversation(self.gw.port)
        c.reply()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<bob@sender.test>")
        self.assertEqual(c.cmd("RCPT TO:<a@example.com>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<b@example.com>"), (452, "452 4.5.3 Error: too many recipients"))
        c.close()
        with open(self.gw.config, "a") as f:
            f.write("[smtp]\nbogus = 1\n")
        self.gw.signal(signal.SIGHUP)
        self.gw.wait_for(lambda: "event=reload_failed" in self.gw.log(), 60, "refused reload")
        self.assertEqual(send(self.gw, message())[0], 250)  # still serving, old settings

    def test_sigterm_drains(self):
        self.gw = Bulwark().start()
        busy = SmtpConversation(self.gw.port)
        busy.reply()
        busy.cmd("EHLO client.test")
        busy.cmd("MAIL FROM:<bob@sender.test>")
        busy.cmd("RCPT TO:<alice@example.com>")
        self.assertEqual(busy.cmd("DATA")[0], 354)
        busy.send("Subject: in flight\r\n\r\nfirst half\r\n")
        idle = SmtpConversation(self.gw.port)
        idle.reply()
        idle.cmd("EHLO client.test")
        time.sleep(0.2)
        self.gw.signal(signal.SIGTERM)
        code, text = idle.reply()
        self.assertEqual(code, 421, text)
        self.assertIn("4.3.2", text)
        busy.send("second half\r\n.\r\n")
        code, text = busy.reply()
        self.assertEqual(code, 250, text)
        busy.close()
        idle.close()
        self.assertEqual(self.gw.proc.wait(30), 0)
        # Delivered before the exit, or safely spooled for the next start.
        if not self.gw.maildir_files("alice@example.com"):
            self.gw.start()
        files = self.gw.wait_for(lambda: self.gw.maildir_files("alice@example.com"), 30, "delivery")
        with open(files[0]) as f:
            self.assertIn("first half\nsecond half", f.read())

    def test_queue_commands(self):
        self.gw = Bulwark({"delivery.mode": "relay", "smtp.accepted_domains": ["example.com"],
                           "delivery.routes": [f"example.com=127.0.0.1:{free_port()}"],
                           "delivery.retry_initial_s": 60, "delivery.connect_timeout_s": 2}).start()
        ids = [send(self.gw, message())[1].split()[-1] for _ in range(2)]
        listing = self.gw.wait_for(lambda: (lambda out: out if out.count("attempts 1") == 2 else None)(
            self.gw.cli("queue", "list").stdout), 30, "two deferred messages")
        self.assertIn("2 messages queued", listing)
        for qid in ids:
            self.assertIn(qid, listing)
        shown = self.gw.cli("queue", "show", ids[0]).stdout
        self.assertIn("from bob@sender.test", shown)
        self.assertIn("rcpt alice@example.com", shown)
        self.assertIn("last_error", shown)
        self.assertEqual(self.gw.cli("queue", "delete", ids[0]).returncode, 0)
        self.assertIn("1 message queued", self.gw.cli("queue", "list").stdout)
        self.assertIn("due now", self.gw.cli("queue", "retry").stdout)
        self.assertEqual(self.gw.cli("queue", "show", "../etc").returncode, 2)
        self.assertRegex(self.gw.log(), rf"event=deferred id={ids[1]} to=alice@example.com")


if __name__ == "__main__":
    unittest.main()

"""Delivery status notifications end to end: a permanent refusal at the next hop returns the
message to its sender (RFC 3464 report through the real queue and a real smtp-sink), a
bounce is never bounced, and NOTIFY=SUCCESS gets a "delivered" report on final delivery."""
import os
import time
import unittest

from harness import Bulwark, SmtpConversation, message
from peers import SmtpSink, available


def send(gw, sender, rcpt_line, body):
    c = SmtpConversation(gw.port)
    try:
        assert c.reply()[0] == 220
        assert c.cmd("EHLO client.test")[0] == 250
        code, text = c.cmd(f"MAIL FROM:<{sender}>")
        assert code == 250, text
        code, text = c.cmd(rcpt_line)
        assert code == 250, text
        assert c.cmd("DATA")[0] == 354
        c.send(body + ".\r\n")
        code, text = c.reply()
        assert code == 250, text
        c.cmd("QUIT")
        return text.split()[-1]  # the queue id
    finally:
        c.close()


@unittest.skipIf(available(), available())
class PermanentFailureReturnsTheMessage(unittest.TestCase):
    def setUp(self):
        # example.com's server refuses every recipient for good; sender.test's takes all.
        self.refusing = SmtpSink(extra_args=["-f", "RCPT"]).start()
        self.senders = SmtpSink().start()
        self.gw = Bulwark({
            "delivery.mode": "relay",
            "smtp.accepted_domains": ["example.com"],
            "delivery.routes": [f"example.com=127.0.0.1:{self.refusing.port}",
                                f"sender.test=127.0.0.1:{self.senders.port}"],
            "delivery.tls": "none",
        }).start()

    def tearDown(self):
        self.gw.cleanup()
        self.refusing.cleanup()
        self.senders.cleanup()

    def test_bounce_reaches_the_sender_with_a_delivery_status_report(self):
        qid = send(self.gw, "alice@sender.test", "RCPT TO:<bob@example.com> ORCPT=rfc822;bob+40example.com",
                   message(subject="will bounce", sender="alice@sender.test", to="bob@example.com"))
        self.assertEqual(self.senders.wait_count(1, 30), 1, self.gw.log()[-3000:])
        (_, dsn), = self.senders.messages()
        text = dsn.decode(errors="replace")
        self.assertIn("multipart/report", text)
        self.assertIn("report-type=delivery-status", text)
        self.assertIn("Final-Recipient: rfc822; bob@example.com", text)
        self.assertIn("Original-Recipient: rfc822;bob@example.com", text)
        self.assertIn("Action: failed", text)
        self.assertRegex(text, r"Status: 5\.\d+\.\d+")
        self.assertIn("Subject: will bounce", text)  # the original came back (RET=FULL default)
        self.assertIn("MAILER-DAEMON@gw.test", text)
        # The original left the spool; the log tells the story with its id.
        self.gw.wait_for(lambda: "0 messages queued" in self.gw.cli("queue", "list").stdout, 30, "empty queue")
        log = self.gw.log()
        self.assertRegex(log, rf"event=bounced id={qid} to=bob@example.com")
        self.assertRegex(log, rf"event=dsn_queued id={qid} dsn_id=[0-9a-f]{{20}} to=alice@sender.test")

    def test_a_bounce_is_never_bounced(self):
        qid = send(self.gw, "", "RCPT TO:<bob@example.com>", message(subject="null sender", to="bob@example.com"))
        self.gw.wait_for(lambda: f"event=bounced id={qid}" in self.gw.log(), 30, "the refusal")
        self.gw.wait_for(lambda: "0 messages queued" in self.gw.cli("queue", "list").stdout, 30, "empty queue")
        time.sleep(1)
        self.assertEqual(self.senders.count(), 0)
        self.assertNotIn("dsn_queued", self.gw.log())

    def test_notify_never_means_no_report(self):
        qid = send(self.gw, "alice@sender.test", "RCPT TO:<bob@example.com> NOTIFY=NEVER",
                   message(subject="quiet", sender="alice@sender.test", to="bob@example.com"))
        self.gw.wait_for(lambda: f"event=bounced id={qid}" in self.gw.log(), 30, "the refusal")
        time.sleep(1)
        self.assertEqual(self.senders.count(), 0)


class SuccessReportOnFinalDelivery(unittest.TestCase):
    def setUp(self):
        self.gw = Bulwark().start()  # embedded default: final delivery into Maildirs

    def tearDown(self):
        self.gw.cleanup()

    def test_notify_success_gets_a_delivered_report(self):
        send(self.gw, "alice@sender.test", "RCPT TO:<bob@example.com> NOTIFY=SUCCESS",
             message(subject="tell me", sender="alice@sender.test", to="bob@example.com"))
        files = self.gw.wait_for(lambda: self.gw.maildir_files("alice@sender.test"), 30, "the report")
        with open(files[0], errors="replace") as f:
            text = f.read()
        self.assertIn("Action: delivered", text)
        self.assertIn("Final-Recipient: rfc822; bob@example.com", text)
        self.assertIn("Return-Path: <>", text)
        self.assertEqual(len(self.gw.maildir_files("bob@example.com")), 1)

    def test_default_notify_sends_nothing_on_success(self):
        send(self.gw, "alice@sender.test", "RCPT TO:<bob@example.com>", message(sender="alice@sender.test"))
        self.gw.wait_for(lambda: self.gw.maildir_files("bob@example.com"), 30, "delivery")
        time.sleep(1)
        self.assertEqual(self.gw.maildir_files("alice@sender.test"), [])


if __name__ == "__main__":
    unittest.main()

"""Guarded auto-learning (classify.autolearn) in the real gateway: a message the rules are
sure is spam and one they are sure is ham are learned into the model on disk, each once; the
classifier reads none of it until told to reload; with autolearn off nothing is written."""
import os
import signal
import sqlite3
import unittest

from harness import Bulwark, message, send

SPAM = message(subject="FREE MONEY!!! ACT NOW", sender="winner@lotto.test", body=(
    "Dear Friend,\r\n\r\nYou have been selected to receive $1,000,000 CASH!!! This is not spam.\r\n"
    "Click here to claim your prize: http://198.51.100.7/claim\r\n"
    "Act now, this offer expires today! 100% guaranteed, risk-free, no obligation.\r\n"
    "To be removed from our mailing list, reply with REMOVE in the subject.\r\n"))
HAM = message(subject="lunch on thursday", body=(
    "Hi Alice,\r\n\r\nAre we still on for lunch on Thursday? I can book the usual place.\r\n\r\nBob\r\n")).replace(
    "From: <", "From: Bob Jones <", 1)  # a person's mail names its sender
UNSURE = message(subject="invoice", body="Please find the invoice below. Click here to pay.\r\n")


class AutoLearn(unittest.TestCase):
    def tearDown(self):
        self.gw.cleanup()

    def model(self):
        return os.path.join(self.gw.data_dir, "classifier.sqlite3")

    def test_confident_verdicts_are_learned_once(self):
        self.gw = Bulwark({"classify.autolearn": True}).start()
        for data in (SPAM, HAM, UNSURE, SPAM):  # the second SPAM is the same bytes: known
            code, text = send(self.gw, data)
            self.assertEqual(code, 250, text)
        self.gw.wait_for(lambda: self.gw.log().count("event=decision") >= 4, 30, "decisions")
        self.gw.stop()  # SIGTERM: pending learning is committed on the way out
        log = self.gw.log()
        self.assertEqual(log.count("event=autolearn "), 2, log)
        self.assertRegex(log, r"event=autolearn id=\S+ class=spam")
        self.assertRegex(log, r"event=autolearn id=\S+ class=ham")
        db = sqlite3.connect(self.model())
        try:
            meta = dict(db.execute("SELECT key, value FROM meta"))
            self.assertEqual(meta["spam_messages"], 1)
            self.assertEqual(meta["ham_messages"], 1)
            self.assertEqual(db.execute("SELECT count(*) FROM learned").fetchone()[0], 2)
            spam_tokens = db.execute("SELECT count(*) FROM tokens WHERE spam > 0").fetchone()[0]
            ham_tokens = db.execute("SELECT count(*) FROM tokens WHERE ham > 0").fetchone()[0]
            self.assertGreater(spam_tokens, 10)
            self.assertGreater(ham_tokens, 5)
        finally:
            db.close()

    def test_reload_keeps_learning_and_default_is_off(self):
        self.gw = Bulwark().start()
        self.assertEqual(send(self.gw, SPAM)[0], 250)
        self.gw.wait_for(lambda: "event=decision" in self.gw.log(), 30, "decision")
        self.assertFalse(os.path.exists(self.model()), "autolearn is off by default")
        self.assertNotIn("event=autolearn", self.gw.log())
        # Switched on by a reload, it learns from the next message.
        self.gw.settings["classify.autolearn"] = True
        self.gw.write_config()
        self.gw.signal(signal.SIGHUP)
        self.gw.wait_for(lambda: "event=reloaded" in self.gw.log(), 30, "reload")
        self.assertEqual(send(self.gw, HAM)[0], 250)
        self.gw.wait_for(lambda: "event=autolearn" in self.gw.log(), 30, "autolearn")
        self.gw.stop()
        db = sqlite3.connect(self.model())
        try:
            meta = dict(db.execute("SELECT key, value FROM meta"))
            self.assertEqual((meta["spam_messages"], meta["ham_messages"]), (0, 1))
        finally:
            db.close()


if __name__ == "__main__":
    unittest.main()

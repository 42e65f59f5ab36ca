"""Outbound routing end to end: MX lookup through a real DNS server (dnsmasq on 127.0.0.1)
to a real smtp-sink, null MX and unknown domains returned to the sender, and the PROXY v2
header of a load balancer naming the real client."""
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import unittest

from harness import Bulwark, SmtpConversation, free_port, message, wait_port
from peers import SmtpSink, available

DNSMASQ = "/usr/sbin/dnsmasq"


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class Dns:
    """dnsmasq answering only for the test's zone, on a free UDP/TCP port of 127.0.0.1."""

    def __init__(self, records):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="bulwark-dns-")
        args = [DNSMASQ, "--keep-in-foreground", "--no-daemon", f"--port={self.port}", "--listen-address=127.0.0.1",
                "--bind-interfaces", "--no-resolv", "--no-hosts", "--no-dhcp-interface=", "-u", "root",
                f"--pid-file={self.dir}/pid", "--log-facility=-"] + records
        with open(f"{self.dir}/log", "w") as log:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log)
        wait_port(self.port, 10, self.proc)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def send(gw, sender, rcpt, body, lines_before=()):
    c = SmtpConversation(gw.port)
    try:
        for raw in lines_before:
            c.send(raw)
        code, text = c.reply()
        assert code == 220, text
        assert c.cmd("EHLO client.test")[0] == 250
        assert c.cmd(f"MAIL FROM:<{sender}>")[0] == 250
        code, text = c.cmd(f"RCPT TO:<{rcpt}>")
        assert code == 250, text
        assert c.cmd("DATA")[0] == 354
        c.send(body + ".\r\n")
        code, text = c.reply()
        assert code == 250, text
        c.cmd("QUIT")
        return text.split()[-1]
    finally:
        c.close()


@unittest.skipIf(available() or not os.path.exists(DNSMASQ), "needs smtp-sink and dnsmasq")
@unittest.skipUnless(port_free(25), "127.0.0.1:25 is taken: MX delivery goes to port 25")
class MxDelivery(unittest.TestCase):
    def setUp(self):
        self.mx = SmtpSink(port=25).start()          # the destination domain's MX host
        self.senders = SmtpSink().start()             # where returned mail for sender.test goes
        self.dns = Dns(["--mx-host=far.test,mx1.far.test,10", "--host-record=mx1.far.test,127.0.0.1",
                        "--mx-host=nomail.test,.,0", "--host-record=nomail.test,127.0.0.1",
                        "--local=/far.test/", "--local=/nomail.test/", "--local=/nowhere.test/"])
        self.gw = Bulwark({
            "delivery.mode": "relay",
            "smtp.accepted_domains": ["example.com"],
            "delivery.routes": [f"sender.test=127.0.0.1:{self.senders.port}"],
            "delivery.resolver": f"127.0.0.1:{self.dns.port}",
            "delivery.tls": "none",
        }).start()

    def tearDown(self):
        self.gw.cleanup()
        self.dns.stop()
        self.mx.cleanup()
        self.senders.cleanup()

    def test_outbound_mail_goes_to_the_mx_host(self):
        # 127.0.0.1 is a trusted network by default: an internal server sending out.
        qid = send(self.gw, "alice@sender.test", "carol@far.test", message(subject="via mx", to="carol@far.test"))
        self.assertEqual(self.mx.wait_count(1, 30), 1, self.gw.log()[-3000:])
        self.assertIn(b"Subject: via mx", self.mx.messages()[0][1])
        self.assertRegex(self.gw.log(), rf"event=delivered id={qid} to=carol@far.test via=127.0.0.1\[127.0.0.1\]:25")

    def test_null_mx_and_unknown_domains_are_returned_at_once(self):
        for rcpt, status in (("x@nomail.test", "5.1.10"), ("y@nowhere.test", "5.1.2")):
            qid = send(self.gw, "alice@sender.test", rcpt, message(to=rcpt))
            self.gw.wait_for(lambda: f"event=bounced id={qid} to={rcpt} status={status}" in self.gw.log(), 30,
                             f"{rcpt} returned")
        self.assertEqual(self.senders.wait_count(2, 30), 2)
        self.assertEqual(self.mx.count(), 0)


class ProxyProtocol(unittest.TestCase):
    def setUp(self):
        self.gw = Bulwark({"smtp.proxy_protocol": True, "smtp.proxy_from": ["127.0.0.1/32"],
                           "smtp.trusted_networks": []}).start()

    def tearDown(self):
        self.gw.cleanup()

    @staticmethod
    def header(src, dst="192.0.2.10", sport=40000, dport=25):
        body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
        return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body

    def test_the_client_address_comes_from_the_header(self):
        qid = send(self.gw, "a@sender.test", "bob@example.com", message(), lines_before=[self.header("198.51.100.7")])
        self.gw.wait_for(lambda: self.gw.maildir_files("bob@example.com"), 30, "delivery")
        with open(self.gw.maildir_files("bob@example.com")[0]) as f:
            self.assertIn("([198.51.100.7])", f.read())
        self.assertRegex(self.gw.log(), rf"event=decision id={qid} client=198.51.100.7 ")

    def test_a_connection_without_the_header_is_dropped(self):
        c = SmtpConversation(self.gw.port)
        c.send("EHLO client.test\r\n" + "x" * 20)
        self.assertTrue(c.closed(10))
        self.assertEqual(c.buf, b"")  # not even a greeting
        c.close()
        self.assertIn("event=proxy_malformed", self.gw.log())


if __name__ == "__main__":
    unittest.main()

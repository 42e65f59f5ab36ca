"""Shared pieces of the end-to-end tests: free ports, a `bulwark serve` started with its own
config and data directory on 127.0.0.1, and small SMTP helpers. Real processes only."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BULWARK = os.environ.get("BULWARK_BINARY", "")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


class Bulwark:
    """`bulwark serve` in a temporary directory. `settings` maps "section.key" to values
    that override the test defaults (a free port, data under the temp dir, 1 worker)."""

    def __init__(self, settings=None, workdir=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="bulwark-e2e-")
        self.port = free_port()
        self.settings = {
            "smtp.listen": f"127.0.0.1:{self.port}",
            "smtp.hostname": "gw.test",
            "spool.data_dir": os.path.join(self.dir, "var"),
            "spool.min_free_mb": 0,
            "sandbox.workers": 1,
        }
        self.settings.update(settings or {})
        self.config = os.path.join(self.dir, "bulwark.toml")
        self.log_path = os.path.join(self.dir, "bulwark.log")
        self.proc = None
        self.write_config()

    def write_config(self):
        sections = {}
        for key, value in self.settings.items():
            section, name = key.split(".", 1)
            sections.setdefault(section, []).append(f"{name} = {toml_value(value)}")
        with open(self.config, "w") as f:
            for section, lines in sections.items():
                f.write(f"[{section}]\n" + "\n".join(lines) + "\n\n")

    @property
    def data_dir(self):
        return self.settings["spool.data_dir"]

    def start(self, timeout=60.0):
        with open(self.log_path, "a") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen([BULWARK, "serve", "--config", self.config], stdout=log, stderr=log,
                                         cwd=self.dir, start_new_session=True)
        wait_port(self.port, timeout, self.proc)
        return self

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill9(self):
        os.killpg(self.proc.pid, signal.SIGKILL)  # the supervisor and its scan workers
        self.proc.wait()

    def stop(self, timeout=60.0):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def cli(self, *args, input=None):
        """Runs another bulwark verb against the same config; returns CompletedProcess."""
        return subprocess.run([BULWARK, *args, "--config", self.config], capture_output=True, text=True,
                              input=input, timeout=120)

    def maildir_files(self, address=None):
        root = os.path.join(self.data_dir, "maildir")
        out = []
        for dirpath, _, files in os.walk(root):
            if os.path.basename(dirpath) != "new":
                continue
            if address and os.path.basename(os.path.dirname(dirpath)) != address:
                continue
            out += [os.path.join(dirpath, f) for f in files]
        return sorted(out)

    def wait_for(self, predicate, timeout=30.0, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"timed out waiting for {what}\n--- bulwark log ---\n{self.log()[-4000:]}")

    def cleanup(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class SmtpConversation:
    """A raw SMTP client for exact protocol tests (bytes in, replies out)."""

    def __init__(self, port, timeout=30.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def reply(self):
        """One complete (possibly multi-line) reply as (code, text)."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed; got " + repr(self.buf))
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode(errors="replace"))
            if len(line) < 4 or line[3:4] != b"-":
                return int(lines[-1][:3]), "\n".join(lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self, timeout=5.0):
        """True when the server closed the connection (after any pending replies)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def message(subject="test", body="Hello.\r\n", sender="a@sender.test", to="user@example.com", extra=""):
    return (f"From: <{sender}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nMessage-ID: <{time.time_ns()}@sender.test>\r\n"
            f"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n{extra}\r\n{body}")


def send(gw, body, rcpts=("alice@example.com",)):
    """One message from bob@sender.test on a fresh connection; returns the DATA reply."""
    c = SmtpConversation(gw.port)
    try:
        assert c.reply()[0] == 220
        assert c.cmd("EHLO client.test")[0] == 250
        assert c.cmd("MAIL FROM:<bob@sender.test>")[0] == 250
        for r in rcpts:
            code, text = c.cmd(f"RCPT TO:<{r}>")
            assert code == 250, text
        assert c.cmd("DATA")[0] == 354
        c.send(body + ".\r\n")
        return c.reply()
    finally:
        c.close()

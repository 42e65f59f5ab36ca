"""SMTP peers for the end-to-end tests and the benchmark, all on 127.0.0.1:

- SmtpSink: Postfix's /usr/sbin/smtp-sink, optionally writing every message it takes to a
  file of its own (-d), always counting messages (-c, read from its stdout).
- run_smtp_source(): Postfix's /usr/sbin/smtp-source, timed.
- LoadClient: our own threaded SMTP client for when every message must be told apart (a
  unique Subject / Message-ID per message) and its fate recorded: 250 (with the time from the
  end of DATA to the reply), retried after a 4xx or a broken connection, or refused with 5xx.
"""
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from harness import free_port, wait_port

SMTP_SINK = "/usr/sbin/smtp-sink"
SMTP_SOURCE = "/usr/sbin/smtp-source"
SINK_USER = "nobody"  # smtp-sink refuses to keep root privileges (-u)


def available():
    """Why smtp-sink/smtp-source cannot be used here, or ""."""
    for path in (SMTP_SINK, SMTP_SOURCE):
        if not os.access(path, os.X_OK):
            return f"{path} is missing"
    return ""


class SmtpSink:
    """smtp-sink on 127.0.0.1:port. With dump=True each message is written to its own file
    under self.dump_dir (smtp-sink's -d format: its X-* and Received: lines, then the
    message, LF line ends). count() is the number of completed DATA transactions."""

    def __init__(self, port=None, dump=True, hostname="sink.test", extra_args=(), workdir=None):
        self.port = port or free_port()
        self.dump = dump
        self.hostname = hostname
        self.extra_args = list(extra_args)
        self.own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="bulwark-sink-")
        os.chmod(self.dir, 0o755)
        self.dump_dir = os.path.join(self.dir, "dump")
        os.makedirs(self.dump_dir, exist_ok=True)
        os.chmod(self.dump_dir, 0o755)
        if os.geteuid() == 0:
            pw = pwd.getpwnam(SINK_USER)
            os.chown(self.dump_dir, pw.pw_uid, pw.pw_gid)
        self.proc = None
        self._reader = None
        self._count = 0
        self._sessions = 0
        self._lock = threading.Lock()
        self.stderr_path = os.path.join(self.dir, "sink.stderr")

    def start(self, timeout=15.0):
        args = [SMTP_SINK, "-c", "-h", self.hostname, "-m", "512"]
        if os.geteuid() == 0:
            args += ["-u", SINK_USER]
        if self.dump:
            args += ["-d", os.path.join(self.dump_dir, "m.")]
        args += self.extra_args + [f"127.0.0.1:{self.port}", "512"]
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, start_new_session=True)
        self._reader = threading.Thread(target=self._read_counter, daemon=True)
        self._reader.start()
        wait_port(self.port, timeout, self.proc)
        return self

    def _read_counter(self):
        # "sess=%d quit=%d mesg=%d\r" after every session end, QUIT and "."
        pattern = re.compile(rb"sess=(\d+) quit=(\d+) mesg=(\d+)")
        buf = b""
        stream = self.proc.stdout
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(4096)
            if not chunk:
                return
            buf += chunk
            parts = buf.split(b"\r")
            buf = parts.pop()
            for part in reversed(parts):
                m = pattern.search(part)
                if m:
                    with self._lock:
                        self._sessions = int(m.group(1))
                        self._count = int(m.group(3))
                    break

    def count(self):
        with self._lock:
            return self._count

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_count(self, n, timeout=60.0):
        """Waits until at least n messages were taken; returns the count (maybe < n on timeout)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.count() >= n:
                return self.count()
            time.sleep(0.02)
        return self.count()

    def files(self):
        out = []
        for dirpath, _, names in os.walk(self.dump_dir):
            out += [os.path.join(dirpath, f) for f in names]
        return sorted(out)

    def messages(self):
        """[(path, bytes)] of the dumped messages (the sink's own lines included)."""
        out = []
        for path in self.files():
            try:
                with open(path, "rb") as f:
                    out.append((path, f.read()))
            except FileNotFoundError:  # an aborted transaction's file, removed meanwhile
                pass
        return out

    def header_values(self, name):
        """{value: occurrences} of header `name` over every dumped message."""
        key = name.lower().encode() + b":"
        seen = {}
        for _, data in self.messages():
            for value in header_lines(data, key):
                seen[value] = seen.get(value, 0) + 1
        return seen

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self._reader:
            self._reader.join(5)
        self.proc.stdout.close()
        self.proc = None

    def stderr(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def cleanup(self):
        try:
            self.stop()
        finally:
            if self.own_dir:
                shutil.rmtree(self.dir, ignore_errors=True)


def header_lines(data, key):
    """Values (str, unfolded, stripped) of the header whose lowercased 'name:' is `key` (bytes)
    in the header block of `data` (CRLF or LF line ends)."""
    out = []
    text = data.replace(b"\r\n", b"\n")
    head = text.split(b"\n\n", 1)[0]
    current = None
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and current is not None:
            current += b" " + line.strip()
            continue
        if current is not None:
            out.append(current.decode(errors="replace").strip())
            current = None
        if line.lower().startswith(key):
            current = line[len(key):]
    if current is not None:
        out.append(current.decode(errors="replace").strip())
    return out


class SourceResult:
    def __init__(self, returncode, seconds, stdout, stderr):
        self.returncode = returncode
        self.seconds = seconds
        self.stdout = stdout
        self.stderr = stderr
        counts = re.findall(r"(\d+)\s*\r?$", stdout.replace("\r", "\n"), re.M)
        self.counter = int(counts[-1]) if counts else None  # -c: DATA transactions completed

    def __repr__(self):
        return (f"SourceResult(rc={self.returncode}, {self.seconds:.2f}s, counter={self.counter}, "
                f"stderr={self.stderr[-500:]!r})")


def run_smtp_source(port, messages, sessions=1, size=0, sender="source@sender.test",
                    recipient="user@example.com", subject=None, helo="source.test", reuse=False,
                    message_file=None, extra_args=(), timeout=300.0):
    """Runs smtp-source against 127.0.0.1:port and returns a SourceResult (timed)."""
    args = [SMTP_SOURCE, "-c", "-s", str(sessions), "-m", str(messages), "-M", helo,
            "-f", sender, "-t", recipient]
    if size:
        args += ["-l", str(size)]
    if subject:
        args += ["-S", subject]
    if reuse:
        args.append("-d")
    if message_file:
        args += ["-F", message_file]
    args += list(extra_args) + [f"127.0.0.1:{port}"]
    start = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return SourceResult(-9, time.monotonic() - start, out.decode(errors="replace"),
                            err.decode(errors="replace") + f"\n(killed after {timeout}s)")
    return SourceResult(proc.returncode, time.monotonic() - start, out.decode(errors="replace"),
                        err.decode(errors="replace"))


# --- our own load client ---------------------------------------------------------------

class _Conn:
    def __init__(self, port, timeout, helo):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        code, text = self.reply()
        if code != 220:
            raise _Temp(code, text)
        code, text = self.cmd(f"EHLO {helo}")
        if code != 250:
            raise _Temp(code, text)

    def reply(self):
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed by the server")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode(errors="replace"))
            if len(line) < 4 or line[3:4] != b"-":
                try:
                    return int(lines[-1][:3]), "\n".join(lines)
                except ValueError:
                    raise ConnectionError("garbled reply: " + repr(lines)) from None

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\r\n")
        return self.reply()

    def close(self, polite=True):
        try:
            if polite:
                self.sock.settimeout(2)
                self.cmd("QUIT")
        except (OSError, ConnectionError):
            pass
        try:
            self.sock.close()
        except OSError:
            pass


class _Temp(Exception):
    def __init__(self, code, text):
        super().__init__(f"{code} {text}")
        self.code = code
        self.text = text


def dot_stuff(body):
    """CRLF text with dot-stuffing, ready to follow DATA (without the final '.')."""
    body = body.replace("\r\n", "\n").replace("\n", "\r\n")
    if not body.endswith("\r\n"):
        body += "\r\n"
    lines = body.split("\r\n")
    return "\r\n".join("." + l if l.startswith(".") else l for l in lines)


class LoadClient:
    """Sends messages make(i) for i in range(n) over `sessions` concurrent connections to
    127.0.0.1:port, reusing connections. A 4xx reply or a broken/refused connection means
    "try again" (after `retry_delay`), until `deadline` seconds have passed. A 5xx is final.

    After run(): accepted {i: (reply, seconds from the end of DATA to the reply)},
    refused {i: reply}, tempfails {i: [replies]} (every 4xx/connection error seen on the way),
    unfinished [i] (never got a final answer before the deadline)."""

    def __init__(self, port, make, n, sessions=10, sender="load@sender.test",
                 recipient="user@example.com", timeout=60.0, deadline=240.0, retry_delay=0.1,
                 helo="load.test"):
        self.port = port
        self.make = make
        self.n = n
        self.sessions = sessions
        self.sender = sender
        self.recipient = recipient
        self.timeout = timeout
        self.deadline = deadline
        self.retry_delay = retry_delay
        self.helo = helo
        self.accepted = {}
        self.refused = {}
        self.tempfails = {}
        self.unfinished = []
        self.connection_errors = 0
        self._lock = threading.Lock()
        self._next = 0
        self._retry = []
        self._stop = False
        self.on_accept = None  # optional callback(i, reply), called from a sender thread

    def _take(self):
        with self._lock:
            if self._retry:
                return self._retry.pop(0)
            if self._next < self.n:
                self._next += 1
                return self._next - 1
            return None

    def _again(self, i, why):
        with self._lock:
            self.tempfails.setdefault(i, []).append(why)
            self._retry.append(i)

    def accepted_count(self):
        with self._lock:
            return len(self.accepted)

    def _worker(self, end):
        conn = None
        pending = None
        while time.monotonic() < end and not self._stop:
            i = pending if pending is not None else self._take()
            pending = None
            if i is None:
                with self._lock:
                    done = self._next >= self.n and not self._retry and \
                        len(self.accepted) + len(self.refused) >= self.n
                if done:
                    break
                time.sleep(0.02)  # others may still hand work back
                continue
            try:
                if conn is None:
                    conn = _Conn(self.port, self.timeout, self.helo)
                code, text = conn.cmd(f"MAIL FROM:<{self.sender}>")
                if code != 250:
                    raise _Temp(code, text)
                code, text = conn.cmd(f"RCPT TO:<{self.recipient}>")
                if code != 250:
                    raise _Temp(code, text)
                code, text = conn.cmd("DATA")
                if code != 354:
                    raise _Temp(code, text)
                payload = dot_stuff(self.make(i)).encode("utf-8", errors="surrogateescape")
                conn.sock.sendall(payload + b".\r\n")
                t0 = time.monotonic()
                code, text = conn.reply()
                took = time.monotonic() - t0
                if code == 250:
                    with self._lock:
                        self.accepted[i] = (text, took)
                    if self.on_accept:
                        self.on_accept(i, text)
                else:
                    raise _Temp(code, text)
            except _Temp as e:
                if 500 <= e.code < 600:
                    with self._lock:
                        self.refused[i] = e.text
                    if conn is not None:  # the transaction is over; RSET in case it is not
                        try:
                            conn.cmd("RSET")
                        except (OSError, ConnectionError):
                            conn.close(False)
                            conn = None
                    continue
                self._again(i, e.text)
                if conn is not None:
                    conn.close()
                    conn = None
                time.sleep(self.retry_delay)
            except (OSError, ConnectionError) as e:
                with self._lock:
                    self.connection_errors += 1
                self._again(i, f"connection: {e}")
                if conn is not None:
                    conn.close(False)
                    conn = None
                time.sleep(self.retry_delay)
        if conn is not None:
            conn.close()

    def run(self):
        start = time.monotonic()
        end = start + self.deadline
        threads = [threading.Thread(target=self._worker, args=(end,), daemon=True) for _ in range(self.sessions)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(1.0, end - time.monotonic() + 30))
        self._stop = True
        self.seconds = time.monotonic() - start
        with self._lock:
            finished = set(self.accepted) | set(self.refused)
            self.unfinished = sorted(set(range(self.n)) - finished)
        return self

    def latencies(self):
        return sorted(t for _, t in self.accepted.values())


def percentile(values, p):
    """The p-th percentile (0..100) of sorted `values`, nearest rank; None when empty."""
    if not values:
        return None
    k = max(0, min(len(values) - 1, int(round(p / 100.0 * len(values) + 0.5)) - 1))
    return values[k]

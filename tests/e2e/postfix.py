"""A private Postfix instance for the end-to-end tests, run as root on 127.0.0.1 test ports.

Each instance takes one of a fixed set of "slots" under /var/tmp/bulwark-e2e-postfix (an
flock on the slot's lock file marks it in use, and is dropped automatically when the test
process dies). The slots' config directories are listed once in alternate_config_directories
of the system /etc/postfix/main.cf (appended idempotently), so `postfix -c`, `postqueue -c`
and friends accept them. A slot holds everything of its instance: etc/ (main.cf, master.cf),
queue/ (queue_directory), data/ (data_directory, owned by postfix), maillog (maillog_file,
written by the postlog service since there is no syslog here) and mail/ (virtual mailboxes).

    up = upstream_relay(bulwark_port)          # takes mail on up.port, relays all to Bulwark
    down = downstream_final(["example.com"])   # takes example.com on down.port into a maildir
    ... down.maildir_messages() ...
    up.cleanup(); down.cleanup()               # stops the instance, removes its files

Leftovers of a previous run that died (processes whose MAIL_CONFIG names a slot nobody holds)
are stopped when a slot is taken; kill_leftovers() does it for every free slot.
"""
import fcntl
import os
import shutil
import signal
import subprocess
import time

from harness import free_port, wait_port

ROOT = os.environ.get("BULWARK_E2E_POSTFIX_ROOT", "/var/tmp/bulwark-e2e-postfix")
SLOTS = 12
SYSTEM_MAIN_CF = "/etc/postfix/main.cf"
POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
POSTQUEUE = "/usr/sbin/postqueue"
NOBODY_UID = 65534
NOBODY_GID = 65534

# master.cf: every service unchrooted (the slot has no chroot jail), plus the test listener.
MASTER_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
tlsproxy  unix  -       -       n       -       0       tlsproxy
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def available():
    """Why Postfix cannot be used here, or "" when it can."""
    if os.geteuid() != 0:
        return "the Postfix peers need root"
    for path in (POSTFIX, POSTCONF, SYSTEM_MAIN_CF):
        if not os.path.exists(path):
            return f"{path} is missing"
    return ""


def _slot_dir(n):
    return os.path.join(ROOT, f"slot{n}")


def _etc(n):
    return os.path.join(_slot_dir(n), "etc")


def _register_config_dirs():
    """Lists every slot's etc/ in alternate_config_directories of the system main.cf, once."""
    os.makedirs(ROOT, mode=0o755, exist_ok=True)
    os.chmod(ROOT, 0o755)
    with open(os.path.join(ROOT, ".main-cf.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = subprocess.run([POSTCONF, "-h", "alternate_config_directories"], capture_output=True,
                                 text=True, timeout=30).stdout.strip()
        have = [d for d in current.replace(",", " ").split() if d]
        want = [_etc(n) for n in range(SLOTS)]
        missing = [d for d in want if d not in have]
        if missing:
            subprocess.run([POSTCONF, "-e", "alternate_config_directories = " + " ".join(have + missing)],
                           check=True, timeout=30)


def _processes_of(etc):
    """Pids of the processes whose environment says MAIL_CONFIG=etc (a master and its children)."""
    want = b"MAIL_CONFIG=" + etc.encode()
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if want in env:
            pids.append(int(name))
    return pids


def _stop_instance(etc, timeout=20.0):
    """Stops whatever runs from config directory `etc`: `postfix stop`, then SIGKILL to stragglers."""
    if os.path.exists(os.path.join(etc, "main.cf")) and _processes_of(etc):
        subprocess.run([POSTFIX, "-c", etc, "stop"], capture_output=True, timeout=60)
        deadline = time.time() + timeout
        while time.time() < deadline and _processes_of(etc):
            time.sleep(0.1)
    for pid in _processes_of(etc):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.time() + 10
    while time.time() < deadline and _processes_of(etc):
        time.sleep(0.05)


def _wipe(n):
    slot = _slot_dir(n)
    for entry in os.listdir(slot):
        if entry == "lock":
            continue
        path = os.path.join(slot, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


def kill_leftovers():
    """Stops and wipes the instances of slots nobody holds (a test process that died)."""
    if not os.path.isdir(ROOT):
        return
    for n in range(SLOTS):
        slot = _slot_dir(n)
        if not os.path.isdir(slot):
            continue
        fd = os.open(os.path.join(slot, "lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            _stop_instance(_etc(n))
            _wipe(n)
        finally:
            os.close(fd)


class Postfix:
    """One private Postfix instance. `settings` are main.cf parameters added to (or overriding)
    the common ones; the SMTP listener is 127.0.0.1:self.port."""

    def __init__(self, name, settings=None, port=None):
        why = available()
        if why:
            raise RuntimeError(why)
        _register_config_dirs()
        self.name = name
        self.port = port or free_port()
        self._lock_fd = None
        self.slot = None
        for n in range(SLOTS):
            os.makedirs(_slot_dir(n), mode=0o755, exist_ok=True)
            fd = os.open(os.path.join(_slot_dir(n), "lock"), os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self._lock_fd, self.slot = fd, n
            break
        if self.slot is None:
            raise RuntimeError(f"all {SLOTS} Postfix test slots under {ROOT} are in use")
        self.dir = _slot_dir(self.slot)
        self.etc = _etc(self.slot)
        _stop_instance(self.etc)  # whatever an earlier, dead run left in this slot
        _wipe(self.slot)
        self.queue = os.path.join(self.dir, "queue")
        self.data = os.path.join(self.dir, "data")
        self.mail = os.path.join(self.dir, "mail")
        self.maillog = os.path.join(self.dir, "maillog")
        for d in (self.etc, self.queue, self.data, self.mail):
            os.makedirs(d, mode=0o755, exist_ok=True)
            os.chmod(d, 0o755)
        os.chown(self.data, _postfix_uid(), -1)
        os.chmod(self.data, 0o700)
        os.chown(self.mail, NOBODY_UID, NOBODY_GID)
        self.settings = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": self.data,
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.dir,
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "myhostname": f"{name}.test",
            "mydomain": "test",
            "myorigin": "$myhostname",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "local_transport": "error:5.1.1 no local delivery here",
            "biff": "no",
            "append_dot_mydomain": "no",
            "smtpd_peername_lookup": "no",
            "smtp_dns_support_level": "disabled",
            "smtp_host_lookup": "native",
            "message_size_limit": str(64 << 20),
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "smtpd_banner": "$myhostname ESMTP Postfix (bulwark e2e)",
            # A test wants failures promptly, not after the production back-off.
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "5s",
            "smtp_connect_timeout": "5s",
            "delay_warning_time": "0h",
        }
        self.settings.update(settings or {})
        self.started = False

    def write_config(self):
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            for k, v in self.settings.items():
                f.write(f"{k} = {v}\n")
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(f"127.0.0.1:{self.port} inet n - n - - smtpd\n")
            f.write(MASTER_SERVICES)

    def start(self, timeout=30.0):
        self.write_config()
        r = subprocess.run([POSTFIX, "-c", self.etc, "start"], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"postfix -c {self.etc} start failed ({r.returncode}): {r.stdout}{r.stderr}\n"
                               f"--- maillog ---\n{self.log()[-4000:]}")
        self.started = True
        try:
            wait_port(self.port, timeout)
        except TimeoutError as e:
            raise TimeoutError(f"{e}\n--- maillog ---\n{self.log()[-4000:]}") from None
        return self

    def stop(self):
        _stop_instance(self.etc)
        self.started = False

    def cleanup(self):
        try:
            self.stop()
        finally:
            if self.slot is not None:
                _wipe(self.slot)
                os.close(self._lock_fd)
                self._lock_fd = None
                self.slot = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    def log(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def queued(self):
        """Messages in this instance's queue (incoming, active, deferred, hold, maildrop)."""
        n = 0
        for sub in ("maildrop", "incoming", "active", "deferred", "hold"):
            for _, _, files in os.walk(os.path.join(self.queue, sub)):
                n += len(files)
        return n

    def flush(self):
        """Asks the queue manager to retry deferred mail now."""
        subprocess.run([POSTQUEUE, "-c", self.etc, "-f"], capture_output=True, timeout=60)

    def maildir_files(self):
        """Delivered files (new/ and cur/) of every maildir under mail/."""
        out = []
        for dirpath, _, files in os.walk(self.mail):
            if os.path.basename(dirpath) in ("new", "cur"):
                out += [os.path.join(dirpath, f) for f in files]
        return sorted(out)

    def maildir_messages(self):
        """[(path, bytes)] for every delivered message."""
        out = []
        for path in self.maildir_files():
            try:
                with open(path, "rb") as f:
                    out.append((path, f.read()))
            except FileNotFoundError:  # moved new/ -> cur/ meanwhile: nobody does that here
                pass
        return out


def _postfix_uid():
    import pwd
    return pwd.getpwnam("postfix").pw_uid


def upstream_relay(next_hop_port, tls="may", port=None, settings=None):
    """A Postfix that takes any mail from 127.0.0.0/8 on its port and relays all of it to
    [127.0.0.1]:next_hop_port (relayhost); nothing is delivered locally."""
    s = {
        "relayhost": f"[127.0.0.1]:{next_hop_port}",
        "relay_domains": "",
        "smtpd_relay_restrictions": "permit_mynetworks, reject",
        "smtp_tls_security_level": tls,
        "smtp_tls_loglevel": "1",
        # Keep connections to the next hop open between deliveries (as busy relays do), so
        # the next hop sees several transactions per session.
        "smtp_connection_cache_destinations": f"[127.0.0.1]:{next_hop_port}",
        "smtp_tls_connection_reuse": "yes",  # TLS sessions too, through tlsproxy(8)
    }
    s.update(settings or {})
    return Postfix("upstream", s, port)


def downstream_final(domains=("example.com",), port=None, settings=None):
    """A Postfix that is the final destination of `domains`: their mail goes into one maildir,
    mail/inbox/, owned by nobody (virtual delivery). It sends nothing out."""
    s = {
        "virtual_mailbox_domains": " ".join(domains),
        "virtual_mailbox_base": None,  # filled below
        "virtual_mailbox_maps": "static:inbox/",
        "virtual_uid_maps": f"static:{NOBODY_UID}",
        "virtual_gid_maps": f"static:{NOBODY_GID}",
        "virtual_mailbox_limit": "0",
        "default_transport": "error:4.4.1 this test server sends no mail out",
        "relay_transport": "error:4.4.1 this test server sends no mail out",
    }
    s.update(settings or {})
    pf = Postfix("downstream", s, port)
    pf.settings["virtual_mailbox_base"] = pf.mail
    return pf

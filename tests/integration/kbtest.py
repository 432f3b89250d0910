"""Shared helpers for kubeboot's integration tests (run with Debian's /usr/bin/python3).

Every test runs inside tests/netns-run: a private network namespace with only loopback.
Tests print TAP through the `Tap` class; meson reads it (protocol: tap).
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "cluster"))

KUBEBOOT = os.environ.get("KUBEBOOT_BIN") or os.path.join(SRC, "build", "agent", "kubeboot")
KUBELET = os.path.join(SRC, "tests", "cluster", "kubelet.py")
PYTHON = "/usr/bin/python3"

EX_OK, EX_USAGE, EX_UNAVAILABLE, EX_SOFTWARE, EX_CANTCREAT, EX_CONFIG = 0, 64, 69, 70, 73, 78


def assert_in_netns():
    if os.environ.get("KUBEBOOT_IN_NETNS") != "1":
        sys.exit("run this test through tests/netns-run (it opens sockets)")


class Tap:
    """Minimal TAP producer; a failing check does not stop the test."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what, detail=None):
        self.n += 1
        print(("ok %d - %s" if cond else "not ok %d - %s") % (self.n, what), flush=True)
        if not cond:
            self.failed += 1
            if detail is not None:
                for line in str(detail).splitlines()[-40:]:
                    print("#   " + line, flush=True)
        return cond

    def skip(self, what, why):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, what, why), flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed else 0)


class Tree:
    """Files under self.top, a directory standing for a node's /: paths are given as the
    node sees them ("/etc/kubeboot/kubeboot.ini")."""

    top = None
    write_mode = 0o600

    def p(self, rel):
        return os.path.join(self.top, rel.lstrip("/"))

    def write(self, rel, content, mode=None):
        path = self.p(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(content)
        os.chmod(path, self.write_mode if mode is None else mode)
        return path

    def read(self, rel):
        with open(self.p(rel)) as f:
            return f.read()

    def exists(self, rel):
        return os.path.exists(self.p(rel))


class Root(Tree):
    """A node root for `kubeboot --root`, removed afterwards."""

    def __init__(self, prefix="kubeboot-it-"):
        self.path = self.top = tempfile.mkdtemp(prefix=prefix)

    def files(self):
        out = []
        for d, _, fs in os.walk(self.path):
            for f in fs:
                out.append(os.path.join(d, f))
        return out

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.cleanup()


class Run:
    def __init__(self, rc, out, err, seconds):
        self.rc, self.out, self.err, self.seconds = rc, out, err, seconds

    def __repr__(self):
        return "rc=%s (%.2fs)\nstdout:\n%s\nstderr:\n%s" % (self.rc, self.seconds, self.out, self.err)


def kubeboot(*args, root=None, cmdline=None, timeout=120, env=None):
    """Runs the kubeboot binary; cmdline is the kernel command line text (a file is made)."""
    argv = [KUBEBOOT]
    tmp = None
    if root is not None:
        argv.append("--root=" + (root.path if isinstance(root, Root) else root))
    if cmdline is not None:
        fd, tmp = tempfile.mkstemp(prefix="kubeboot-cmdline-")
        with os.fdopen(fd, "w") as f:
            f.write(cmdline)
        argv.append("--cmdline=" + tmp)
    argv += list(args)
    e = dict(os.environ)
    e.pop("JOURNAL_STREAM", None)
    e.update(env or {})
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=e)
    finally:
        if tmp:
            os.unlink(tmp)
    return Run(p.returncode, p.stdout, p.stderr, time.monotonic() - t0)


def one_handshake_discovery():
    """Does this binary prove the CA on the connection cluster-info came over (the portable
    build: libcurl over mbedTLS, agent/peer-trust-mbedtls.c) rather than by fetching it again (the distro
    build: Debian's libcurl over OpenSSL, as kubeadm)? From `kubeboot version`'s curl line."""
    r = kubeboot("version")
    return r.rc == 0 and " mbedTLS/" in r.out


def elf_needed(binary):
    """The DT_NEEDED entries of an ELF file, from readelf -d."""
    r = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True)
    return [ln.split("[", 1)[1].rstrip("]") for ln in r.stdout.splitlines() if "(NEEDED)" in ln]


def dlopen_notes(binary):
    """The JSON payloads of the FDO dlopen notes (https://systemd.io/ELF_DLOPEN_METADATA/)
    in binary's .note.dlopen section, each a list of {soname, feature, priority, ...}."""
    import json
    import struct
    with tempfile.NamedTemporaryFile() as out:
        r = subprocess.run(["objcopy", "-O", "binary", "--only-section=.note.dlopen", binary, out.name],
                           capture_output=True)
        data = out.read() if r.returncode == 0 else b""
    notes, off = [], 0
    while off + 12 <= len(data):
        namesz, descsz, ntype = struct.unpack_from("<III", data, off)
        off += 12
        name = data[off:off + namesz].rstrip(b"\0")
        off += (namesz + 3) & ~3
        desc = data[off:off + descsz].rstrip(b"\0")
        off += (descsz + 3) & ~3
        if name == b"FDO" and ntype == 0x407c0c0a:
            notes.append(json.loads(desc))
    return notes


class NotifySocket:
    """$NOTIFY_SOCKET as systemd provides it: every datagram kubeboot sends, kept. Read
    as they come, as systemd does: a sender blocks once a datagram socket's queue is full
    (net.unix.max_dgram_qlen, 10 where systemd did not raise it)."""

    def __init__(self, directory):
        import threading
        self.path = os.path.join(directory, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.got = []
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self):
        while not self.stopping:
            try:
                m = self.sock.recv(65536).decode("utf-8", "replace")
            except socket.timeout:
                continue
            with self.lock:
                self.got.append(m)

    def messages(self):
        """What arrived since the last call (after a moment for stragglers)."""
        time.sleep(0.2)
        with self.lock:
            out, self.got = self.got, []
        return out

    def close(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


def secret_of(token):
    return token.split(".", 1)[1]


def assert_no_secret(tap, token, texts, what):
    s = secret_of(token)
    leaked = [t for t in texts if t and s in t]
    tap.ok(not leaked, "the token secret appears nowhere in %s" % what, "\n".join(leaked)[:2000])


def run_kubelet(root, node_name=None, timeout=60, extra=()):
    """Runs the stand-in kubelet on a root the way the kubeadm drop-in does, until its
    Node is registered. Returns the Run."""
    r = root.path if isinstance(root, Root) else root
    flags = ""
    fpath = os.path.join(r, "var/lib/kubelet/kubeadm-flags.env")
    if os.path.exists(fpath):
        with open(fpath) as f:
            line = f.read().strip()
        flags = line.split("=", 1)[1].strip('"')
    argv = [PYTHON, KUBELET,
            "--bootstrap-kubeconfig=" + os.path.join(r, "etc/kubernetes/bootstrap-kubelet.conf"),
            "--kubeconfig=" + os.path.join(r, "etc/kubernetes/kubelet.conf"),
            "--config=" + os.path.join(r, "var/lib/kubelet/config.yaml"),
            "--root-dir=" + os.path.join(r, "var/lib/kubelet"),
            "--standin-exit-after-register"] + flags.split() + list(extra)
    t0 = time.monotonic()
    env = dict(os.environ, KUBELET_STANDIN_TIMEOUT=str(timeout))
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 10, env=env)
    return Run(p.returncode, p.stdout, p.stderr, time.monotonic() - t0)

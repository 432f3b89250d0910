"""Issue 8 (part A): faults of the node's file system and of the apiserver that
test_discovery.py and test_lifecycle.py do not cover. For each: the right exit code,
a message that names what failed, a bounded wall time, and nothing half-written (a later
run on a healthy root converges).

File system: a full disk (a 64 KiB tmpfs as --root), a read-only root, missing
directories, a file where a directory should be, a directory where a file should be.
The mounts live in a private mount namespace: the test re-executes itself under
`unshare --mount` (it already runs in tests/netns-run's network namespace), so nothing
it mounts is seen outside or outlives it, and each mount is undone in `finally` too.

Apiserver: a stall in the middle of a body, a server that accepts and never answers
(slow-loris handshake), a stall before the answer (the double's stall_seconds), a host
that does not resolve, a certificate from another CA than ca-cert, plain HTTP on the
https port, and 50 MB answers (with and without Content-Length) against the body cap,
with the memory kubeboot used measured."""
import atexit
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

# A private mount namespace first (before anything starts a thread or a server).
if os.environ.get("KB_FAULTS_MNTNS") != "1" and shutil.which("unshare") and \
        subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
    os.environ["KB_FAULTS_MNTNS"] = "1"
    os.execvp("unshare", ["unshare", "--mount", "--propagation", "private", "--", sys.executable] + sys.argv)
HAVE_MNTNS = os.environ.get("KB_FAULTS_MNTNS") == "1"

import yaml  # noqa: E402

from kbtest import *  # noqa: E402,F403
from double import ClusterDouble  # noqa: E402

assert_in_netns()
tap = Tap()
WRITE_ONLY = "--skip-phases=start,wait,finish"
outputs = []
# One apiserver request may take its whole timeout (agent/http.h HTTP_TIMEOUT_MS_DEFAULT,
# 10 s) after the deadline was checked: the bound of every deadline below.
REQUEST_TIMEOUT_S = 10
SLACK_S = 5


# --- helpers -------------------------------------------------------------------------

TIME = shutil.which("time", path="/usr/bin:/bin")


def run_kb(args, timeout=90):
    """kubeboot with its peak memory: (Run, max RSS in MiB, or None without GNU time).
    GNU time measures it: a child of this (large) Python process would carry the RSS it
    had at fork into its own maximum, past exec."""
    rss_file = tempfile.NamedTemporaryFile(prefix="kb-faults-rss-", delete=False)
    rss_file.close()
    argv = [KUBEBOOT] + list(args)
    if TIME:
        argv = [TIME, "-f", "%M", "-o", rss_file.name] + argv
    env = dict(os.environ)
    env.pop("JOURNAL_STREAM", None)
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, timeout=timeout)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = -9, e.stdout or "", (e.stderr or "") + "\n(killed after %d s)" % timeout
    r = Run(rc, out if isinstance(out, str) else out.decode(), err if isinstance(err, str) else err.decode(),
            time.monotonic() - t0)
    outputs.extend([r.out, r.err])
    with open(rss_file.name) as f:
        lines = [line for line in f.read().split() if line.isdigit()]
    os.unlink(rss_file.name)
    return r, (int(lines[-1]) / 1024.0 if lines else None)


def ini_text(c, token, server=None, extra="", pin=True, timeout="3s"):
    return ("[join]\ntoken = %s\nserver = %s\n%snode-name = fault-node\ndiscovery-timeout = %s\n%s"
            % (token, server or c.url, "ca-cert-hash = %s\n" % c.ca_pin if pin else "", timeout, extra))


class Config:
    """An ini outside the root (--config), so that a full or read-only root only affects
    what kubeboot writes."""

    def __init__(self, text):
        fd, self.path = tempfile.mkstemp(prefix="config-", suffix=".ini", dir=scratch)
        with os.fdopen(fd, "w") as f:
            f.write(text)

    def close(self):
        os.unlink(self.path)


def join_write(root, cfg, timeout=90):
    """join up to and including the write phase."""
    return run_kb(["join", WRITE_ONLY, "--root=" + root, "--cmdline=/dev/null", "--config=" + cfg.path],
                  timeout=timeout)


def walk(root):
    out = []
    for d, dirs, files in os.walk(root):
        for f in files:
            out.append(os.path.join(d, f))
    return out


def half_written(root, token):
    """What a reader of the root would find broken: temp files, a bootstrap kubeconfig
    that is not whole, the secret in any other file or in a file others may read."""
    problems = []
    secret = secret_of(token).encode()
    for f in walk(root):
        rel = f[len(root):]
        if ".kubeboot-" in os.path.basename(f):
            problems.append("temp file left: " + rel)
        try:
            with open(f, "rb") as fh:
                data = fh.read()
        except OSError as e:
            problems.append("%s: %s" % (rel, e))
            continue
        if secret in data and (rel != "/etc/kubernetes/bootstrap-kubelet.conf" or os.stat(f).st_mode & 0o077):
            problems.append("secret in %s (mode %o)" % (rel, os.stat(f).st_mode & 0o777))
    boot = os.path.join(root, "etc/kubernetes/bootstrap-kubelet.conf")
    if os.path.exists(boot):
        try:
            doc = yaml.safe_load(open(boot).read())
            user = doc["users"][0]["user"]
            if user.get("token") != token or not doc["clusters"][0]["cluster"].get("certificate-authority-data"):
                problems.append("bootstrap kubeconfig is not whole")
        except Exception as e:
            problems.append("bootstrap kubeconfig does not parse: %s" % e)
        for f in ("etc/kubernetes/pki/ca.crt", "var/lib/kubelet/config.yaml", "var/lib/kubelet/kubeadm-flags.env"):
            if not os.path.exists(os.path.join(root, f)):
                problems.append("bootstrap kubeconfig written before " + f)
    ca = os.path.join(root, "etc/kubernetes/pki/ca.crt")
    if os.path.exists(ca) and open(ca).read().count("END CERTIFICATE") != 1:
        problems.append("ca.crt is not whole")
    return problems


def converges(root, cfg, token, what):
    r, _ = join_write(root, cfg)
    problems = half_written(root, token)
    ok = r.rc == 0 and os.path.exists(os.path.join(root, "etc/kubernetes/bootstrap-kubelet.conf")) and not problems
    return tap.ok(ok, what, (r, problems))


def mount(*args):
    subprocess.run(["mount"] + list(args), check=True, capture_output=True)


def umount(path):
    subprocess.run(["umount", "-l", path], capture_output=True)


def fill(path, free_pages):
    """Fills the tmpfs at path until free_pages pages are left."""
    st = os.statvfs(path)
    left = st.f_bavail * st.f_frsize - free_pages * 4096
    with open(os.path.join(path, "filler"), "wb") as f:
        while left > 0:
            n = min(left, 4096)
            try:
                f.write(b"\0" * n)
                f.flush()
            except OSError:
                break
            left -= n


def snapshot(root):
    out = {}
    for f in walk(root):
        with open(f, "rb") as fh:
            out[f] = fh.read()
    return out


# --- fake apiservers -------------------------------------------------------------------

class RawServer:
    """A listening socket on 127.0.0.1 whose connections are handed to handler(conn,
    stop) in threads of their own; stop() closes everything and joins the threads."""

    def __init__(self, handler, tls=None):
        self.handler, self.tls = handler, tls
        self.stop_ev = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = "https://127.0.0.1:%d" % self.port
        self.conns, self.threads = [], []
        self.accepted = 0
        self.sent = 0
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._accept, daemon=True)
        self.t.start()

    def _accept(self):
        while not self.stop_ev.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            self.conns.append(conn)
            th = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(th)
            th.start()

    def _serve(self, conn):
        try:
            if self.tls:
                conn.settimeout(5)
                conn = self.tls.wrap_socket(conn, server_side=True)
                self.conns.append(conn)
            self.handler(self, conn)
        except (OSError, ssl.SSLError):
            pass

    def send(self, conn, data):
        conn.sendall(data)
        with self.lock:
            self.sent += len(data)

    def stop(self):
        self.stop_ev.set()
        self.t.join(5)
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self.sock.close()
        for th in self.threads:
            th.join(5)


def read_request(conn):
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def stall_mid_body(srv, conn):
    read_request(conn)
    srv.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
             b'{"kind":"ConfigMap","apiVersion":"v1","data":{"kubeconfig":"')
    srv.stop_ev.wait(120)


def never_answer(srv, conn):
    srv.stop_ev.wait(120)  # accepted; not a byte back, not even a ServerHello


def plain_http(srv, conn):
    conn.settimeout(5)
    conn.recv(4096)  # the ClientHello, read as if it were a request line
    srv.send(conn, b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
             b"400 Bad Request")


def not_http(srv, conn):
    read_request(conn)
    srv.send(conn, b"SSH-2.0-OpenSSH_9.2\r\n\r\n")


HUGE = 50 * 1024 * 1024


def huge(with_length):
    def handler(srv, conn):
        read_request(conn)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        head += b"Content-Length: %d\r\n\r\n" % HUGE if with_length else b"Connection: close\r\n\r\n"
        srv.send(conn, head + b'{"data":{"kubeconfig":"')
        chunk = b"A" * 65536
        left = HUGE
        conn.settimeout(10)
        while left > 0 and not srv.stop_ev.is_set():
            srv.send(conn, chunk)
            left -= len(chunk)
    return handler


def tls_context(c):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(c.serving_cert_path, c.serving_key_path)
    return ctx


def other_ca(directory):
    key, crt = os.path.join(directory, "other-ca.key"), os.path.join(directory, "other-ca.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", crt, "-days", "30", "-subj", "/CN=another-ca",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"],
                   check=True, capture_output=True)
    return crt


tokens = []
timings = []


def timed(what, r):
    timings.append((what, r.seconds))
    print("# %s: exit %d in %.2f s" % (what, r.rc, r.seconds), flush=True)


with ClusterDouble() as c:  # its own workdir, removed at the end
    c.install_seed_rbac()
    c.publish_cluster_info()
    scratch = tempfile.mkdtemp(prefix="kb-faults-")
    atexit.register(shutil.rmtree, scratch, True)

    # ================= the file system =================
    if not HAVE_MNTNS:
        for what in ("a full disk", "a read-only root", "a file in the way", "missing directories"):
            tap.skip(what, "no private mount namespace (unshare --mount failed)")
    else:
        # --- a full disk: the last file (the bootstrap kubeconfig) does not fit ---
        token = c.add_bootstrap_token()
        tokens.append(token)
        cfg = Config(ini_text(c, token))
        mnt = os.path.join(scratch, "full")
        os.makedirs(mnt)
        try:
            # room for ca.crt, config.yaml and kubeadm-flags.env, not for the kubeconfig: their
            # sizes in pages, measured on a healthy root
            sizing = tempfile.mkdtemp(prefix="sizing-", dir=scratch)
            join_write(sizing, cfg)
            pages = sum((os.path.getsize(os.path.join(sizing, f)) + 4095) // 4096
                        for f in ("etc/kubernetes/pki/ca.crt", "var/lib/kubelet/config.yaml",
                                  "var/lib/kubelet/kubeadm-flags.env"))
            shutil.rmtree(sizing)
            mount("-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", mnt)
            fill(mnt, pages)
            r, _ = join_write(mnt, cfg)
            timed("full disk during the write phase", r)
            boot = os.path.join(mnt, "etc/kubernetes/bootstrap-kubelet.conf")
            tap.ok(r.rc == EX_CANTCREAT and "No space left on device" in r.err and boot in r.err,
                   "disk full: 73, the message names the file and the reason", r)
            tap.ok(not os.path.exists(boot) and not half_written(mnt, token),
                   "disk full: no bootstrap kubeconfig, no temp file, no secret anywhere", half_written(mnt, token))
            tap.ok(r.seconds < 15, "disk full: fails at once (%.1f s)" % r.seconds)

            # completely full, over a complete earlier join: the old files stay as they were
            os.unlink(os.path.join(mnt, "filler"))
            converges(mnt, cfg, token, "disk full: once space is free, a re-run writes every file whole")
            before = snapshot(mnt)
            token2 = c.add_bootstrap_token()
            tokens.append(token2)
            cfg2 = Config(ini_text(c, token2))
            fill(mnt, 0)
            r, _ = join_write(mnt, cfg2)
            timed("full disk over an earlier join", r)
            after = {f: d for f, d in snapshot(mnt).items() if not f.endswith("/filler")}
            tap.ok(r.rc == EX_CANTCREAT and "No space left on device" in r.err,
                   "disk full over an earlier join: 73", r)
            tap.ok(after == before, "disk full over an earlier join: every earlier file unchanged, nothing added",
                   sorted(set(after) ^ set(before)))
            os.unlink(os.path.join(mnt, "filler"))
            converges(mnt, cfg2, token2, "disk full over an earlier join: then a re-run converges to the new token")
            cfg2.close()
        finally:
            umount(mnt)
            cfg.close()

        # --- a read-only root ---
        token = c.add_bootstrap_token()
        tokens.append(token)
        cfg = Config(ini_text(c, token))
        mnt = os.path.join(scratch, "ro")
        os.makedirs(mnt)
        try:
            mount("-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", mnt)
            os.makedirs(os.path.join(mnt, "etc/kubernetes/pki"))
            mount("-o", "remount,ro", mnt)
            r, _ = join_write(mnt, cfg)
            timed("read-only root", r)
            tap.ok(r.rc == EX_CANTCREAT and "Read-only file system" in r.err and mnt in r.err,
                   "read-only root: 73, the message names the path and the reason", r)
            tap.ok(walk(mnt) == [], "read-only root: nothing written (not even the failure record)", walk(mnt))
            mount("-o", "remount,rw", mnt)
            converges(mnt, cfg, token, "read-only root: once writable, a re-run converges")

            # only /var/lib/kubelet read-only: ca.crt is written, the kubeconfig is not
            shutil.rmtree(os.path.join(mnt, "etc"))
            shutil.rmtree(os.path.join(mnt, "var"))
            kubelet_dir = os.path.join(mnt, "var/lib/kubelet")
            os.makedirs(kubelet_dir)
            mount("--bind", kubelet_dir, kubelet_dir)
            mount("-o", "remount,bind,ro", kubelet_dir)
            r, _ = join_write(mnt, cfg)
            timed("read-only /var/lib/kubelet", r)
            tap.ok(r.rc == EX_CANTCREAT and os.path.join(kubelet_dir, "config.yaml") in r.err
                   and "Read-only file system" in r.err, "read-only /var/lib/kubelet: 73 naming config.yaml", r)
            tap.ok(not os.path.exists(os.path.join(mnt, "etc/kubernetes/bootstrap-kubelet.conf"))
                   and not half_written(mnt, token),
                   "read-only /var/lib/kubelet: no bootstrap kubeconfig (kubelet cannot start half-configured)",
                   half_written(mnt, token))
            umount(kubelet_dir)
            converges(mnt, cfg, token, "read-only /var/lib/kubelet: once writable, a re-run converges")
        finally:
            umount(os.path.join(mnt, "var/lib/kubelet"))
            umount(mnt)
            cfg.close()

        # --- something in the way ---
        token = c.add_bootstrap_token()
        tokens.append(token)
        cfg = Config(ini_text(c, token))
        try:
            root = tempfile.mkdtemp(prefix="root-", dir=scratch)
            os.makedirs(os.path.join(root, "etc"))
            with open(os.path.join(root, "etc/kubernetes"), "w") as f:
                f.write("not a directory\n")
            r, _ = join_write(root, cfg)
            timed("/etc/kubernetes is a file", r)
            tap.ok(r.rc == EX_CANTCREAT and "%s is in the way (Not a directory)" % os.path.join(root, "etc/kubernetes")
                   in r.err, "/etc/kubernetes is a file: 73, the message names the file in the way", r)
            # kubeboot's own record of the failure (for `kubeboot status`) is all it adds
            tap.ok(sorted(walk(root)) == [os.path.join(root, "etc/kubernetes"),
                                          os.path.join(root, "var/lib/kubeboot/last-failure")] and
                   open(os.path.join(root, "etc/kubernetes")).read() == "not a directory\n"
                   and not half_written(root, token),
                   "/etc/kubernetes is a file: left alone, nothing written but the failure record", walk(root))
            os.unlink(os.path.join(root, "etc/kubernetes"))
            converges(root, cfg, token, "/etc/kubernetes is a file: once removed, a re-run converges")
            shutil.rmtree(root)

            root = tempfile.mkdtemp(prefix="root-", dir=scratch)
            os.makedirs(os.path.join(root, "var/lib/kubelet/config.yaml"))
            r, _ = join_write(root, cfg)
            timed("config.yaml is a directory", r)
            tap.ok(r.rc == EX_CANTCREAT and os.path.join(root, "var/lib/kubelet/config.yaml") in r.err,
                   "/var/lib/kubelet/config.yaml is a directory: 73, naming it", r)
            tap.ok(not os.path.exists(os.path.join(root, "etc/kubernetes/bootstrap-kubelet.conf"))
                   and not half_written(root, token), "and no bootstrap kubeconfig, no temp file",
                   half_written(root, token))
            os.rmdir(os.path.join(root, "var/lib/kubelet/config.yaml"))
            converges(root, cfg, token, "config.yaml is a directory: once removed, a re-run converges")
            shutil.rmtree(root)

            # --- missing directories: an empty root gets kubeadm's layout with its modes ---
            root = tempfile.mkdtemp(prefix="root-", dir=scratch)
            r, _ = join_write(root, cfg)
            modes = {d: oct(os.stat(os.path.join(root, d)).st_mode & 0o777) if os.path.exists(os.path.join(root, d))
                     else None for d in ("etc/kubernetes", "etc/kubernetes/pki", "var/lib/kubelet")}
            tap.ok(r.rc == 0 and modes == {"etc/kubernetes": "0o755", "etc/kubernetes/pki": "0o755",
                                           "var/lib/kubelet": "0o700"} and not half_written(root, token),
                   "an empty root: every directory created, with kubeadm's modes", (r, modes))
            shutil.rmtree(root)
        finally:
            cfg.close()

    # ================= the apiserver =================
    token = c.add_bootstrap_token()
    tokens.append(token)

    def api_case(what, server, expect_rc, patterns, bound, files=None, **ini):
        """A join against server that must fail with expect_rc, every regex of patterns in
        its messages, within bound seconds; returns (Run, max RSS MiB)."""
        with Root() as root:
            root.write("/etc/kubeboot/kubeboot.ini", ini_text(c, token, server=server, **ini))
            for path, content in (files or {}).items():
                root.write(path, content, mode=0o644)
            r, rss = run_kb(["join", WRITE_ONLY, "--root=" + root.path, "--cmdline=/dev/null"], timeout=bound + 30)
            timed(what, r)
            missing = [p for p in patterns if not re.search(p, r.err)]
            tap.ok(r.rc == expect_rc and not missing, "%s: exit %d, the message says %s" % (what, expect_rc, patterns),
                   (r, missing))
            tap.ok(r.seconds < bound, "%s: bounded (%.1f s < %d s)" % (what, r.seconds, bound))
            tap.ok(not root.exists("/etc/kubernetes") and not root.exists("/var/lib/kubelet"),
                   "%s: nothing written" % what)
            errors = [line for line in r.err.splitlines() if "error:" in line]
            print("#   says: %s" % (errors[-1] if errors else "(no error line)"), flush=True)
            return r, rss

    # a baseline for memory: nobody listening
    _, rss_base = api_case("connection refused (baseline)", "https://127.0.0.1:1", EX_UNAVAILABLE,
                           ["stayed unavailable"], 3 + SLACK_S)

    deadline = 3 + REQUEST_TIMEOUT_S + SLACK_S
    srv = RawServer(stall_mid_body, tls=tls_context(c))
    try:
        api_case("a stall in the middle of the body", srv.url, EX_UNAVAILABLE,
                 ["stayed unavailable", "[Tt]imeout|timed out"], deadline)
    finally:
        srv.stop()

    srv = RawServer(never_answer)
    try:
        api_case("accepted, never a TLS handshake (slow loris)", srv.url, EX_UNAVAILABLE,
                 ["stayed unavailable", "[Tt]imeout|timed out"], deadline)
    finally:
        srv.stop()

    c.faults.update({"stall_seconds": 60, "fault_paths": "cluster-info"})
    try:
        api_case("the apiserver stalls before answering", c.url, EX_UNAVAILABLE,
                 ["stayed unavailable", "[Tt]imeout|timed out"], deadline)
    finally:
        c.faults.update({"stall_seconds": 0, "fault_paths": None})

    api_case("a host that does not resolve", "https://no-such-host.invalid:6443", EX_UNAVAILABLE,
             ["stayed unavailable", "no-such-host.invalid", "[Rr]esolve"], 3 + SLACK_S)

    # refused at once, not retried until the deadline
    with open(other_ca(scratch)) as f:
        ca2 = f.read()
    api_case("a certificate from another CA than ca-cert", c.url, EX_CONFIG,
             [r"TLS to https://127\.0\.0\.1:\d+ failed", "certificate"], 2, pin=False, timeout="30s",
             extra="ca-cert = /etc/kubeboot/ca.crt\n", files={"/etc/kubeboot/ca.crt": ca2})

    srv = RawServer(plain_http)
    try:
        api_case("plain HTTP on the https port", srv.url, EX_UNAVAILABLE,
                 ["stayed unavailable", "does not speak TLS"], 3 + SLACK_S)
    finally:
        srv.stop()

    srv = RawServer(not_http, tls=tls_context(c))
    try:
        api_case("TLS, then no HTTP", srv.url, EX_UNAVAILABLE, ["stayed unavailable", "HTTP/0.9|[Ww]eird server reply"],
                 3 + SLACK_S)
    finally:
        srv.stop()

    for with_length in (True, False):
        what = "a 50 MB answer %s Content-Length" % ("with" if with_length else "without")
        srv = RawServer(huge(with_length), tls=tls_context(c))
        try:
            r, rss = api_case(what, srv.url, EX_UNAVAILABLE, ["larger than 1048576 bytes"], SLACK_S)
        finally:
            srv.stop()
        print("# %s: kubeboot peak RSS %s MiB (baseline %s MiB), the server sent %.1f MiB" %
              (what, rss and "%.1f" % rss, rss_base and "%.1f" % rss_base, srv.sent / 1048576.0))
        if rss is None or rss_base is None:
            tap.skip("%s: memory bounded" % what, "no GNU time (/usr/bin/time) to measure it")
        else:
            # the cap is 1 MiB, held while the buffer doubles; slack for libcurl's and OpenSSL's
            # buffers and for ASan's quarantine of freed memory (+7 MiB seen), far below 50 MB
            tap.ok(rss < rss_base + 16, "%s: memory bounded (peak RSS %.1f MiB, baseline %.1f MiB)"
                   % (what, rss, rss_base))
        tap.ok(srv.sent < 20 * 1024 * 1024, "%s: kubeboot stopped reading early (%.1f MiB sent)" %
               (what, srv.sent / 1048576.0))

    shutil.rmtree(scratch, ignore_errors=True)
    for t in tokens:
        assert_no_secret(tap, t, outputs, "the output of every run (token %s)" % t[:6])

print("# timings: " + ", ".join("%s %.2f s" % t for t in timings))
tap.done()

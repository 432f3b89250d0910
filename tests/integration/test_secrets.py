"""Issue 8 (part A): where the bootstrap token's secret goes (DESIGN §5).

A whole join (with the stand-in kubelet), a join that fails (a wrong secret), a join
that fails after writing (nobody runs kubelet), and one killed in the wait phase, each
with a token we know. While each runs, a poller reads every file under the root: a file
that holds the secret must be mode 0600 and be the bootstrap kubeconfig or a kubeboot
temp file of it. While kubeboot waits for the Node, the argv and environment of every
process on the machine are read (kubeboot, with --root, starts no child; a helper it
ever started would be among them). Afterwards: not in stdout/stderr, not in any file
under the root, not in the ini it came from (finish scrubs it), not in `kubeboot config`
or `status`.

Core dumps: kubeboot makes itself non-dumpable (prctl(PR_SET_DUMPABLE, 0) in main).
/proc shows that flag nowhere for a process running as root, so the test shows its
effect: kubeboot, with RLIMIT_CORE unlimited and a core_pattern that writes a file, is
killed with SIGABRT while it waits (holding the token); the kernel must not dump it (no
core-dump bit in the wait status, no core file). A control process under the same
limit, signal and directory must dump, or the check proves nothing and is skipped.
SIGABRT rather than SIGSEGV: the ASan build handles SIGSEGV itself; its
disable_coredump is switched off (use_madv_dontdump keeps the shadow out of a dump)."""
import os
import resource
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time

from kbtest import *
from double import ClusterDouble

assert_in_netns()
tap = Tap()
BOOT = "/etc/kubernetes/bootstrap-kubelet.conf"
BOOT_TEMP_PREFIX = ".#bootstrap-kubelet.conf.kubeboot-"


def secret_files(root, secret):
    """(path relative to root, mode) of every file under root holding secret."""
    found = []
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            try:
                with open(p, "rb") as fh:
                    data = fh.read()
                mode = os.stat(p).st_mode
            except OSError:
                continue  # renamed or removed under our feet
            if secret in data and stat.S_ISREG(mode):
                found.append((p[len(root):], mode & 0o7777))
    return found


def allowed(rel, mode):
    name = os.path.basename(rel)
    return (rel == BOOT or (os.path.dirname(rel) == os.path.dirname(BOOT) and name.startswith(BOOT_TEMP_PREFIX))) \
        and mode & 0o077 == 0


class Poller(threading.Thread):
    """Reads the root every few milliseconds until stopped; remembers every file that
    held the secret and every one that was not allowed to."""

    def __init__(self, root, secret):
        super().__init__(daemon=True)
        self.root, self.secret = root, secret
        self.stop_ev = threading.Event()
        self.seen, self.bad, self.rounds = set(), set(), 0

    def run(self):
        while not self.stop_ev.is_set():
            for rel, mode in secret_files(self.root, self.secret):
                self.seen.add(rel)
                if not allowed(rel, mode):
                    self.bad.add("%s (mode %04o)" % (rel, mode))
            self.rounds += 1
            time.sleep(0.005)

    def stop(self):
        self.stop_ev.set()
        self.join(10)


class Kubeboot:
    """kubeboot join in the background: its output read line by line, the moment it
    enters a phase noticed, its wait status (with rusage) collected."""

    def __init__(self, root, cfg, env=None, cwd=None, preexec=None):
        e = dict(os.environ)
        e.pop("JOURNAL_STREAM", None)
        e.update(env or {})
        argv = [os.path.abspath(KUBEBOOT), "join", "--root=" + root, "--cmdline=/dev/null", "--config=" + cfg]
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e,
                                  cwd=cwd, preexec_fn=preexec, text=True)
        self.pid = self.p.pid
        self.out, self.err = [], []
        self.phases = set()
        self.readers = [threading.Thread(target=self._read, args=(self.p.stdout, self.out), daemon=True),
                        threading.Thread(target=self._read, args=(self.p.stderr, self.err), daemon=True)]
        for t in self.readers:
            t.start()
        self.status = None

    def _read(self, f, into):
        for line in f:
            into.append(line)
            if line.startswith("kubeboot[") and "]" in line:
                self.phases.add(line[9:line.index("]")])

    def wait_phase(self, phase, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if phase in self.phases:
                return True
            if self.p.poll() is not None:
                break
            time.sleep(0.01)
        return phase in self.phases

    def finish(self, timeout=90):
        killer = threading.Timer(timeout, self.p.kill)
        killer.start()
        try:
            _, self.status, _ = os.wait4(self.pid, 0)
        finally:
            killer.cancel()
        self.p.returncode = os.waitstatus_to_exitcode(self.status)
        for t in self.readers:
            t.join(5)
        return Run(self.p.returncode, "".join(self.out), "".join(self.err), 0)


def processes():
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            yield int(pid)


def proc_read(pid, what):
    try:
        with open("/proc/%d/%s" % (pid, what), "rb") as f:
            return f.read()
    except OSError:
        return b""


def children_of(pid):
    kids = []
    for p in processes():
        st = proc_read(p, "stat")
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'
        if st and int(st.rsplit(b")", 1)[1].split()[1]) == pid:
            kids.append(p)
    return kids


def audit_processes(kb, secret, what):
    """While kubeboot runs: its argv, environment and children, and everyone else's."""
    cmd = proc_read(kb.pid, "cmdline")
    env = proc_read(kb.pid, "environ")
    tap.ok(cmd and secret not in cmd and env is not None and secret not in env,
           "%s: not in kubeboot's argv or environment" % what, cmd.replace(b"\0", b" ")[:300])
    kids = children_of(kb.pid)
    leaked = [k for k in kids if secret in proc_read(k, "cmdline") or secret in proc_read(k, "environ")]
    tap.ok(not leaked, "%s: not in the argv or environment of kubeboot's %d child process(es)" % (what, len(kids)),
           leaked)
    everyone = [p for p in processes() if secret in proc_read(p, "cmdline") or secret in proc_read(p, "environ")]
    tap.ok(not everyone, "%s: not in the argv or environment of any process on the machine" % what,
           [proc_read(p, "cmdline")[:200] for p in everyone])


def make_case(c, token, extra=""):
    """A root and an ini outside it (--config, 0600) that carries the token."""
    root = Root(prefix="kb-secrets-")
    cfgdir = tempfile.mkdtemp(prefix="kb-secrets-cfg-")
    cfg = os.path.join(cfgdir, "kubeboot.ini")
    with open(cfg, "w") as f:
        f.write("[join]\ntoken = %s\nserver = %s\nca-cert-hash = %s\nnode-name = secret-%s\n%s"
                % (token, c.url, c.ca_pin, token[:6], extra))
    os.chmod(cfg, 0o600)
    return root, cfgdir, cfg


def after(root, secret, outputs, what):
    """Once kubeboot exited: checks its output; returns the files under root holding secret."""
    tap.ok(not any(secret in (o or "").encode() for o in outputs), "%s: not in stdout or stderr" % what)
    return secret_files(root.path, secret)


def start_kubelet_when(root, go, deadline=60):
    """The stand-in kubelet, started once go is set (after the audits)."""
    res = {}

    def run():
        if go.wait(deadline):
            res["run"] = run_kubelet(root, timeout=45)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, res


def core_limits():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def core_check(c, pattern, dumpdir):
    """SIGABRT while kubeboot waits, with every limit that would allow a dump; a dumpable
    control process under the same conditions shows that the check can fail."""
    control = subprocess.Popen(["sleep", "30"], cwd=dumpdir, preexec_fn=core_limits)
    time.sleep(0.2)
    control.send_signal(signal.SIGABRT)
    _, cstatus, _ = os.wait4(control.pid, 0)
    control.returncode = os.waitstatus_to_exitcode(cstatus)
    control_cores = os.listdir(dumpdir)
    can_dump = os.WIFSIGNALED(cstatus) and os.WCOREDUMP(cstatus)
    for f in control_cores:
        os.unlink(os.path.join(dumpdir, f))
    if not can_dump:
        tap.skip("no core dump of kubeboot",
                 "a dumpable control process did not dump either (core_pattern %r): the check would prove nothing"
                 % pattern)
        return
    token = c.add_bootstrap_token()
    root, cfgdir, cfg = make_case(c, token, "wait-timeout = 60s\n")
    try:
        kb = Kubeboot(root.path, cfg, cwd=dumpdir, preexec=core_limits,
                      env={"ASAN_OPTIONS": "disable_coredump=0:use_madv_dontdump=1"})
        reached = kb.wait_phase("wait", 30)
        if reached:
            os.kill(kb.pid, signal.SIGABRT)
        r = kb.finish()
        cores = os.listdir(dumpdir)
        killed = os.WIFSIGNALED(kb.status)
        print("# core_pattern %r; control: signal %s, core dumped %s (%s); kubeboot: signal %s, core dumped %s (%s)"
              % (pattern, os.WTERMSIG(cstatus), can_dump, control_cores, os.WTERMSIG(kb.status) if killed else None,
                 killed and os.WCOREDUMP(kb.status), cores))
        tap.ok(reached and killed and os.WTERMSIG(kb.status) == signal.SIGABRT, "killed with SIGABRT while it waited", r)
        tap.ok(not os.WCOREDUMP(kb.status) and not cores,
               "the kernel did not dump kubeboot's memory (it is not dumpable), where a dumpable process dumps", cores)
    finally:
        root.cleanup()
        shutil.rmtree(cfgdir)


with ClusterDouble() as c:  # its own workdir, removed at the end
    c.install_seed_rbac()
    c.publish_cluster_info()

    # --- a whole join ---
    token = c.add_bootstrap_token()
    secret = secret_of(token).encode()
    root, cfgdir, cfg = make_case(c, token, "wait-timeout = 60s\n")
    poller = Poller(root.path, secret)
    poller.start()
    go = threading.Event()
    kt, kres = start_kubelet_when(root, go)
    kb = Kubeboot(root.path, cfg)
    in_wait = kb.wait_phase("wait", 30)
    tap.ok(in_wait, "whole join: kubeboot reached the wait phase")
    if in_wait:
        audit_processes(kb, secret, "whole join, during wait")
        files_now = secret_files(root.path, secret)
        tap.ok([f for f, _ in files_now] == [BOOT] and all(allowed(f, m) for f, m in files_now),
               "whole join, during wait: in the 0600 bootstrap kubeconfig and nowhere else under the root",
               files_now)
    go.set()
    r = kb.finish()
    kt.join(60)
    poller.stop()
    tap.ok(r.rc == 0 and kres.get("run") is not None and kres["run"].rc == 0, "whole join: joined",
           (r, kres.get("run")))
    tap.ok(not poller.bad and BOOT in poller.seen,
           "whole join: while it ran (%d reads of the root), only the 0600 bootstrap kubeconfig or its temp file "
           "held the secret" % poller.rounds, sorted(poller.bad) or sorted(poller.seen))
    left = after(root, secret, [r.out, r.err], "whole join")
    tap.ok(not left, "whole join: after finish, not in any file under the root", left)
    with open(cfg, "rb") as f:
        tap.ok(secret not in f.read(), "whole join: finish scrubbed it from the ini it came from (--config)")
    shown = [kubeboot("config", "--json", root=root, cmdline=""), kubeboot("status", "--json", root=root),
             kubeboot("status", root=root)]
    tap.ok(all(s.rc == 0 for s in shown) and not any(secret in (s.out + s.err).encode() for s in shown),
           "whole join: not in kubeboot config or status", shown)
    root.cleanup()
    shutil.rmtree(cfgdir)

    # --- a wrong secret: the JWS does not verify, nothing is written ---
    real = c.add_bootstrap_token()
    token = real[:7] + "".join(sorted(real[7:], reverse=True))
    if token == real:
        token = real[:7] + ("0123456789abcdef" if real[7:] != "0123456789abcdef" else "fedcba9876543210")
    secret = secret_of(token).encode()
    root, cfgdir, cfg = make_case(c, token)
    poller = Poller(root.path, secret)
    poller.start()
    kb = Kubeboot(root.path, cfg)
    r = kb.finish()
    poller.stop()
    tap.ok(r.rc == EX_CONFIG and "does not verify" in r.err, "wrong secret: 78, the signature does not verify", r)
    left = after(root, secret, [r.out, r.err], "wrong secret")
    tap.ok(not left and not poller.seen, "wrong secret: in no file under the root, at any time", (left, poller.seen))
    st = kubeboot("status", "--json", root=root)
    tap.ok(st.rc == 0 and "does not verify" in st.out and secret not in st.out.encode(),
           "wrong secret: the recorded failure does not quote it", st)
    root.cleanup()
    shutil.rmtree(cfgdir)

    # --- a failure after write: nobody runs kubelet; the token stays, 0600, for the retry ---
    token = c.add_bootstrap_token()
    secret = secret_of(token).encode()
    root, cfgdir, cfg = make_case(c, token, "wait-timeout = 3s\n")
    poller = Poller(root.path, secret)
    poller.start()
    kb = Kubeboot(root.path, cfg)
    if kb.wait_phase("wait", 30):
        audit_processes(kb, secret, "no kubelet, during wait")
    r = kb.finish()
    poller.stop()
    tap.ok(r.rc == EX_UNAVAILABLE, "no kubelet: 69 after wait-timeout", r)
    left = after(root, secret, [r.out, r.err], "no kubelet")
    tap.ok(left == [(BOOT, 0o600)] and not poller.bad,
           "no kubelet: afterwards only in the 0600 bootstrap kubeconfig (kept for the retry)", (left, poller.bad))
    root.cleanup()
    shutil.rmtree(cfgdir)

    # --- no core dump: SIGABRT while waiting, with every limit that would allow one ---
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    dumpdir = tempfile.mkdtemp(prefix="kb-secrets-core-")
    try:
        core_check(c, pattern, dumpdir)
    finally:
        shutil.rmtree(dumpdir, ignore_errors=True)

tap.done()

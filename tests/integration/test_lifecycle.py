"""Issue 5 (without systemd): wait, finish, status, reset, already-joined, and crash
safety: kill -9 after every phase, at random moments, in the middle of writes and
before renames; a re-run always converges to the same joined state."""
import json
import os
import signal
import subprocess
import threading
import time

import yaml

from kbtest import *
from double import ClusterDouble

assert_in_netns()
tap = Tap()
SHIM = os.environ.get("KB_CRASHSHIM")
PHASES = ["gather", "discover", "preflight", "write", "start", "wait", "finish"]
outputs = []


NODES = iter(range(1, 10000))


def make_root(c, token, extra=""):
    root = Root()
    root.write("/etc/kubeboot/kubeboot.ini",
               "[join]\ntoken = %s\nserver = %s\nca-cert-hash = %s\nnode-name = n-%d\nwait-timeout = 40s\n%s"
               % (token, c.url, c.ca_pin, next(NODES), extra))
    return root


def node_name(root):
    for line in root.read("/etc/kubeboot/kubeboot.ini").splitlines():
        if line.startswith("node-name"):
            return line.split("=", 1)[1].strip()


class Kubelet(threading.Thread):
    """Runs the stand-in kubelet once the bootstrap kubeconfig appears (as systemd would
    restart a crash-looping kubelet), until its Node registers."""

    def __init__(self, root, deadline=40):
        super().__init__(daemon=True)
        self.root, self.deadline, self.result = root, deadline, None

    def run(self):
        end = time.monotonic() + self.deadline
        while time.monotonic() < end:
            if self.root.exists("/etc/kubernetes/bootstrap-kubelet.conf") or self.root.exists("/etc/kubernetes/kubelet.conf"):
                self.result = run_kubelet(self.root, timeout=max(5, int(end - time.monotonic())))
                if self.result.rc == 0:
                    return
            time.sleep(0.05)


def full_join(root, env=None, kubelet=True):
    k = Kubelet(root) if kubelet else None
    if k:
        k.start()
    r = kubeboot("join", root=root, cmdline="", env=env, timeout=90)
    outputs.extend([r.out, r.err])
    if k:
        k.join(60)
    return r


def joined_state_ok(root, token, what):
    """The converged end state, checked the same way after every kind of crash."""
    problems = []
    if not root.exists("/var/lib/kubeboot/joined"):
        problems.append("no stamp")
    if root.exists("/etc/kubernetes/bootstrap-kubelet.conf"):
        problems.append("bootstrap kubeconfig still there")
    temps = [f for f in root.files() if ".kubeboot-" in f]
    if temps:
        problems.append("temp files: %s" % temps)
    for f in ("/var/lib/kubelet/config.yaml", "/etc/kubernetes/kubelet.conf"):
        try:
            doc = yaml.safe_load(root.read(f))
            if not isinstance(doc, dict) or "kind" not in doc:
                problems.append("%s is not a whole document" % f)
        except Exception as e:
            problems.append("%s: %s" % (f, e))
    if root.read("/etc/kubernetes/pki/ca.crt").count("END CERTIFICATE") != 1:
        problems.append("ca.crt is not whole")
    secret = secret_of(token)
    for f in root.files():
        try:
            with open(f, "rb") as fh:
                if secret.encode() in fh.read():
                    problems.append("secret in %s" % f)
        except OSError:
            pass
    return tap.ok(not problems, what, "\n".join(problems))


with ClusterDouble() as c:
    c.install_seed_rbac()
    c.publish_cluster_info()

    # --- a whole join: wait sees the Node with kubelet's own certificate; finish scrubs ---
    token = c.add_bootstrap_token()
    root = make_root(c, token)
    name = node_name(root)
    r = full_join(root)
    tap.ok(r.rc == 0, "a whole join with the stand-in kubelet succeeds", r)
    for phase in PHASES:
        tap.ok("kubeboot[%s]:" % phase in r.err, "phase %s is visible" % phase)
    tap.ok("Node %s is registered" % name in r.err and c.node(name) is not None, "wait saw the Node", r.err[-800:])
    node_reads = [q for q in c.requests if q["path"] == "/api/v1/nodes/" + name and q["method"] == "GET"]
    tap.ok(node_reads and all(q["user"] == "system:node:" + name for q in node_reads),
           "the Node was read with the node's own credentials, never the token", node_reads[:3])
    ini = root.read("/etc/kubeboot/kubeboot.ini")
    tap.ok(secret_of(token) not in ini and "# token removed by kubeboot" in ini, "finish scrubbed the token from the ini")
    joined_state_ok(root, token, "end state: stamped, no bootstrap kubeconfig, no secret in any file")
    stamp = json.loads(root.read("/var/lib/kubeboot/joined"))
    tap.ok(stamp.get("node") == name and stamp.get("how") == "join" and "token" in stamp.get("sources", {}),
           "the stamp says which node, how and from which sources", stamp)

    st = kubeboot("status", "--json", root=root)
    status = json.loads(st.out) if st.rc == 0 else {}
    tap.ok(status.get("joined") is True and status.get("kubeletCertificate", {}).get("node") == name
           and status["kubeletCertificate"].get("valid") and status.get("lastFailure") is None,
           "status --json: joined, as which node, certificate valid, no failure", st)
    st = kubeboot("status", root=root)
    tap.ok(st.rc == 0 and "joined:       yes, as Node " + name in st.out and "expires" in st.out, "status as text", st)

    mtimes = {f: os.stat(f).st_mtime_ns for f in root.files()}
    before = len(c.requests)
    r = kubeboot("join", root=root, cmdline="")
    tap.ok(r.rc == 0 and "already joined" in r.err, "join on a joined node exits 0 at once", r)
    tap.ok(mtimes == {f: os.stat(f).st_mtime_ns for f in root.files()} and len(c.requests) == before,
           "and changes nothing, asks nothing")

    # --- a node joined by other means (kubelet holds a valid certificate, no stamp) ---
    os.unlink(root.p("/var/lib/kubeboot/joined"))
    mtimes = {f: os.stat(f).st_mtime_ns for f in root.files()}
    r = kubeboot("join", root=root, cmdline="")
    changed = [f for f in root.files() if f not in mtimes or os.stat(f).st_mtime_ns != mtimes[f]]
    tap.ok(r.rc == 0 and "already holds a valid certificate" in r.err and changed == [root.p("/var/lib/kubeboot/joined")],
           "kubelet already holds a certificate: only the stamp is written", (r, changed))

    # --- reset ---
    r = subprocess.run([KUBEBOOT, "--root=" + root.path, "reset"], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=30)
    tap.ok(r.returncode == EX_USAGE and "--force" in r.stderr, "reset without --force and no terminal: 64")
    r = kubeboot("reset", "--force", root=root)
    left = sorted(f.replace(root.path, "") for f in root.files())
    tap.ok(r.rc == 0 and left == ["/etc/kubeboot/kubeboot.ini"] and "kubectl delete node " + name in r.out,
           "reset --force removes kubeboot's and kubelet's files, names the Node to delete", (r, left))
    st = kubeboot("status", "--json", root=root)
    tap.ok(json.loads(st.out).get("joined") is False, "after reset, status says not joined")
    root.cleanup()

    # --- CSR reporting: pending until approved; denied is final ---
    c.remove_seed_rbac()
    c.install_seed_rbac(auto_approve_nodeclient=False)
    token = c.add_bootstrap_token()
    root = make_root(c, token)
    k = Kubelet(root)
    k.start()
    p = subprocess.Popen([KUBEBOOT, "join", "--root=" + root.path, "--cmdline=/dev/null"], stderr=subprocess.PIPE,
                         text=True)
    seen, err = None, ""
    end = time.monotonic() + 30
    while time.monotonic() < end and not seen:
        line = p.stderr.readline()
        err += line
        if "waiting for CSR" in line and "kubectl certificate approve" in line:
            seen = line.split("kubectl certificate approve ")[1].strip()
    tap.ok(seen is not None, "wait reports the pending CSR with the approve command", err[-1500:])
    if seen:
        c.approve_csr(seen)
    _, rest = p.communicate(timeout=60)
    k.join(60)
    tap.ok(p.returncode == 0, "after approval the join completes", err + rest)
    root.cleanup()

    token = c.add_bootstrap_token()
    root = make_root(c, token)
    k = Kubelet(root, deadline=20)
    k.start()
    p = subprocess.Popen([KUBEBOOT, "join", "--root=" + root.path, "--cmdline=/dev/null"], stderr=subprocess.PIPE,
                         text=True)
    # an admin who denies this node: every CSR it makes (kubelet asks again after a denial)
    end = time.monotonic() + 60
    denied = set()
    while time.monotonic() < end and p.poll() is None:
        for x in c.csrs():
            name = x["metadata"]["name"]
            conds = [cd["type"] for cd in x.get("status", {}).get("conditions", [])]
            if x["spec"]["username"] == "system:bootstrap:" + token[:6] and name not in denied and not conds:
                c.deny_csr(name)
                denied.add(name)
        time.sleep(0.05)
    _, err = p.communicate(timeout=60)
    outputs.append(err)
    tap.ok(p.returncode == EX_CONFIG and "denied" in err, "a denied CSR ends the join with 78", err[-800:])
    st = json.loads(kubeboot("status", "--json", root=root).out)
    tap.ok((st.get("lastFailure") or {}).get("phase") == "wait" and (st["lastFailure"].get("exit") == EX_CONFIG)
           and "denied" in st["lastFailure"].get("message", ""), "status shows the last failure: phase, exit, message",
           st)
    root.cleanup()
    c.remove_seed_rbac()
    c.install_seed_rbac()

    # --- nobody runs kubelet: the wait deadline ---
    token = c.add_bootstrap_token()
    root = make_root(c, token, extra="wait-timeout = 3s\n")
    t0 = time.monotonic()
    r = full_join(root, kubelet=False)
    tap.ok(r.rc == EX_UNAVAILABLE and "did not appear within 3s" in r.err and time.monotonic() - t0 < 15,
           "no kubelet: 69 after wait-timeout, naming what it waited for", r)
    tap.ok(root.exists("/etc/kubernetes/bootstrap-kubelet.conf"), "the token stays for the retry")
    r = full_join(root)
    tap.ok(r.rc == 0, "the unit's retry then completes the join", r)
    joined_state_ok(root, token, "and converges")
    root.cleanup()

    # --- crash after every phase: a later full run converges ---
    for i, phase in enumerate(PHASES[:-1]):
        token = c.add_bootstrap_token()
        root = make_root(c, token)
        later = ",".join(PHASES[i + 1:])
        k = Kubelet(root) if phase in ("start", "wait") else None
        if k:
            k.start()
        r = kubeboot("join", "--skip-phases=" + later, root=root, cmdline="", timeout=90)
        if k:
            k.join(60)
        outputs.extend([r.out, r.err])
        r2 = full_join(root)
        tap.ok(r.rc == 0 and r2.rc == 0, "stopped after %s, then a full run: joined" % phase, (r, r2))
        joined_state_ok(root, token, "stopped after %s: converged" % phase)
        root.cleanup()

    # --- kill -9 at random moments of a whole join ---
    for delay in (0.005, 0.03, 0.08, 0.15, 0.3, 0.6):
        token = c.add_bootstrap_token()
        root = make_root(c, token)
        k = Kubelet(root)
        k.start()
        p = subprocess.Popen([KUBEBOOT, "join", "--root=" + root.path, "--cmdline=/dev/null"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        _, err = p.communicate(timeout=30)
        outputs.append(err)
        k.join(60)
        r = full_join(root)
        tap.ok(r.rc == 0, "killed after %.0f ms, then a full run: joined" % (delay * 1000), r)
        joined_state_ok(root, token, "killed after %.0f ms: converged" % (delay * 1000))
        root.cleanup()

    # --- kill -9 inside file writes and before renames (LD_PRELOAD shim) ---
    if SHIM and os.path.exists(SHIM):
        for var, n in [("KB_CRASH_AT_WRITE", i) for i in (1, 2, 3, 4)] + [("KB_CRASH_AT_RENAME", i) for i in (1, 2, 3, 4)]:
            token = c.add_bootstrap_token()
            root = make_root(c, token)
            r = kubeboot("join", "--skip-phases=start,wait,finish", root=root, cmdline="",
                         env={"LD_PRELOAD": SHIM, var: str(n), "ASAN_OPTIONS": "verify_asan_link_order=0"})
            outputs.extend([r.out, r.err])
            killed = r.rc == -signal.SIGKILL
            half = [f for f in root.files() if ".kubeboot-" in f]
            boot = root.p("/etc/kubernetes/bootstrap-kubelet.conf")
            whole = not os.path.exists(boot) or "token:" in open(boot).read()
            tap.ok(killed and whole, "%s=%d: killed mid-way, and no target file is half-written (%d temp left)"
                   % (var, n, len(half)), r)
            r2 = full_join(root)
            tap.ok(r2.rc == 0, "%s=%d: a full run then joins" % (var, n), r2)
            joined_state_ok(root, token, "%s=%d: converged, temp files removed" % (var, n))
            root.cleanup()
    else:
        tap.skip("crashes inside writes", "crash shim not built (KB_CRASHSHIM unset)")

    tokens = [s["data"] for s in c.secrets("kube-system")]
    import base64
    for d in tokens:
        if "token-secret" in d:
            secret = base64.b64decode(d["token-secret"]).decode()
            leaked = [o for o in outputs if o and secret in o]
            if leaked:
                tap.ok(False, "token secret %s... leaked into output" % secret[:3], leaked[0][:500])
    tap.ok(True, "checked %d tokens' secrets against all %d outputs" % (len(tokens), len(outputs)))

tap.done()

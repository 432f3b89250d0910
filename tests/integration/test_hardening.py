"""Issue 13: hardening, round two. One section per finding of the review, each check
failing before its fix: a pin that keeps only what it pins, server text that cannot
steer systemd or a terminal, scrubs that do what they say, node files that cannot hang a
read or leave the root, and an admin credential that never goes over plain HTTP.

Servers here are the cluster double and a small "attacker" apiserver (real TLS, its own
CA), all on loopback inside tests/netns-run's namespace; each is stopped at the end."""
import base64
import http.server
import json
import os
import socket
import ssl
import stat
import subprocess
import tempfile
import shutil
import threading

import yaml

from kbtest import *  # noqa: F403
from double import ClusterDouble, cluster_info_kubeconfig  # noqa: E402
from impostor import Impostor as Attacker, signed_cluster_info  # noqa: E402
from controllers import jws_detached_signature  # noqa: E402
import pki  # noqa: E402

assert_in_netns()
tap = Tap()
WRITE_ONLY = "--skip-phases=start,wait,finish"
CLUSTER_INFO = "/api/v1/namespaces/kube-public/configmaps/cluster-info"


def join_ini(token, server, pins, extra=""):
    lines = ["[join]", "token = " + token, "server = " + server, "node-name = n1", "discovery-timeout = 3s"]
    lines += ["ca-cert-hash = " + p for p in pins]
    return "\n".join(lines) + "\n" + extra


def has_control(s):
    return any(ord(ch) < 0x20 and ch not in "\n" or ord(ch) == 0x7f or 0x80 <= ord(ch) < 0xa0 for ch in s)


scratch = tempfile.mkdtemp(prefix="kb-hardening-")
attacker = Attacker(scratch)
TOKEN = "abcdef.0123456789abcdef"

with ClusterDouble() as c:
    # --- 1. a pin admits only the pinned certificate of cluster-info's bundle ---
    # The attacker knows the token and sits on the path: a cluster-info whose bundle is
    # [attacker CA, real CA], properly signed, served with the attacker's certificate.
    attacker.cluster_info = signed_cluster_info(attacker.url, attacker.ca_pem + c.ca_pem, TOKEN)
    attacker.requests.clear()
    with Root() as root:
        root.write("/etc/kubeboot/kubeboot.ini", join_ini(TOKEN, attacker.url, [c.ca_pin]))
        r = kubeboot("join", WRITE_ONLY, root=root)
        tap.ok(r.rc == EX_CONFIG and "TLS" in r.err,
               "1: a bundle [attacker CA, real CA] with the real pin: the pinned fetch fails TLS (78)", r)
        tap.ok(len(attacker.requests) == 1,
               "1: the attacker sees only the unverified first fetch (%d requests)" % len(attacker.requests),
               attacker.requests)
        tap.ok(not any(q["authorization"] for q in attacker.requests),
               "1: no credential reaches the attacker", attacker.requests)
        tap.ok("matches the pin " + c.ca_pin in r.err, "1: the log names the pin that matched", r.err)
        tap.ok(not root.exists("/etc/kubernetes/pki/ca.crt"), "1: no CA written")

    # the same bundle from the real cluster: only the pinned certificate is kept
    c.publish_cluster_info()
    # the double's bootstrap signer signs what is published; publish a bundle
    kc = c.store.peek("configmaps", "kube-public", "cluster-info")
    kc["data"]["kubeconfig"] = cluster_info_kubeconfig(c.url, attacker.ca_pem + c.ca_pem)
    c.store.update(("", "configmaps"), "kube-public", kc, check_rv=False)
    c.install_seed_rbac()
    tok = c.add_bootstrap_token()
    c.wait_for(lambda: "jws-kubeconfig-" + tok[:6] in
               (c.store.peek("configmaps", "kube-public", "cluster-info").get("data") or {}), 10)
    with Root() as root:
        root.write("/etc/kubeboot/kubeboot.ini", join_ini(tok, c.url, [c.ca_pin]))
        r = kubeboot("join", WRITE_ONLY, root=root)
        tap.ok(r.rc == 0, "1: the real cluster's bundle with one pin joins", r)
        written = root.read("/etc/kubernetes/pki/ca.crt") if root.exists("/etc/kubernetes/pki/ca.crt") else ""
        tap.ok(written.strip() == c.ca_pem.strip(), "1: pki/ca.crt holds only the pinned CA", written)
        trusted = ""
        if root.exists("/etc/kubernetes/bootstrap-kubelet.conf"):
            boot = yaml.safe_load(root.read("/etc/kubernetes/bootstrap-kubelet.conf"))
            trusted = base64.b64decode(boot["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
        tap.ok(trusted.strip() == c.ca_pem.strip(), "1: the bootstrap kubeconfig trusts only the pinned CA", trusted)
    c.publish_cluster_info()

    # --- 2. server text cannot steer sd_notify, the journal or a terminal ---
    evil = ("no\nREADY=1\nMAINPID=1\nSTATUS=owned\x1b]0;title\x07\x1b[2J\x9b31m\r" + "A" * 100000)
    attacker.cluster_info = None
    attacker.status = (403, evil)
    attacker.requests.clear()
    ns = NotifySocket(scratch)
    with Root() as root:
        root.write("/etc/kubeboot/kubeboot.ini", join_ini(TOKEN, attacker.url, [c.ca_pin]))
        r = kubeboot("join", WRITE_ONLY, root=root, env={"NOTIFY_SOCKET": ns.path}, timeout=60)
        msgs = ns.messages()
        tap.ok(r.rc != 0 and len(attacker.requests) >= 1, "2: a 403 with a hostile message fails the join", r)
        lines = [ln for m in msgs for ln in m.split("\n")]
        tap.ok(not any(ln.startswith(("READY=", "MAINPID=", "STATUS=owned")) for ln in lines),
               "2: no sd_notify assignment comes from the server's text", msgs)
        tap.ok(not any(has_control(m.replace("\n", "")) for m in msgs), "2: no control character in STATUS=", msgs)
        tap.ok(not has_control(r.err) and "\nREADY=1" not in r.err, "2: no control character on stderr",
               repr(r.err[:2000]))
        tap.ok(len(r.err) < 16384, "2: the server's text is bounded on stderr (%d bytes)" % len(r.err))
        failure = json.loads(root.read("/var/lib/kubeboot/last-failure")) if root.exists(
            "/var/lib/kubeboot/last-failure") else {}
        m = failure.get("message", "")
        tap.ok(m and not has_control(m) and len(m) < 4096,
               "2: last-failure's message is escaped and bounded (%d bytes)" % len(m), repr(m[:500]))
        # a hand-made (or older) last-failure is escaped on display too
        failure["message"] = "x\x1b[2Jy\nz"
        root.write("/var/lib/kubeboot/last-failure", json.dumps(failure), mode=0o644)
        s = kubeboot("status", root=root)
        tap.ok(not has_control(s.out.replace("\n", "")) and s.out.count("\n") <= 20,
               "2: kubeboot status escapes stored text", repr(s.out))
    ns.close()

    # --- 4. a ca-cert that is a FIFO or a device cannot hang the join ---
    def mknod_ptmx(p):
        os.mknod(p, 0o666 | stat.S_IFCHR, os.makedev(5, 2))

    for what, make in (("a FIFO", lambda p: os.mkfifo(p, 0o600)),
                       ("a character device (ptmx)", mknod_ptmx),
                       ("a symlink to /dev/ptmx", lambda p: os.symlink("/dev/ptmx", p)),
                       ("/dev/null", None)):
        with Root() as root:
            ca = "/dev/null"
            if make:
                ca = "/etc/kubeboot/ca.crt"
                os.makedirs(root.p("/etc/kubeboot"), exist_ok=True)
                try:
                    make(root.p(ca))
                except PermissionError as e:
                    tap.skip("4: ca-cert naming %s" % what, str(e))
                    continue
            root.write("/etc/kubeboot/kubeboot.ini", join_ini(TOKEN, c.url, [], "ca-cert = %s\n" % ca))
            try:
                r = kubeboot("join", WRITE_ONLY, root=root, timeout=20)
            except subprocess.TimeoutExpired as e:
                r = Run(None, "", "timed out: %s" % e, 20)
            tap.ok(r.rc == EX_CONFIG and "ca-cert" in r.err and r.seconds < 10,
                   "4: ca-cert naming %s is refused at once (78, %.1f s)" % (what, r.seconds), r)

    # --- 5. node paths stay beneath --root; the directories kubeboot creates are 0755 ---
    tok = c.add_bootstrap_token()
    outside = tempfile.mkdtemp(prefix="kb-outside-")
    with Root() as root:
        root.write("/etc/kubeboot/kubeboot.ini", join_ini(tok, c.url, [c.ca_pin]))
        os.symlink(outside, root.p("/etc/kubernetes"))      # absolute: the root's own <outside>
        os.makedirs(root.p(outside))
        r = kubeboot("join", WRITE_ONLY, root=root)
        inside = root.p(outside + "/bootstrap-kubelet.conf")
        tap.ok(r.rc == 0 and os.path.exists(inside),
               "5: etc/kubernetes -> an absolute path: the files land at that path inside the root", r)
        tap.ok(not os.listdir(outside), "5: nothing is written outside the root", os.listdir(outside))
        tap.ok(inside in r.err, "5: the log names where the file really went", r.err)
        modes = {d: oct(os.stat(root.p(d)).st_mode & 0o777) for d in ("/var", "/var/lib", "/var/lib/kubelet")}
        tap.ok(modes["/var"] == "0o755" and modes["/var/lib"] == "0o755",
               "5: directories kubeboot creates in an empty root are 0755 (/var/lib/kubelet stays 0700)", modes)
    with Root() as root:
        root.write("/etc/kubeboot/kubeboot.ini", join_ini(tok, c.url, [c.ca_pin]))
        os.symlink(outside, root.p("/etc/kubernetes"))      # leads nowhere inside the root
        r = kubeboot("join", WRITE_ONLY, root=root)
        tap.ok(r.rc == EX_CANTCREAT and "/etc/kubernetes" in r.err and not os.listdir(outside),
               "5: a symlink leading nowhere inside the root: 73, nothing written outside", r)
    shutil.rmtree(outside, ignore_errors=True)

    # --- 3, 6. the scrub rewrites a symlinked ini where it lies; replaced files are wiped ---
    tok = c.add_bootstrap_token()
    secret = secret_of(tok)
    with Root() as root:
        root.write("/etc/kubeboot/real.ini", join_ini(tok, c.url, [c.ca_pin]))
        os.symlink("real.ini", root.p("/etc/kubeboot/kubeboot.ini"))  # (an absolute one is followed in the root too)
        r1 = kubeboot("join", WRITE_ONLY, root=root)
        boot = root.p("/etc/kubernetes/bootstrap-kubelet.conf")
        first = open(boot, "rb") if os.path.exists(boot) else None      # the inode a rewrite replaces
        r2 = kubeboot("join", WRITE_ONLY, root=root)
        tap.ok(r1.rc == 0 and r2.rc == 0, "3: a join from a symlinked ini writes the kubelet's files, twice", r2)
        old_boot = first.read() if first else b""
        if first:
            first.close()
        tap.ok(old_boot and secret.encode() not in old_boot,
               "6: the bootstrap kubeconfig a second write replaced no longer holds the token",
               old_boot[:200])
        old_ini = open(root.p("/etc/kubeboot/real.ini"), "rb")
        k = run_kubelet(root, timeout=45)
        r = kubeboot("join", root=root, cmdline="")      # kubelet has its certificate: finish runs
        real = root.read("/etc/kubeboot/real.ini")
        tap.ok(k.rc == 0 and r.rc == 0 and root.exists("/var/lib/kubeboot/joined"), "3: the join finishes", r)
        tap.ok(os.path.islink(root.p("/etc/kubeboot/kubeboot.ini")), "3: the ini is still the admin's symlink")
        tap.ok(secret not in real and "token removed by kubeboot" in real and "server = " in real,
               "3: the token is scrubbed from the symlink's target, the rest kept", real)
        tap.ok(("removed the token from %s" % root.p("/etc/kubeboot/real.ini")) in r.err,
               "3: the log names the file really scrubbed", r.err)
        before = old_ini.read()
        old_ini.close()
        tap.ok(before and secret.encode() not in before, "6: the ini's replaced inode no longer holds the token",
               before[:300])

    # --- 8. a relative --config is scrubbed too ---
    tok = c.add_bootstrap_token()
    secret = secret_of(tok)
    with Root() as root:
        cwd = tempfile.mkdtemp(prefix="kb-cwd-")
        with open(os.path.join(cwd, "node.ini"), "w") as f:
            f.write(join_ini(tok, c.url, [c.ca_pin]))
        os.chmod(os.path.join(cwd, "node.ini"), 0o600)

        def kb_in(*args):
            p = subprocess.run([KUBEBOOT, "--root=" + root.path, "--cmdline=/dev/null", "--config=node.ini"] +
                               list(args), cwd=cwd, capture_output=True, text=True, timeout=120,
                               env={k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"})
            return Run(p.returncode, p.stdout, p.stderr, 0)

        r = kb_in("join", WRITE_ONLY)
        k = run_kubelet(root, timeout=45)
        r = kb_in("join")
        with open(os.path.join(cwd, "node.ini")) as f:
            ini = f.read()
        tap.ok(r.rc == 0 and k.rc == 0 and secret not in ini and "token removed by kubeboot" in ini,
               "8: a relative --config is scrubbed after the join", "%s\n%s" % (r, ini))
        tap.ok(os.path.join(cwd, "node.ini") in r.err, "8: and named by its absolute path", r.err)
        shutil.rmtree(cwd, ignore_errors=True)

    # --- 7. no copy of the token is freed unwiped: the kernel command line's, libcurl's ---
    asan = b"libasan" in subprocess.run(["ldd", KUBEBOOT], capture_output=True).stdout
    shim = os.environ.get("KB_FREESCAN")
    if asan or not shim:
        tap.skip("7: no heap block is freed holding the token", "sanitizer build (its allocator comes first)"
                 if asan else "no KB_FREESCAN")
    else:
        tok = c.add_bootstrap_token()
        with Root() as root:
            root.write("/etc/kubeboot/kubeboot.ini", join_ini("", c.url, [c.ca_pin]).replace("token = \n", ""))
            r = kubeboot("join", WRITE_ONLY, root=root, cmdline="BOOT_IMAGE=/boot/vmlinuz root=/dev/vda1 ro quiet "
                         "kubeboot.token=%s console=ttyS0\n" % tok,
                         env={"LD_PRELOAD": shim, "KB_FREESCAN_NEEDLE": secret_of(tok)})
            freed = [ln for ln in r.err.splitlines() if ln.startswith("kb-freescan:")]
            tap.ok(r.rc == 0 and not freed,
                   "7: discovery, preflight and write free no heap block holding the token (%d did)" % len(freed), r)

    # --- 9. kubeboot token never sends the admin credentials over plain HTTP ---
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.5)
    plain = "http://127.0.0.1:%d" % listener.getsockname()[1]
    with open(c.admin_kubeconfig_path) as f:
        kc = yaml.safe_load(f)
    kc["clusters"][0]["cluster"]["server"] = plain
    kc_path = os.path.join(scratch, "admin-http.conf")
    with open(kc_path, "w") as f:
        yaml.safe_dump(kc, f)
    os.chmod(kc_path, 0o600)
    for verb in (["create", "--server=" + c.url], ["list"], ["delete", "abcdef"]):
        r = kubeboot("token", *verb, "--kubeconfig=" + kc_path, timeout=30)
        try:
            conn, _ = listener.accept()
            conn.close()
            reached = True
        except socket.timeout:
            reached = False
        tap.ok(r.rc == EX_CONFIG and "https" in r.err and not reached,
               "9: token %s with an http:// admin server: 78 before any request" % verb[0], r)
    listener.close()

attacker.stop()
shutil.rmtree(scratch, ignore_errors=True)
tap.done()

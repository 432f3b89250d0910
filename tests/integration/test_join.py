"""Issue 2: files written by `kubeboot join` (explicit CA, no discovery) bootstrap the
stand-in kubelet to a registered Node; real kubectl and the official Python client accept
the bootstrap kubeconfig; bad input exits 78 and writes nothing; the token secret never
appears in any output."""
import json
import os
import stat
import subprocess

from kbtest import *
from double import ClusterDouble

assert_in_netns()
tap = Tap()
SKIP_TO_WRITE = "--skip-phases=discover,preflight,start,wait,finish"


def ini(token, server, ca_path="/ca.crt", extra=""):
    return "[join]\ntoken = %s\nserver = %s\nca-cert = %s\n%s" % (token, server, ca_path, extra)


with ClusterDouble() as c:
    token = c.add_bootstrap_token(description="test_join")
    c.install_seed_rbac()
    outputs = []

    # --- the join: gather + write only, CA given explicitly with its pin ---
    with Root() as root:
        root.write("/ca.crt", c.ca_pem, 0o644)
        root.write("/etc/kubeboot/kubeboot.ini",
                   ini(token, c.url, extra="ca-cert-hash = %s\n[kubelet]\nnode-labels = node.kubernetes.io/pool=it\n"
                       "register-with-taints = dedicated=it:NoSchedule\nprovider-id = kubeboot://it/worker-1\n"
                       "node-ip = 127.0.0.1\ncluster-dns = 10.96.0.10\n" % c.ca_pin.upper().replace("SHA256", "sha256")))
        r = kubeboot("join", SKIP_TO_WRITE, root=root, cmdline="ro quiet kubeboot.node-name=worker-1\n")
        outputs += [r.out, r.err]
        tap.ok(r.rc == 0, "join with an explicit CA and an uppercase pin succeeds", r)
        modes = {"/etc/kubernetes/bootstrap-kubelet.conf": 0o600, "/etc/kubernetes/pki/ca.crt": 0o644,
                 "/var/lib/kubelet/config.yaml": 0o644, "/var/lib/kubelet/kubeadm-flags.env": 0o644}
        for path, mode in modes.items():
            ok = root.exists(path) and stat.S_IMODE(os.stat(root.p(path)).st_mode) == mode
            tap.ok(ok, "%s exists with mode %04o" % (path, mode))
        tap.ok(root.read("/etc/kubernetes/pki/ca.crt") == c.ca_pem, "pki/ca.crt is the cluster CA")
        leftovers = [f for f in root.files() if ".kubeboot-" in f]
        tap.ok(not leftovers, "no temporary files are left", leftovers)
        for phase in ("gather", "write"):
            tap.ok("kubeboot[%s]:" % phase in r.err, "the %s phase is visible on stderr" % phase)

        boot = root.p("/etc/kubernetes/bootstrap-kubelet.conf")
        # real kubectl reads the bootstrap kubeconfig and authenticates with it
        k = subprocess.run(["kubectl", "--kubeconfig", boot, "auth", "whoami", "-o", "json"],
                           capture_output=True, text=True, timeout=60)
        who = json.loads(k.stdout or "{}").get("status", {}).get("userInfo", {})
        tap.ok(k.returncode == 0 and who.get("username") == "system:bootstrap:" + token[:6]
               and "system:bootstrappers" in who.get("groups", []),
               "kubectl auth whoami with the bootstrap kubeconfig: system:bootstrap:<id>", k.stderr)
        k = subprocess.run(["kubectl", "--kubeconfig", boot, "get", "csr"], capture_output=True, text=True, timeout=60)
        tap.ok(k.returncode == 0, "kubectl lists CSRs with it (the bootstrapper's RBAC)", k.stderr)
        k = subprocess.run(["kubectl", "--kubeconfig", boot, "get", "nodes"], capture_output=True, text=True, timeout=60)
        tap.ok(k.returncode != 0 and "forbidden" in k.stderr.lower(), "but may not list Nodes (403)", k.stderr)
        outputs += [k.stdout, k.stderr]

        # the official Python client loads it and talks to the double
        py = subprocess.run([PYTHON, "-c", """
import sys
from kubernetes import client, config
config.load_kube_config(config_file=sys.argv[1])
print(client.VersionApi().get_code().git_version)
print(len(client.CertificatesV1Api().list_certificate_signing_request().items))
""", boot], capture_output=True, text=True, timeout=60)
        tap.ok(py.returncode == 0 and py.stdout.startswith("v1."), "the official Python client loads it", py.stderr)

        # the KubeletConfiguration and flags as the stand-in kubelet reads them
        k = run_kubelet(root, timeout=45)
        tap.ok(k.rc == 0, "the stand-in kubelet bootstraps from the written files", k)
        node = c.node("worker-1")
        tap.ok(node is not None, "Node worker-1 is registered at the double")
        if node:
            labels = node["metadata"].get("labels", {})
            tap.ok(labels.get("node.kubernetes.io/pool") == "it", "with the node-labels from the ini")
            taints = node.get("spec", {}).get("taints", [])
            tap.ok({"key": "dedicated", "value": "it", "effect": "NoSchedule"} in taints, "with the taint", taints)
            tap.ok(node["spec"].get("providerID") == "kubeboot://it/worker-1", "with the provider ID")
            addrs = node.get("status", {}).get("addresses", [])
            tap.ok({"type": "InternalIP", "address": "127.0.0.1"} in addrs, "with the node IP", addrs)
        tap.ok(root.exists("/etc/kubernetes/kubelet.conf") and root.exists("/var/lib/kubelet/pki/kubelet-client-current.pem"),
               "kubelet wrote its kubeconfig and client certificate")

        # config shows every key with its source, the token redacted
        r = kubeboot("config", "--json", root=root, cmdline="kubeboot.node-name=worker-1")
        outputs += [r.out, r.err]
        cfg = json.loads(r.out) if r.rc == 0 else {}
        keys = cfg.get("keys", {})
        tap.ok(keys.get("token", {}).get("value") == token[:7] + "*" * 16, "config --json redacts the token secret")
        tap.ok(keys.get("token", {}).get("source", "").endswith("/etc/kubeboot/kubeboot.ini:2"),
               "config --json names file and line", keys.get("token"))
        tap.ok(keys.get("node-name", {}).get("source") == "cmdline", "the cmdline wins over the ini")
        tap.ok(cfg.get("ca", {}).get("pins") == [c.ca_pin], "config shows the CA's pin")
        r = kubeboot("config", root=root, cmdline="")
        outputs += [r.out, r.err]
        tap.ok(r.rc == 0 and token[:7] + "*" * 16 in r.out and "/etc/kubeboot/kubeboot.ini:3" in r.out,
               "config prints a table with sources")

    # --- a pin that does not match: exit 78, the offered CA's pin printed, nothing written ---
    with Root() as root:
        root.write("/ca.crt", c.ca_pem, 0o644)
        wrong = "sha256:" + "0" * 64
        root.write("/etc/kubeboot/kubeboot.ini", ini(token, c.url, extra="ca-cert-hash = %s\n" % wrong))
        r = kubeboot("join", SKIP_TO_WRITE, root=root, cmdline="")
        outputs += [r.out, r.err]
        tap.ok(r.rc == EX_CONFIG and c.ca_pin in r.err and "ca-cert-hash" in r.err,
               "a wrong pin exits 78 and prints the CA's real pin", r)
        tap.ok(not root.exists("/etc/kubernetes") and not root.exists("/var/lib/kubelet"), "and writes nothing")

    # --- every malformed value: 78, one line naming source and key, nothing written ---
    bad = [
        ("token", "[join]\ntoken = NOTATOKEN.0123456789abcdef\nserver = %s\nca-cert=/ca.crt\n" % c.url, ""),
        ("server", "[join]\ntoken = %s\nserver = http://10.0.0.1:6443\nca-cert=/ca.crt\n" % token, ""),
        ("ca-cert-hash", "[join]\ntoken = %s\nserver = %s\nca-cert=/ca.crt\nca-cert-hash = md5:1\n" % (token, c.url), ""),
        ("ca-cert", "[join]\ntoken = %s\nserver = %s\nca-cert=/etc/hostname\n" % (token, c.url), ""),
        ("node-labels", "[join]\ntoken = %s\nserver = %s\nca-cert=/ca.crt\n" % (token, c.url),
         "kubeboot.node-labels=\"a=b,node-role.kubernetes.io/worker=\""),
        ("register-with-taints", "[join]\ntoken = %s\nserver = %s\nca-cert=/ca.crt\n[kubelet]\nregister-with-taints=x:Sometimes\n" % (token, c.url), ""),
        ("node-name", "[join]\ntoken = %s\nserver = %s\nca-cert=/ca.crt\nnode-name=Not_A_Name\n" % (token, c.url), ""),
        ("token", "[join]\nserver = %s\nca-cert=/ca.crt\n" % c.url, ""),  # missing
        ("token", "[join]\nserver = %s\nca-cert=/ca.crt\n" % c.url, "kubeboot.token=" + "x" * 4000),
    ]
    for key, text, cmdline in bad:
        with Root() as root:
            root.write("/ca.crt", c.ca_pem, 0o644)
            root.write("/etc/hostname", "not a certificate\n", 0o644)
            root.write("/etc/kubeboot/kubeboot.ini", text)
            r = kubeboot("join", SKIP_TO_WRITE, root=root, cmdline=cmdline)
            outputs += [r.out, r.err]
            errors = [l for l in r.err.splitlines() if "error:" in l]
            tap.ok(r.rc == EX_CONFIG and len(errors) == 1 and (": %s:" % key) in errors[0],
                   "bad %s: exit 78 with one error line naming source and key" % key, r)
            tap.ok(not root.exists("/etc/kubernetes") and not root.exists("/var/lib/kubelet"),
                   "bad %s: nothing written" % key)

    # --- files that cannot be read: 78 ---
    with Root() as root:
        root.write("/etc/kubeboot/kubeboot.ini", "[join]\n" + "# filler\n" * 9000)
        r = kubeboot("join", SKIP_TO_WRITE, root=root, cmdline="")
        tap.ok(r.rc == EX_CONFIG and "larger than" in r.err, "an oversized ini exits 78", r)
        os.chmod(root.p("/etc/kubeboot/kubeboot.ini"), 0)
    with Root() as root:
        os.makedirs(root.p("/etc/kubeboot/kubeboot.ini"))
        r = kubeboot("join", SKIP_TO_WRITE, root=root, cmdline="")
        tap.ok(r.rc == EX_CONFIG and "cannot read" in r.err, "an unreadable ini exits 78", r)
    with Root() as root:
        junk = "".join(chr(33 + (i * 7919) % 90) for i in range(4096))
        r = kubeboot("join", SKIP_TO_WRITE, root=root, cmdline=junk)
        tap.ok(r.rc == EX_CONFIG and "token: not set by any source" in r.err, "4 KiB of cmdline junk: 78, no token", r)

    assert_no_secret(tap, token, outputs, "any output of these runs")

tap.done()

"""Issue 12: joining a real kubeadm cluster as `kubeadm join` does, against the cluster double
in the modes that model one: a control plane still coming up, a token the authenticator has
not seen yet, kubeadm's kubelet-config, its objects, a Ready Node of the same name."""
import base64
import json
import os
import re
import subprocess
import threading
import time

import yaml

from kbtest import *
from double import ClusterDouble

assert_in_netns()
tap = Tap()
STOP_BEFORE_START = "--skip-phases=start,wait,finish"
outputs = []


def join(c, token, extra="", kubelet="", timeout="30s", pins=None, name="n1", root=None):
    """A join that stops after write; returns (Run, Root) — the root still exists."""
    root = root or Root()
    lines = ["[join]", "token = " + token, "server = " + c.url, "discovery-timeout = " + timeout,
             "node-name = " + name]
    for p in (pins if pins is not None else [c.ca_pin]):
        lines.append("ca-cert-hash = " + p)
    root.write("/etc/kubeboot/kubeboot.ini", "\n".join(lines) + "\n" + extra + "\n[kubelet]\n" + kubelet)
    r = kubeboot("join", STOP_BEFORE_START, root=root, cmdline="", timeout=180)
    outputs.extend([r.out, r.err])
    return r, root


def nothing_written(root):
    return not root.exists("/etc/kubernetes") and not root.exists("/var/lib/kubelet")


CI = "/api/v1/namespaces/kube-public/configmaps/cluster-info"

# --- 1. the control plane still coming up: cluster-info forbidden to anonymous, then served ---
with ClusterDouble() as c:
    c.install_seed_rbac()
    tok = c.add_bootstrap_token()
    c.publish_cluster_info(rbac_after=3)
    r, root = join(c, tok)
    denied = [q for q in c.requests if q["path"] == CI and q["status"] == 403]
    tap.ok(len(denied) > 0, "the double forbids the anonymous read while coming up (%d × 403)" % len(denied))
    tap.ok(r.rc == 0 and root.exists("/etc/kubernetes/bootstrap-kubelet.conf"),
           "cluster-info forbidden for the first seconds, then served: the join succeeds", r)
    root.cleanup()

with ClusterDouble() as c:
    c.install_seed_rbac()
    tok = c.add_bootstrap_token()
    c.publish_cluster_info(rbac_after=600)   # never within the deadline
    t0 = time.monotonic()
    r, root = join(c, tok, timeout="3s")
    took = time.monotonic() - t0
    tap.ok(r.rc == EX_UNAVAILABLE and took < 15,
           "cluster-info forbidden past discovery-timeout: 69, retried by the unit (%.1f s)" % took, r)
    tap.ok("403" in r.err and "kubeadm:bootstrap-signer-clusterinfo" in r.err,
           "the message names what was last seen and the Role to check", r.err)
    tap.ok(nothing_written(root), "nothing written")
    root.cleanup()

with ClusterDouble() as c:
    c.install_seed_rbac()
    tok = c.add_bootstrap_token()
    r, root = join(c, tok, timeout="2s")   # cluster-info never published: 404
    tap.ok(r.rc == EX_UNAVAILABLE and "cluster-info" in r.err,
           "no cluster-info past the deadline: 69 (a control plane may still be coming up)", r)
    root.cleanup()

# --- 2. a token the bootstrap authenticator has not seen yet ---
with ClusterDouble(token_auth_lag_seconds=3) as c:
    c.install_seed_rbac()
    c.publish_cluster_info()
    tok = c.add_bootstrap_token()
    r, root = join(c, tok)
    lagged = [q for q in c.requests if q["status"] == 401]
    tap.ok(len(lagged) > 0, "the double answers 401 while its informer lags (%d × 401)" % len(lagged))
    tap.ok(r.rc == 0 and root.exists("/etc/kubernetes/bootstrap-kubelet.conf"),
           "a token 401 for the first seconds: the join succeeds", r)
    root.cleanup()
    c.faults.token_auth_lag_seconds = 0
    noauth = c.add_bootstrap_token(usages=("signing",))
    t0 = time.monotonic()
    r, root = join(c, noauth, timeout="4s")
    tap.ok(r.rc == EX_CONFIG and "rejected the token" in r.err and time.monotonic() - t0 < 20,
           "a token that stays 401: 78 once the retry window (bounded by the deadline) is over", r)
    tap.ok(nothing_written(root), "nothing written")
    root.cleanup()

# --- 3, 4, 6: one healthy cluster ---
with ClusterDouble() as c:
    c.install_seed_rbac()
    c.publish_cluster_info()
    tok = c.add_bootstrap_token()
    tokens = [tok]

    # 3. serverTLSBootstrap only when asked
    r, root = join(c, tok)
    cfg = yaml.safe_load(root.read("/var/lib/kubelet/config.yaml"))
    tap.ok(r.rc == 0 and "serverTLSBootstrap" not in cfg,
           "serverTLSBootstrap is not written by default (kubeadm leaves it off)", cfg)
    # 4. a plain root: no resolvConf
    tap.ok("resolvConf" not in cfg, "a root without systemd-resolved: no resolvConf", cfg)
    root.cleanup()
    r, root = join(c, tok, kubelet="server-tls-bootstrap = true\n")
    cfg = yaml.safe_load(root.read("/var/lib/kubelet/config.yaml"))
    tap.ok(r.rc == 0 and cfg.get("serverTLSBootstrap") is True, "server-tls-bootstrap = true: written", r)
    root.cleanup()
    # a whole join (wait included): the stand-in kubelet starts once the files are there, as
    # systemd restarts a crash-looping kubelet, and asks for its serving certificate
    root = Root()
    root.write("/etc/kubeboot/kubeboot.ini", "[join]\ntoken = %s\nserver = %s\nca-cert-hash = %s\nnode-name = n3\n"
               "wait-timeout = 40s\n[kubelet]\nserver-tls-bootstrap = true\nnode-ip = 10.0.0.3\n"
               % (tok, c.url, c.ca_pin))
    kubelet_runs = []

    def kubelet_when_ready(end=time.monotonic() + 40):
        while time.monotonic() < end and not root.exists("/etc/kubernetes/bootstrap-kubelet.conf"):
            time.sleep(0.05)
        kubelet_runs.append(run_kubelet(root, timeout=35))

    th = threading.Thread(target=kubelet_when_ready, daemon=True)
    th.start()
    r = kubeboot("join", root=root, cmdline="", timeout=90)
    th.join(60)
    outputs.extend([r.out, r.err])
    serving = [x for x in c.csrs() if x["spec"]["signerName"] == "kubernetes.io/kubelet-serving"]
    tap.ok(r.rc == 0 and serving and ("kubectl certificate approve " + serving[0]["metadata"]["name"]) in r.err,
           "server-tls-bootstrap: wait reports the pending serving CSR with the approve command", (r, kubelet_runs))
    root.cleanup()

    # 4. systemd-resolved's stub in /etc/resolv.conf and its upstream file present
    def resolved_root():
        root = Root()
        root.write("/etc/resolv.conf", "# This is /run/systemd/resolve/stub-resolv.conf managed by "
                   "man:systemd-resolved(8).\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n", mode=0o644)
        root.write("/run/systemd/resolve/resolv.conf", "nameserver 192.0.2.53\n", mode=0o644)
        return root

    r, root = join(c, tok, root=resolved_root())
    cfg = yaml.safe_load(root.read("/var/lib/kubelet/config.yaml"))
    tap.ok(r.rc == 0 and cfg.get("resolvConf") == "/run/systemd/resolve/resolv.conf",
           "a systemd-resolved root: resolvConf is resolved's upstream file", cfg)
    # as Ubuntu lays it out: /etc/resolv.conf a link to resolved's stub file, absolute
    # links resolved inside the root (not on this machine)
    for target in ("../run/systemd/resolve/stub-resolv.conf", "/run/systemd/resolve/stub-resolv.conf"):
        ub = Root()
        ub.write("/run/systemd/resolve/stub-resolv.conf", "nameserver 127.0.0.53\noptions edns0 trust-ad\n", mode=0o644)
        ub.write("/run/systemd/resolve/resolv.conf", "nameserver 192.0.2.53\n", mode=0o644)
        os.makedirs(ub.p("/etc"), exist_ok=True)
        os.symlink(target, ub.p("/etc/resolv.conf"))
        r2, ub = join(c, tok, root=ub)
        cfg2 = yaml.safe_load(ub.read("/var/lib/kubelet/config.yaml")) if r2.rc == 0 else {}
        tap.ok(cfg2.get("resolvConf") == "/run/systemd/resolve/resolv.conf",
               "an Ubuntu root (/etc/resolv.conf -> %s): resolvConf is resolved's upstream file" % target, r2)
        ub.cleanup()
    # the stand-in kubelet, run on the root as the node would (--standin-root), sees no loopback
    kl = subprocess.run([PYTHON, KUBELET, "--standin-root=" + root.path, "--config=/var/lib/kubelet/config.yaml",
                         "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
                         "--kubeconfig=/etc/kubernetes/kubelet.conf", "--hostname-override=n1",
                         "--standin-exit-after-register"], capture_output=True, text=True, timeout=60,
                        env=dict(os.environ, KUBELET_STANDIN_TIMEOUT="45"))
    tap.ok(kl.returncode == 0 and "loopback nameserver" not in kl.stderr and "Could not open resolv" not in kl.stderr,
           "the stand-in kubelet registers with it and finds no loopback nameserver in resolvConf", kl.stderr)
    cr = kubeboot("config", root=root, cmdline="")
    tap.ok("systemd-resolved" in cr.out and "resolv-conf" in cr.out, "kubeboot config names where resolv-conf came from",
           cr)
    root.cleanup()
    r, root = join(c, tok, root=resolved_root(), kubelet="resolv-conf = /etc/k8s-resolv.conf\n")
    cfg = yaml.safe_load(root.read("/var/lib/kubelet/config.yaml"))
    tap.ok(r.rc == 0 and cfg.get("resolvConf") == "/etc/k8s-resolv.conf", "the resolv-conf key overrides", cfg)
    root.cleanup()
    r, root = join(c, tok, root=resolved_root(), kubelet="resolv-conf = /etc/resolv.conf\n", name="n4")
    kl = subprocess.run([PYTHON, KUBELET, "--standin-root=" + root.path, "--config=/var/lib/kubelet/config.yaml",
                         "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
                         "--kubeconfig=/etc/kubernetes/kubelet.conf", "--hostname-override=n4",
                         "--standin-exit-after-register"], capture_output=True, text=True, timeout=60,
                        env=dict(os.environ, KUBELET_STANDIN_TIMEOUT="45"))
    tap.ok("loopback nameserver" in kl.stderr and "127.0.0.53" in kl.stderr,
           "with the stub as resolvConf the stand-in reports the loopback nameserver (the CoreDNS loop)", kl.stderr)
    root.cleanup()
    stub_only = Root()
    stub_only.write("/etc/resolv.conf", "nameserver 127.0.0.53\n", mode=0o644)
    r, root = join(c, tok, root=stub_only)
    cfg = yaml.safe_load(root.read("/var/lib/kubelet/config.yaml"))
    tap.ok(r.rc == 0 and "resolvConf" not in cfg, "the stub without resolved's upstream file: no resolvConf", cfg)
    stub_only.cleanup()

    # 6. cluster-info's server goes into the bootstrap kubeconfig
    given = c.url.replace("127.0.0.1", "localhost")
    root = Root()
    root.write("/etc/kubeboot/kubeboot.ini", "[join]\ntoken = %s\nserver = %s\nca-cert-hash = %s\nnode-name = n6\n"
               % (tok, given, c.ca_pin))
    r = kubeboot("join", STOP_BEFORE_START, root=root, cmdline="")
    outputs.extend([r.out, r.err])
    boot = yaml.safe_load(root.read("/etc/kubernetes/bootstrap-kubelet.conf"))
    tap.ok(r.rc == 0 and boot["clusters"][0]["cluster"]["server"] == c.url and given in r.err and c.url in r.err,
           "cluster-info's server differs from the given one: the bootstrap kubeconfig names cluster-info's, both logged",
           r)
    # the stand-in kubelet bootstraps through it; the joined stamp and `kubeboot status` name it too
    kl = subprocess.run([PYTHON, KUBELET, "--standin-root=" + root.path, "--config=/var/lib/kubelet/config.yaml",
                         "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
                         "--kubeconfig=/etc/kubernetes/kubelet.conf", "--hostname-override=n6",
                         "--standin-exit-after-register"], capture_output=True, text=True, timeout=60,
                        env=dict(os.environ, KUBELET_STANDIN_TIMEOUT="45"))
    r = kubeboot("join", "--skip-phases=start", root=root, cmdline="", timeout=120)
    outputs.extend([r.out, r.err])
    st = kubeboot("status", "--json", root=root, cmdline="")
    server = (json.loads(st.out).get("stamp") or {}).get("server") if st.rc == 0 else None
    tap.ok(kl.returncode == 0 and r.rc == 0 and server == c.url,
           "the kubelet bootstraps through cluster-info's server; kubeboot status names it", (kl.stderr[-800:], r, st.out))
    root.cleanup()
    root = Root()
    root.write("/etc/kubeboot/ca.crt", c.ca_pem, mode=0o644)
    root.write("/etc/kubeboot/kubeboot.ini", "[join]\ntoken = %s\nserver = %s\nca-cert = /etc/kubeboot/ca.crt\n"
               "node-name = n6\n" % (tok, given))
    r = kubeboot("join", STOP_BEFORE_START, root=root, cmdline="")
    outputs.extend([r.out, r.err])
    boot = yaml.safe_load(root.read("/etc/kubernetes/bootstrap-kubelet.conf")) if r.rc == 0 else {}
    tap.ok(r.rc == 0 and boot["clusters"][0]["cluster"]["server"] == given,
           "with ca-cert (no discovery): the configured server", r)
    root.cleanup()

    # 9. kubeadm's pin format with an uppercase prefix
    r, root = join(c, tok, pins=[c.ca_pin.replace("sha256:", "SHA256:")])
    tap.ok(r.rc == 0, "a SHA256: pin is accepted (kubeadm's pubkeypin lowercases the format)", r)
    root.cleanup()
    r, root = join(c, tok, kubelet="node-ip = 10.0.0.5,10.0.0.6\n")
    tap.ok(r.rc == EX_CONFIG and "node-ip" in r.err and nothing_written(root),
           "two IPv4 node-ips: 78 (kubelet takes one per family)", r)
    root.cleanup()
    r, root = join(c, tok, kubelet="node-ip = 10.0.0.5,fd00::5\n")
    tap.ok(r.rc == 0, "a dual-stack node-ip pair is fine", r)
    root.cleanup()

# --- 5. the cluster's kubelet configuration as the base; 8. a Ready Node of the same name ---
CLUSTER_KUBELET = ClusterDouble.KUBEADM_KUBELET_CONFIG.replace(
    "clusterDNS:\n- 10.96.0.10\n", "clusterDNS:\n- 10.96.0.10\n").replace(
    "kind: KubeletConfiguration\n",
    "evictionHard:\n  memory.available: 300Mi\n  nodefs.available: 12%\nfeatureGates:\n  GracefulNodeShutdown: true\n"
    "kind: KubeletConfiguration\nmaxPods: 150\nproviderID: aws:///eu-west-1a/i-0control\n"
    "tlsCertFile: /etc/kubernetes/pki/cp-kubelet.crt\ntlsPrivateKeyFile: /etc/kubernetes/pki/cp-kubelet.key\n")
with ClusterDouble() as c:
    tok = c.seed_kubeadm(kubelet_yaml=CLUSTER_KUBELET)
    tokens.append(tok)
    r, root = join(c, tok, name="n5")
    cfg = yaml.safe_load(root.read("/var/lib/kubelet/config.yaml")) if r.rc == 0 else {}
    tap.ok(r.rc == 0 and "kube-system/kubelet-config as the base" in r.err, "kubelet-config readable: used as the base, and said so", r)
    tap.ok(cfg.get("clusterDNS") == ["10.96.0.10"] and cfg.get("maxPods") == 150,
           "its clusterDNS and maxPods land in config.yaml (no local keys)", cfg)
    tap.ok(cfg.get("evictionHard") == {"memory.available": "300Mi", "nodefs.available": "12%"} and
           cfg.get("featureGates") == {"GracefulNodeShutdown": True} and cfg.get("healthzPort") == 10248,
           "cluster-only fields (evictionHard, featureGates, healthzPort) land too", cfg)
    tap.ok(cfg.get("authentication", {}).get("x509", {}).get("clientCAFile") == "/etc/kubernetes/pki/ca.crt" and
           "staticPodPath" not in cfg and "providerID" not in cfg and "tlsCertFile" not in cfg and
           "tlsPrivateKeyFile" not in cfg and "resolvConf" not in cfg and
           cfg.get("containerRuntimeEndpoint") == "unix:///run/containerd/containerd.sock",
           "node-specific fields stay local (CA, staticPodPath, providerID, TLS files, resolvConf, CRI socket)", cfg)
    tap.ok(cfg.get("rotateCertificates") is True and cfg.get("apiVersion") == "kubelet.config.k8s.io/v1beta1",
           "rotateCertificates and the type stay kubeboot's", cfg)
    k = run_kubelet(root, timeout=45)
    node = c.node("n5")
    tap.ok(k.rc == 0 and node is not None and node["status"]["capacity"]["pods"] == "150",
           "the stand-in kubelet takes the merged config: Node n5 with 150 pods", k)
    root.cleanup()

    r, root = join(c, tok, name="n5b", kubelet="max-pods = 90\ncluster-dns = 10.32.0.10\nprovider-id = aws:///x/i-1\n")
    cfg = yaml.safe_load(root.read("/var/lib/kubelet/config.yaml")) if r.rc == 0 else {}
    tap.ok(cfg.get("maxPods") == 90 and cfg.get("clusterDNS") == ["10.32.0.10"] and
           cfg.get("providerID") == "aws:///x/i-1" and cfg.get("featureGates") == {"GracefulNodeShutdown": True},
           "local keys win over the cluster's, the rest of the base stays", cfg)
    root.cleanup()

    # a token outside kubeadm's group (kubeboot's old default) may not read it: 403 is no error
    c.install_seed_rbac()
    plain = c.add_bootstrap_token()
    tokens.append(plain)
    r, root = join(c, plain, name="n5c")
    cfg = yaml.safe_load(root.read("/var/lib/kubelet/config.yaml")) if r.rc == 0 else {}
    tap.ok(r.rc == 0 and "may not be read" in r.err and cfg.get("maxPods") == 110 and "clusterDNS" not in cfg,
           "kubelet-config forbidden to the token: built-in defaults, said so", r)
    root.cleanup()

    # 8. a Ready Node of the same name
    c.add_node("n8")
    r, root = join(c, tok, name="n8")
    tap.ok(r.rc == EX_CONFIG and "kubectl delete node n8" in r.err and "node-name" in r.err and nothing_written(root),
           "a Ready Node of the same name: 78 with the advice (delete it, or another node-name)", r)
    root.cleanup()
    c.add_node("n8-down", ready=False)
    r, root = join(c, tok, name="n8-down")
    tap.ok(r.rc == 0, "a Node of the same name that is not Ready: joins (as kubeadm)", r)
    root.cleanup()
    r, root = join(c, plain, name="n8", extra="", timeout="30s")
    tap.ok(r.rc == 0, "a token that may not get Nodes: the check is skipped (no kubeadm:get-nodes)", r)
    root.cleanup()

with ClusterDouble() as c:
    c.install_seed_rbac()
    c.publish_cluster_info()
    tok = c.add_bootstrap_token()
    tokens.append(tok)
    r, root = join(c, tok)
    # RBAC runs before the lookup: without kubeadm's Role the token gets 403, not 404
    cfg = yaml.safe_load(root.read("/var/lib/kubelet/config.yaml")) if r.rc == 0 else {}
    tap.ok(r.rc == 0 and "or does not exist" in r.err and cfg.get("maxPods") == 110,
           "no kubelet-config (a hand-built cluster): built-in defaults, said so", r)
    root.cleanup()

# --- 7. token create on a kubeadm cluster; 9. lists paged with limit/continue ---
import auth  # noqa: E402


def token_create(c, *args):
    return kubeboot("token", "create", "--kubeconfig=" + c.admin_kubeconfig_path, *args,
                    env={"KUBECONFIG": "", "HOME": "/nonexistent"})


with ClusterDouble() as c:
    kubeadm_tok = c.seed_kubeadm()
    tokens.append(kubeadm_tok)
    # 600 unrelated bindings that sort before kubeadm's: they are on the third page of 250
    for i in range(600):
        c.store.create(("rbac.authorization.k8s.io", "clusterrolebindings"), "",
                       auth.cluster_role_binding("a-filler-%03d" % i, "view", ["nobody-%d" % i]))
    before = len(c.requests)
    r = token_create(c)
    reqs = c.requests[before:]
    m = re.search(r"kubeboot\.token=([a-z0-9]{6}\.[a-z0-9]{16})", r.out)
    kb_tok = m.group(1) if m else "xxxxxx.xxxxxxxxxxxxxxxx"
    tokens.append(kb_tok)
    outputs.append(r.err)
    # POSTs answered 409 (an existing Role) create nothing
    posts = [q["path"] for q in reqs if q["method"] in ("POST", "PUT", "PATCH") and q["status"] in (200, 201)]
    tap.ok(r.rc == 0 and posts == ["/api/v1/namespaces/kube-system/secrets"],
           "token create on a kubeadm cluster creates nothing kubeadm already has (only the Secret)", (r, posts))
    pages = [q for q in reqs if q["path"].endswith("/clusterrolebindings") and q["method"] == "GET"]
    tap.ok(len(pages) == 3 and all("limit=" in q["query"] for q in pages) and "continue=" in pages[-1]["query"],
           "the ClusterRoleBindings are listed in pages (limit/continue), kubeadm's found on the third",
           [q["query"] for q in pages])
    sec = next((x for x in c.secrets() if x["metadata"]["name"] == "bootstrap-token-" + kb_tok[:6]), {"data": {}})
    groups = base64.b64decode(sec["data"].get("auth-extra-groups", "")).decode()
    tap.ok(groups == "system:bootstrappers:kubeadm:default-node-token",
           "the token carries kubeadm's default group", groups)
    r, root = join(c, kb_tok, name="n7")
    cfg = yaml.safe_load(root.read("/var/lib/kubelet/config.yaml")) if r.rc == 0 else {}
    tap.ok(r.rc == 0 and cfg.get("clusterDNS") == ["10.96.0.10"],
           "its token passes a join and reads kubeadm's kubelet-config", r)
    k = run_kubelet(root, timeout=45)
    tap.ok(k.rc == 0 and c.node("n7") is not None, "the stand-in kubelet registers Node n7 with it", k)
    root.cleanup()
    c.add_node("n7-ready")
    r, root = join(c, kb_tok, name="n7-ready")
    tap.ok(r.rc == EX_CONFIG and "already exists" in r.err, "its token may get Nodes: a Ready duplicate is refused", r)
    root.cleanup()

# a hand-built cluster with a kubelet-config but without kubeadm's Role
with ClusterDouble() as c:
    c.publish_kubelet_config(ClusterDouble.KUBEADM_KUBELET_CONFIG.replace("clusterDNS:\n- 10.96.0.10",
                                                                          "clusterDNS:\n- 10.32.0.10"), rbac=False)
    r = token_create(c, "--server=" + c.url)
    m = re.search(r"kubeboot\.token=([a-z0-9]{6}\.[a-z0-9]{16})", r.out)
    t7 = m.group(1) if m else "xxxxxx.xxxxxxxxxxxxxxxx"
    tokens.append(t7)
    outputs.append(r.err)
    rb = next((o for o in c.objects("rolebindings", "kube-system") if o["metadata"]["name"] == "kubeadm:kubelet-config"),
              {})
    subj = sorted(x["name"] for x in rb.get("subjects") or [])
    tap.ok(r.rc == 0 and subj == ["system:bootstrappers:kubeadm:default-node-token", "system:nodes"],
           "kubelet-config exists: token create adds kubeadm's Role/RoleBinding kubeadm:kubelet-config", (r, rb))
    crbs = {b["metadata"]["name"]: b for b in c.objects("clusterrolebindings")}
    tap.ok(all(n in crbs for n in ("kubeadm:kubelet-bootstrap", "kubeadm:node-autoapprove-bootstrap",
                                    "kubeadm:node-autoapprove-certificate-rotation", "kubeadm:get-nodes")) and
           crbs["kubeadm:kubelet-bootstrap"]["subjects"][0]["name"] == "system:bootstrappers:kubeadm:default-node-token",
           "the bindings name kubeadm's token group, under kubeadm's names, get-nodes included", sorted(crbs))
    r, root = join(c, t7, name="n7b")
    cfg = yaml.safe_load(root.read("/var/lib/kubelet/config.yaml")) if r.rc == 0 else {}
    tap.ok(r.rc == 0 and cfg.get("clusterDNS") == ["10.32.0.10"], "and its token reads it in a join", r)
    root.cleanup()

for t in tokens:
    assert_no_secret(tap, t, outputs, "the output of every run")
tap.done()

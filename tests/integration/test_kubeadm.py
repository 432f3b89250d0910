"""Issue 12: joining a real kubeadm cluster as `kubeadm join` does, against the cluster double
in the modes that model one: a control plane still coming up, a token the authenticator has
not seen yet, kubeadm's kubelet-config, its objects, a Ready Node of the same name."""
import time

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

for t in []:
    pass
tap.done()

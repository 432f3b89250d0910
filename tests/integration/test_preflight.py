"""Issue 15: the node checks of preflight, named as kubeadm names them
(cmd/kubeadm/app/preflight/checks.go). Each runs against a root set up to fail it (a /proc
substitute under --root, where the real one cannot be changed) or, for the port, this
test's own network namespace. Each failure: exit 78, one line naming the check, what was
found and the fix, nothing written; ignore-preflight-errors downgrades it to a warning
that `kubeboot status` shows; a node file missing under the root is "cannot tell"."""
import json
import os
import socket

from kbtest import *
from double import ClusterDouble

assert_in_netns()
tap = Tap()
STOP_BEFORE_START = "--skip-phases=start,wait,finish"
outputs = []
SOCK = "/run/containerd/containerd.sock"
KUBELET_STUB = "#!/bin/sh\n# prints what a real kubelet prints for --version\n[ \"$1\" = --version ] && echo 'Kubernetes %s' && exit 0\nexit 1\n"
listeners = []


def cri_socket(root, listening=True):
    """A CRI socket in the root: one that accepts (listen), or a stale one (bound, no listener:
    connect() is refused, as after a runtime crashed without removing its socket)."""
    path = root.p(SOCK)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    if listening:
        s.listen(16)
    listeners.append(s)


def node(c, token, swaps=None, ip_forward="1", ip6_forward=None, kubelet="v1.32.0", cri=True, extra=""):
    """A root that passes every check, but for what the arguments change (None: leave it out)."""
    root = Root()
    root.write("/etc/kubeboot/kubeboot.ini",
               "[join]\ntoken = %s\nserver = %s\nca-cert-hash = %s\n%s%s"
               % (token, c.url, c.ca_pin, "" if "node-name" in extra else "node-name = localhost\n", extra))
    if swaps is not None:
        root.write("/proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n" + swaps, 0o444)
    if ip_forward is not None:
        root.write("/proc/sys/net/ipv4/ip_forward", ip_forward + "\n", 0o644)
    if ip6_forward is not None:
        root.write("/proc/sys/net/ipv6/conf/default/forwarding", ip6_forward + "\n", 0o644)
    if kubelet is not None:
        root.write("/usr/bin/kubelet", KUBELET_STUB % kubelet, 0o755)
    if cri is not None:
        cri_socket(root, listening=cri)
    return root


def join(root):
    r = kubeboot("join", STOP_BEFORE_START, root=root, cmdline="", timeout=120)
    outputs.extend([r.out, r.err])
    return r


def nothing_written(root):
    return not root.exists("/etc/kubernetes/bootstrap-kubelet.conf") and not root.exists("/var/lib/kubelet/config.yaml")


def failed_with(r, root, check, *words):
    line = [l for l in r.err.splitlines() if ("[preflight] %s:" % check) in l]
    return r.rc == EX_CONFIG and len(line) == 1 and all(w in line[0] for w in words) and nothing_written(root)


def status_warnings(root):
    s = kubeboot("status", "--json", root=root, cmdline="")
    try:
        return json.loads(s.out).get("preflightWarnings", [])
    except ValueError:
        return []


with ClusterDouble() as c:
    c.install_seed_rbac()
    c.publish_cluster_info()
    token = c.add_bootstrap_token(description="test_preflight")

    # --- a node that passes: every check quiet, kubelet's and the apiserver's versions named ---
    with node(c, token, swaps="") as root:
        r = join(root)
        tap.ok(r.rc == 0 and root.exists("/var/lib/kubelet/config.yaml"), "a prepared node passes the node checks", r)
        tap.ok("KubeletVersion: kubelet Kubernetes v1.32.0, apiserver v1.32.0" in r.err,
               "KubeletVersion names both versions", r.err)
        for check in ("CRI", "Swap", "FileContent--proc-sys-net-ipv4-ip_forward", "Port-10250"):
            tap.ok("[preflight] %s:" % check not in r.err, "%s has nothing to say" % check)

    # --- CRI: a socket that refuses connections ---
    with node(c, token, swaps="", cri=False) as root:
        r = join(root)
        tap.ok(failed_with(r, root, "CRI", "nothing accepts connections on", root.p(SOCK), "start the container runtime"),
               "CRI: a refusing socket fails with 78, naming the socket", r)
        tap.ok("1 node check failed (CRI)" in r.err and "ignore-preflight-errors=CRI" in r.err,
               "the last line names the failed check and how to ignore it", r.err)
        st = kubeboot("status", "--json", root=root, cmdline="")
        last = json.loads(st.out or "{}").get("lastFailure") or {}
        tap.ok(last.get("phase") == "preflight" and last.get("exit") == 78 and "CRI" in last.get("message", ""),
               "kubeboot status records the failure", st)

    # --- CRI: no socket under --root is "cannot tell" ---
    with node(c, token, swaps="", cri=None) as root:
        r = join(root)
        tap.ok(r.rc == 0 and "[preflight] CRI: no socket at" in r.err and "cannot tell" in r.err,
               "CRI: a missing socket under --root is a warning, not a failure", r)

    # --- Swap: on; ignored (lowercase name); missing /proc/swaps ---
    swapline = "/dev/vda2                               partition\t1048572\t\t0\t\t-2\n"
    with node(c, token, swaps=swapline) as root:
        r = join(root)
        tap.ok(failed_with(r, root, "Swap", "swap is on (/dev/vda2)", "swapoff -a", "/etc/fstab", "failSwapOn"),
               "Swap: swap on fails with 78, with swapoff and fstab as the fix", r)
    with node(c, token, swaps=swapline, extra="ignore-preflight-errors = swap\n") as root:
        r = join(root)
        tap.ok(r.rc == 0 and "[preflight] Swap: swap is on" in r.err and "(ignored: ignore-preflight-errors)" in r.err,
               "ignore-preflight-errors=swap (any case) downgrades Swap to a warning", r)
    # preflight writes nothing: the warnings go into the failure record (or the joined stamp)
    with node(c, token, swaps=swapline, ip_forward="0", extra="ignore-preflight-errors = swap\n") as root:
        before = set(root.files())
        r = join(root)
        added = set(root.files()) - before
        tap.ok(r.rc == EX_CONFIG and added == {root.p("/var/lib/kubeboot/last-failure")},
               "a failed preflight writes nothing but the failure record", (r, added))
        w = status_warnings(root)
        tap.ok(any(x.get("check") == "Swap" and x.get("ignored") and "swap is on" in x.get("message", "") for x in w),
               "kubeboot status --json lists the ignored Swap warning", w)
        s = kubeboot("status", root=root, cmdline="")
        tap.ok("preflight:    Swap: swap is on" in s.out, "kubeboot status shows it", s)
    with node(c, token, swaps=None) as root:
        r = join(root)
        tap.ok(r.rc == 0 and "[preflight] Swap: cannot read /proc/swaps" in r.err and "cannot tell" in r.err,
               "Swap: no /proc/swaps under the root is a warning", r)

    # --- ip_forward: off; missing; IPv6 where node-ip has one ---
    with node(c, token, swaps="", ip_forward="0") as root:
        r = join(root)
        tap.ok(failed_with(r, root, "FileContent--proc-sys-net-ipv4-ip_forward", "/proc/sys/net/ipv4/ip_forward is 0",
                           "sysctl -w net.ipv4.ip_forward=1", "/etc/sysctl.d/"),
               "ip_forward 0 fails with 78, with the sysctl and a sysctl.d file as the fix", r)
    with node(c, token, swaps="", ip_forward=None) as root:
        r = join(root)
        tap.ok(r.rc == 0 and "[preflight] FileContent--proc-sys-net-ipv4-ip_forward: cannot read" in r.err,
               "ip_forward missing under the root is a warning", r)
    with node(c, token, swaps="", ip6_forward="0", extra="[kubelet]\nnode-ip = 127.0.0.1,::1\n") as root:
        r = join(root)
        tap.ok(failed_with(r, root, "FileContent--proc-sys-net-ipv6-conf-default-forwarding",
                           "net.ipv6.conf.default.forwarding=1"),
               "with an IPv6 node-ip, IPv6 forwarding off fails with 78", r)
    with node(c, token, swaps="", ip6_forward="0") as root:
        r = join(root)
        tap.ok(r.rc == 0 and "ipv6" not in r.err, "without an IPv6 node-ip, IPv6 forwarding is not checked", r)

    # --- Port-10250: something else listens (this test, in its own network namespace) ---
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    busy.bind(("127.0.0.1", 10250))
    busy.listen(1)
    try:
        with node(c, token, swaps="") as root:
            r = join(root)
            tap.ok(failed_with(r, root, "Port-10250", "port 10250 is in use", "ss -ltnp"),
                   "Port-10250: a listener on 127.0.0.1:10250 fails with 78", r)
    finally:
        busy.close()

    # --- KubeletVersion: newer than the apiserver; too old; the oldest allowed; missing ---
    with node(c, token, swaps="", kubelet="v1.33.1") as root:
        r = join(root)
        tap.ok(failed_with(r, root, "KubeletVersion", "kubelet Kubernetes v1.33.1", "apiserver v1.32.0",
                           "newer than the apiserver"),
               "KubeletVersion: a kubelet newer than the apiserver fails, naming both versions", r)
    with node(c, token, swaps="", kubelet="v1.28.15") as root:
        r = join(root)
        tap.ok(failed_with(r, root, "KubeletVersion", "v1.28.15", "4 minor versions older", "at most 3"),
               "KubeletVersion: four minors older than a 1.32 apiserver fails", r)
    with node(c, token, swaps="", kubelet="v1.29.0") as root:
        r = join(root)
        tap.ok(r.rc == 0, "KubeletVersion: three minors older passes (skew policy from 1.28)", r)
    with node(c, token, swaps="", kubelet=None, extra="kubelet-path = /opt/k8s/kubelet\n") as root:
        root.write("/opt/k8s/kubelet", KUBELET_STUB % "v1.34.0", 0o755)
        r = join(root)
        tap.ok(failed_with(r, root, "KubeletVersion", "(/opt/k8s/kubelet)", "v1.34.0"),
               "kubelet-path names the kubelet to check", r)
    with node(c, token, swaps="", kubelet=None) as root:
        r = join(root)
        tap.ok(r.rc == 0 and "[preflight] KubeletVersion: no kubelet at /usr/bin/kubelet or /opt/bin/kubelet under --root"
               in r.err, "no kubelet under --root is a warning", r)

    # --- Hostname: a node name that does not resolve is a warning only, as in kubeadm ---
    with node(c, token, swaps="", extra="node-name = no-such-node.invalid\n") as root:
        r = join(root)
        tap.ok(r.rc == 0 and '[preflight] Hostname: node name "no-such-node.invalid" does not resolve' in r.err,
               "Hostname: an unresolvable node name is a warning", r)

    # --- several failures: all reported, one summary; `all` ignores every one ---
    with node(c, token, swaps=swapline, ip_forward="0", kubelet="v1.33.0") as root:
        r = join(root)
        tap.ok(r.rc == EX_CONFIG and "3 node checks failed (Swap,FileContent--proc-sys-net-ipv4-ip_forward,KubeletVersion)"
               in r.err and nothing_written(root), "three failures are all reported before exiting 78", r)
    with node(c, token, swaps=swapline, ip_forward="0", kubelet="v1.33.0", cri=False,
              extra="ignore-preflight-errors = all\n") as root:
        r = join(root)
        tap.ok(r.rc == 0 and r.err.count("(ignored: ignore-preflight-errors)") == 4,
               "ignore-preflight-errors=all downgrades every failure to a warning", r)
    with node(c, token, swaps="", extra="ignore-preflight-errors = Swapp\n") as root:
        r = join(root)
        tap.ok(r.rc == 0 and 'ignore-preflight-errors: "Swapp" names no check kubeboot runs' in r.err,
               "an unknown name in ignore-preflight-errors is warned about, naming the key", r)
    with node(c, token, swaps="", extra="ignore-preflight-errors = Swap;rm\n") as root:
        r = join(root)
        tap.ok(r.rc == EX_CONFIG and "ignore-preflight-errors" in r.err, "a malformed name is refused (78)", r)

    # --- Swap allowed by the cluster: kube-system/kubelet-config with failSwapOn: false (NodeSwap) ---
    c.publish_kubelet_config("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                             "failSwapOn: false\n")
    kubeadm_token = c.add_bootstrap_token(extra_groups=(c.KUBEADM_TOKEN_GROUP,))
    with node(c, kubeadm_token, swaps=swapline) as root:
        r = join(root)
        tap.ok(r.rc == 0 and "the cluster's KubeletConfiguration allows it (failSwapOn: false)" in r.err
               and "[preflight] Swap:" not in r.err, "Swap: swap on passes where the cluster's kubelet-config "
               "sets failSwapOn: false", r)
    with node(c, token, swaps=swapline) as root:
        r = join(root)
        tap.ok(failed_with(r, root, "Swap", "swap is on"),
               "Swap: a token that may not read kubelet-config still fails with swap on", r)

for s in listeners:
    s.close()
assert_no_secret(tap, token, outputs, "any output")
tap.done()

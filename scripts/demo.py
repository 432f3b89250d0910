"""The quick-start demo: one node joins the cluster double, each phase visible.

Run by scripts/demo inside a private network namespace (tests/netns-run); nothing here
reaches beyond loopback."""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "tests", "cluster"))
from double import ClusterDouble  # noqa: E402

KUBEBOOT = os.environ.get("KUBEBOOT_BIN") or os.path.join(SRC, "build", "agent", "kubeboot")
KUBELET = os.path.join(SRC, "tests", "cluster", "kubelet.py")
BOLD, DIM, OFF = ("\033[1m", "\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "", "")


def say(text):
    print("\n%s==> %s%s" % (BOLD, text, OFF), flush=True)


def kubelet(root, out):
    """Plays systemd: starts the node's kubelet once kubeboot has written its files."""
    boot = os.path.join(root, "etc/kubernetes/bootstrap-kubelet.conf")
    for _ in range(600):
        if os.path.exists(boot):
            break
        time.sleep(0.05)
    with open(os.path.join(root, "var/lib/kubelet/kubeadm-flags.env")) as f:
        flags = f.read().split("=", 1)[1].strip().strip('"').split()
    argv = ["/usr/bin/python3", KUBELET, "--bootstrap-kubeconfig=" + boot,
            "--kubeconfig=" + os.path.join(root, "etc/kubernetes/kubelet.conf"),
            "--config=" + os.path.join(root, "var/lib/kubelet/config.yaml"),
            "--root-dir=" + os.path.join(root, "var/lib/kubelet"), "--standin-exit-after-register"] + flags
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    out.append(p)


COMING_UP_SECONDS = 4


def main():
    if not os.path.exists(KUBEBOOT):
        sys.exit("build kubeboot first: meson setup build && ninja -C build")
    work = tempfile.mkdtemp(prefix="kubeboot-demo-")
    root = os.path.join(work, "node")
    try:
        say("Starting the cluster double (a fake kube-apiserver with real TLS) on https://127.0.0.1:6443")
        with ClusterDouble(os.path.join(work, "cluster"), port=6443) as c:
            c.install_seed_rbac()
            # as on a real first boot, the worker starts while the control plane is still
            # coming up: `kubeadm init` lets anonymous users read cluster-info last
            c.publish_cluster_info(rbac_after=COMING_UP_SECONDS)
            token = c.add_bootstrap_token(description="kubeboot demo")
            print("the control plane has: a bootstrap token %s.****************, the seed guide's RBAC bindings,"
                  "\nkube-public/cluster-info signed by the bootstrap signer; CA pin %s" % (token[:6], c.ca_pin))
            print("it is still coming up: for its first %d s anonymous reads of cluster-info are forbidden (403),"
                  "\nas while `kubeadm init` runs" % COMING_UP_SECONDS)

            say("The node image carries only a token, the server and the CA pin")
            os.makedirs(os.path.join(root, "etc/kubeboot"))
            ini = os.path.join(root, "etc/kubeboot/kubeboot.ini")
            with open(ini, "w") as f:
                f.write("[join]\ntoken = %s\nserver = %s\nca-cert-hash = %s\nnode-name = worker-1\n\n[kubelet]\nnode-ip = 127.0.0.1\n"
                        "cluster-dns = 10.96.0.10\n" % (token, c.url, c.ca_pin))
            os.chmod(ini, 0o600)
            subprocess.run([KUBEBOOT, "config", "--root=" + root, "--cmdline=/dev/null"], check=False)

            say("kubeboot join (at first boot, kubeboot.service runs this; here the demo plays systemd)")
            print("%s$ kubeboot join --root=%s%s" % (DIM, root, OFF), flush=True)
            out = []
            t = threading.Thread(target=kubelet, args=(root, out), daemon=True)
            t.start()
            t0 = time.monotonic()
            j = subprocess.run([KUBEBOOT, "join", "--root=" + root, "--cmdline=/dev/null"], timeout=180)
            took = time.monotonic() - t0
            t.join(30)
            if out:
                say("Meanwhile the kubelet (a stand-in) bootstrapped from the files kubeboot wrote")
                for line in out[0].stderr.splitlines():
                    if any(w in line for w in ("certificate signing request", "registered node", "Rotating")):
                        print("  " + line.split("kubelet.py] ", 1)[-1])
            if j.returncode != 0:
                sys.exit("kubeboot join failed with exit %d" % j.returncode)
            print("join took %.2f s" % took)

            say("The Node is registered")
            if shutil.which("kubectl"):
                subprocess.run(["kubectl", "--kubeconfig", c.admin_kubeconfig_path, "get", "nodes", "-o", "wide"])
            else:
                for n in c.nodes():
                    print("  Node %s" % n["metadata"]["name"])

            say("kubeboot status, and what the node keeps")
            subprocess.run([KUBEBOOT, "status", "--root=" + root])
            for d, _, files in sorted(os.walk(root)):
                for name in sorted(files):
                    p = os.path.join(d, name)
                    print("  %04o %s" % (os.stat(p).st_mode & 0o7777, p[len(root):]))
            with open(ini) as f:
                print("the ini after the join:\n" + "".join("  " + l for l in f))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""valgrind's memcheck on the main paths: config, a join that writes with an explicit CA,
a whole join with discovery, preflight, wait and finish, status and reset. No invalid
access, no definite or indirect leak. The whole join and the refused one run with
NOTIFY_SOCKET set, so that libsystemd is dlopen()ed and used (it stays loaded until exit)."""
import shutil
import tempfile
import threading
import time

from kbtest import *
from double import ClusterDouble

assert_in_netns()
tap = Tap()
if not shutil.which("valgrind"):
    tap.skip("valgrind", "valgrind is not installed (scripts/install-deps)")
    tap.done()
if "libasan" in subprocess.run(["ldd", KUBEBOOT], capture_output=True, text=True).stdout:
    tap.skip("valgrind", "this kubeboot is built with AddressSanitizer, which valgrind cannot run")
    tap.done()

VALGRIND = ["valgrind", "-q", "--leak-check=full", "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99", "--num-callers=30"]


def vg(*args, root, cmdline="", env=None):
    fd, path = tempfile.mkstemp(prefix="kb-cmdline-")
    os.write(fd, cmdline.encode())
    os.close(fd)
    try:
        p = subprocess.run(VALGRIND + [KUBEBOOT, "--root=" + root.path, "--cmdline=" + path] + list(args),
                           capture_output=True, text=True, timeout=600, env=dict(os.environ, **(env or {})))
    finally:
        os.unlink(path)
    return Run(p.returncode, p.stdout, p.stderr, 0)


def clean(r, what, expect=0):
    tap.ok(r.rc == expect and "==" not in r.err.replace("==>", ""), "%s: exit %d, valgrind silent" % (what, expect), r)


scratch = tempfile.mkdtemp(prefix="kb-vg-")
ns = NotifySocket(scratch)
notify = {"NOTIFY_SOCKET": ns.path}
with ClusterDouble() as c:
    c.install_seed_rbac()
    c.publish_cluster_info()
    token = c.add_bootstrap_token()
    with Root() as root:
        root.write("/ca.crt", c.ca_pem, 0o644)
        root.write("/etc/kubeboot/kubeboot.ini", "[join]\ntoken=%s\nserver=%s\nca-cert=/ca.crt\nca-cert-hash=%s\n"
                   "[kubelet]\nnode-labels=a=b\nregister-with-taints=x=y:NoSchedule\ncluster-dns=10.96.0.10\n"
                   % (token, c.url, c.ca_pin))
        clean(vg("config", root=root, cmdline="kubeboot.node-name=vg-1"), "config")
        clean(vg("config", "--json", root=root), "config --json")
        clean(vg("join", "--skip-phases=discover,preflight,start,wait,finish", root=root,
                 cmdline="kubeboot.node-name=vg-1"), "join writing with an explicit CA")
        clean(vg("config", root=root, cmdline="kubeboot.max-pods=-3"), "config with a bad value", EX_CONFIG)

    with Root() as root:
        root.write("/etc/kubeboot/kubeboot.ini", "[join]\ntoken=%s\nserver=%s\nca-cert-hash=%s\nnode-name=vg-2\n"
                   "wait-timeout=120s\ndiscovery-timeout=60s\n" % (token, c.url, c.ca_pin))

        def kubelet():
            for _ in range(1200):
                if root.exists("/etc/kubernetes/bootstrap-kubelet.conf"):
                    run_kubelet(root, timeout=100)
                    return
                time.sleep(0.1)
        t = threading.Thread(target=kubelet, daemon=True)
        t.start()
        clean(vg("join", root=root, env=notify), "a whole join: discovery, preflight, write, wait, finish")
        t.join(120)
        tap.ok("READY=1" in ns.messages(), "... its READY=1 came through the dlopen()ed libsystemd")
        clean(vg("status", "--json", root=root), "status --json")
        clean(vg("join", root=root), "join on a joined node")
        clean(vg("reset", "--force", root=root), "reset --force")
    with Root() as root:
        root.write("/etc/kubeboot/kubeboot.ini", "[join]\ntoken=%s\nserver=%s\nca-cert-hash=sha256:%s\n"
                   % (token, c.url, "0" * 64))
        clean(vg("join", root=root, env=notify), "a join refused for a pin mismatch", EX_CONFIG)
        tap.ok(any(m.startswith("STATUS=failed: ") for m in ns.messages()), "... notified as STATUS=failed")
ns.close()
shutil.rmtree(scratch, ignore_errors=True)
tap.done()

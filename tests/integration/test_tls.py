"""Issue 14: an apiserver reached by IP address, as most are (`https://10.0.0.1:6443`),
whose serving certificate names only that IP (no DNS name at all): the join succeeds;
a certificate for another IP is refused with nothing written; the same over IPv6.

Runs against whichever binary the build made: the portable one (libcurl over mbedTLS 3.6
built in, which matches IP-address SANs; Debian's mbedTLS 2.28 did not) in a
-Dportable=true build directory, Debian's libcurl (OpenSSL) in the distro build."""
import socket

from kbtest import *
from double import ClusterDouble

assert_in_netns()
tap = Tap()
ONE_HANDSHAKE = one_handshake_discovery()
STOP_BEFORE_START = "--skip-phases=start,wait,finish"


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def join(c, with_ca=False):
    """gather, discover (token discovery with the pin, or the CA given), preflight, write."""
    root = Root()
    lines = ["[join]", "token = " + c.add_bootstrap_token(), "server = " + c.url, "discovery-timeout = 10s",
             "node-name = n1"]
    if with_ca:
        root.write("/etc/kubeboot/ca.crt", c.ca_pem, 0o644)
        lines.append("ca-cert = /etc/kubeboot/ca.crt")
    else:
        lines.append("ca-cert-hash = " + c.ca_pin)
    root.write("/etc/kubeboot/kubeboot.ini", "\n".join(lines) + "\n")
    return kubeboot("join", STOP_BEFORE_START, root=root, timeout=60), root


def nothing_written(root):
    return not root.exists("/etc/kubernetes") and not root.exists("/var/lib/kubelet")


def check(host, key_type="rsa"):
    fam = "IPv6" if ":" in host else "IPv4"
    other = "::2" if ":" in host else "127.0.0.2"
    with ClusterDouble(host=host, sans=[host], key_type=key_type) as c:
        c.install_seed_rbac()
        c.publish_cluster_info()
        what = "%s, %s certificate whose only SAN is IP:%s" % (c.url, key_type.upper(), host)
        before = len(c.requests)
        r, root = join(c)
        tap.ok(r.rc == 0, "token discovery + preflight + write against %s" % what, r)
        conns = {q.get("conn") for q in c.requests[before:]}
        if ONE_HANDSHAKE:
            tap.ok(len(conns) == 1, "%s: discovery verified the first connection against the CA and IP:%s, and "
                   "the whole join ran on it (%d connections)" % (fam, host, len(conns)))
        versions = sorted({q.get("tls") for q in c.requests[before:]}, key=str)
        tap.ok(versions == ["TLSv1.3"], "%s: every request of the join went over TLS 1.3 (%s)" % (fam, versions))
        tap.ok(root.exists("/etc/kubernetes/pki/ca.crt") and root.read("/etc/kubernetes/pki/ca.crt").strip() == c.ca_pem.strip(),
               "%s: the discovered CA is written" % fam)
        tap.ok(root.exists("/etc/kubernetes/bootstrap-kubelet.conf") and
               ("server: " + c.url) in root.read("/etc/kubernetes/bootstrap-kubelet.conf"),
               "%s: the bootstrap kubeconfig names %s" % (fam, c.url))
        root.cleanup()
        r, root = join(c, with_ca=True)
        tap.ok(r.rc == 0, "%s: the CA given (no discovery): preflight over TLS verified by IP" % fam, r)
        root.cleanup()
    with ClusterDouble(host=host, sans=[other], key_type=key_type) as c:
        c.install_seed_rbac()
        c.publish_cluster_info()
        for with_ca in (False, True):
            how = "the CA given" if with_ca else "token discovery"
            r, root = join(c, with_ca=with_ca)
            # the pinned fetch (discovery) or preflight (CA given) is where the name is checked;
            # libcurl's words differ by TLS backend, "match" is in both (OpenSSL: "no
            # alternative certificate subject name matches target host name", mbedTLS:
            # "The certificate Common Name (CN) does not match with the expected CN")
            err = [l for l in r.err.splitlines() if "error:" in l]
            print("# %s, %s: %s" % (fam, how, err[-1] if err else "(no error line)"))
            tap.ok(r.rc == EX_CONFIG and "TLS" in r.err and c.url in r.err and "match" in r.err,
                   "%s, %s: a certificate for IP:%s is refused (78, naming TLS, the server and the mismatch)"
                   % (fam, how, other), r)
            tap.ok(nothing_written(root), "%s, %s: nothing written" % (fam, how), root.files())
            root.cleanup()


check("127.0.0.1")
check("127.0.0.1", key_type="ec")
if ipv6_loopback():
    check("::1")
else:
    tap.skip("IPv6: https://[::1]", "no IPv6 on loopback in this namespace")
tap.done()

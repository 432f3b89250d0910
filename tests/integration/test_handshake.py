"""Issue 14: one TLS handshake for token discovery, and why it is as safe as kubeadm's two.

kubeadm (cmd/kubeadm/app/discovery/token/token.go) fetches cluster-info without trust,
verifies its JWS with the token, then fetches it again over a new connection trusting only
the CA it found. The portable build (libcurl over mbedTLS) instead verifies the chain the
first connection presented against that CA and address, and runs preflight on the same
connection; every new connection after that is verified by mbedTLS in the handshake. The
distro build (Debian's libcurl over OpenSSL) reconnects, as kubeadm. Each check below
states what both must guarantee, and where they differ, what each does.

The peers: the cluster double; an impostor (its own CA, or the cluster's CA for another
address); a TCP forwarder that sends a join's first connection to one and later ones to
another. All on loopback inside tests/netns-run's namespace, all stopped at the end."""
import os
import socket
import tempfile
import shutil
import threading

from kbtest import *  # noqa: F403
from double import ClusterDouble  # noqa: E402
import pki  # noqa: E402
from impostor import Impostor, signed_cluster_info  # noqa: E402
from controllers import jws_detached_signature  # noqa: E402

assert_in_netns()
tap = Tap()
ONE = one_handshake_discovery()
WRITE_ONLY = "--skip-phases=start,wait,finish"
CLUSTER_INFO = "/api/v1/namespaces/kube-public/configmaps/cluster-info"
print("# this binary: %s" % ("one handshake (verifies the first connection)" if ONE else
                             "two handshakes (fetches cluster-info again, as kubeadm)"))


class Forwarder:
    """A TCP relay on 127.0.0.1: connection n (1, 2, ...) goes to route(n), a (host, port).
    It sees only TLS records; it stands for whatever sits on the path to the apiserver."""

    def __init__(self, route):
        self.route = route
        self.accepted = 0
        self.srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(16)
        self.srv.settimeout(0.2)
        self.port = self.srv.getsockname()[1]
        self.url = "https://127.0.0.1:%d" % self.port
        self.stopping = threading.Event()
        self.socks = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _pipe(self, a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _serve(self):
        while not self.stopping.is_set():
            try:
                client, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            self.accepted += 1
            try:
                upstream = socket.create_connection(self.route(self.accepted), timeout=5)
            except OSError:
                client.close()
                continue
            for s in (client, upstream):
                s.settimeout(30)
            with self.lock:
                self.socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def stop(self):
        self.stopping.set()
        self.thread.join(5)
        self.srv.close()
        with self.lock:
            for s in self.socks:
                try:
                    s.close()
                except OSError:
                    pass


def addr(url):
    host, port = url.rsplit("//", 1)[1].rsplit(":", 1)
    return host, int(port)


def join(server, token, pin):
    root = Root()
    root.write("/etc/kubeboot/kubeboot.ini",
               "[join]\ntoken = %s\nserver = %s\nnode-name = n1\ndiscovery-timeout = 5s\nca-cert-hash = %s\n"
               % (token, server, pin))
    return kubeboot("join", WRITE_ONLY, root=root, timeout=60), root


def nothing_written(root):
    return not root.exists("/etc/kubernetes") and not root.exists("/var/lib/kubelet")


def publish(c, tok, server=None):
    """cluster-info naming server, once the double's bootstrap signer has signed that
    version for tok (the old signature stays until it has)."""
    kc = c.publish_cluster_info(server=server)
    want = jws_detached_signature(kc, tok[:6], tok[7:])
    c.wait_for(lambda: (c.store.peek("configmaps", "kube-public", "cluster-info").get("data") or {})
               .get("jws-kubeconfig-" + tok[:6]) == want, 10)


def since(c, n):
    return c.requests[n:]


scratch = tempfile.mkdtemp(prefix="kb-handshake-")
own_ca = Impostor(os.path.join(scratch, "own"))       # its own CA, a certificate for 127.0.0.1
outputs = []
with ClusterDouble() as c:
    c.install_seed_rbac()
    tok = c.add_bootstrap_token()
    publish(c, tok)

    # --- 1. how many handshakes a join makes against one apiserver ---
    n = len(c.requests)
    r, root = join(c.url, tok, c.ca_pin)
    outputs += [r.out, r.err]
    reqs = since(c, n)
    gets = [q for q in reqs if q["path"] == CLUSTER_INFO]
    conns = sorted({q["conn"] for q in reqs})
    tap.ok(r.rc == 0, "1: token discovery + preflight + write succeed", r)
    if ONE:
        tap.ok(len(gets) == 1 and len(conns) == 1,
               "1: one cluster-info GET and one TLS connection for all %d requests (%d GETs, connections %s)"
               % (len(reqs), len(gets), conns), reqs)
        tap.ok(all(q["user"] == "system:anonymous" for q in reqs[:1]) and
               all(q["user"] == "system:bootstrap:" + tok[:6] for q in reqs[1:]),
               "1: the same connection carried the anonymous read, then the token's requests",
               [(q["path"], q["user"]) for q in reqs])
    else:
        tap.ok(len(gets) == 2 and len(conns) == 2 and gets[0]["conn"] != gets[1]["conn"],
               "1: cluster-info fetched twice over two connections, preflight on the second (%d GETs, "
               "connections %s)" % (len(gets), conns), reqs)
        tap.ok(all(q["conn"] == gets[1]["conn"] for q in reqs if q["user"] != "system:anonymous"),
               "1: the token only went over the pinned connection", reqs)
    root.cleanup()

    # --- 2. the server ends the connection after cluster-info: a new one, verified, carries on ---
    c.faults.close_paths = "cluster-info$"
    n = len(c.requests)
    r, root = join(c.url, tok, c.ca_pin)
    outputs += [r.out, r.err]
    reqs = since(c, n)
    tok_conns = {q["conn"] for q in reqs if q["user"] != "system:anonymous"}
    first = reqs[0]["conn"] if reqs else None
    tap.ok(r.rc == 0 and first not in tok_conns and len(tok_conns) == 1,
           "2: the connection closed after cluster-info: the token's requests go over one new connection "
           "(connections %s)" % sorted({q["conn"] for q in reqs}), r)
    root.cleanup()

    # --- 3. that new connection reaches an impostor with a certificate of its own CA ---
    # cluster-info names the forwarder, so that the join keeps talking to it (as kubeadm,
    # kubeboot uses the server cluster-info names)
    fwd = Forwarder(lambda i: addr(c.url) if i == 1 else addr(own_ca.url))
    publish(c, tok, server=fwd.url)
    own_ca.requests.clear()
    r, root = join(fwd.url, tok, c.ca_pin)
    outputs += [r.out, r.err]
    tap.ok(r.rc == EX_CONFIG and fwd.accepted >= 2,
           "3: after the first connection closed, a reconnect to an impostor (its own CA) fails the join: 78 "
           "(%d connections)" % fwd.accepted, r)
    tap.ok(own_ca.requests == [], "3: the impostor completes no TLS handshake: no request reaches it, "
           "so neither does the token", own_ca.requests)
    tap.ok(nothing_written(root), "3: nothing written")
    root.cleanup()
    fwd.stop()

    # --- 4. the same path, but the first connection stays open ---
    c.faults.close_paths = None
    fwd = Forwarder(lambda i: addr(c.url) if i == 1 else addr(own_ca.url))
    publish(c, tok, server=fwd.url)
    own_ca.requests.clear()
    r, root = join(fwd.url, tok, c.ca_pin)
    outputs += [r.out, r.err]
    if ONE:
        tap.ok(r.rc == 0 and fwd.accepted == 1,
               "4: one connection, verified after the fact, serves the whole join (%d connections)" % fwd.accepted, r)
    else:
        tap.ok(r.rc == EX_CONFIG and fwd.accepted == 2,
               "4: the pinned second fetch opens a new connection, which reaches the impostor and fails: 78", r)
    tap.ok(own_ca.requests == [], "4: no request reaches the impostor", own_ca.requests)
    root.cleanup()
    fwd.stop()

    # --- 5. the first connection presents a certificate of the cluster CA, for another address ---
    # Someone holding a certificate the cluster CA issued to another name (a kubelet serving
    # certificate, another apiserver's) relays the signed cluster-info: the CA and the JWS
    # check out, the address does not. kubeadm's second fetch fails the host check; the
    # after-the-fact check of the first connection must too.
    wrongname = Impostor(os.path.join(scratch, "wrongname"),
                         ca=(c.ca_cert_path, c.ca_key_path), sans=["127.0.0.2", "kubelet.example"])
    wrongname.cluster_info = signed_cluster_info(wrongname.url, c.ca_pem, tok)
    r, root = join(wrongname.url, tok, c.ca_pin)
    outputs += [r.out, r.err]
    tap.ok(r.rc == EX_CONFIG and "TLS" in r.err,
           "5: a certificate of the cluster CA for 127.0.0.2, serving 127.0.0.1: refused (78)", r)
    tap.ok(not any(q["authorization"] for q in wrongname.requests),
           "5: no credential reaches it (%d anonymous requests)" % len(wrongname.requests), wrongname.requests)
    tap.ok(nothing_written(root), "5: nothing written")
    root.cleanup()
    wrongname.stop()

    assert_no_secret(tap, tok, outputs, "every run")

own_ca.stop()
shutil.rmtree(scratch, ignore_errors=True)
tap.done()

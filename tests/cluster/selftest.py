#!/usr/bin/python3
"""Proves the cluster double behaves like a real apiserver, with real clients.

Run inside a loopback-only network namespace:
    tests/netns-run /usr/bin/python3 tests/cluster/selftest.py
Prints TAP; exits 0 when every case passes.
"""

import base64
import datetime
import email.utils
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)

import yaml  # noqa: E402

from double import ClusterDouble  # noqa: E402

PY = "/usr/bin/python3"
KUBECTL = os.environ.get("KUBECTL", "kubectl")
KUBELET = os.path.join(HERE, "kubelet.py")


# ------------------------------------------------------------------ tiny TAP runner
class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def case(self, name, fn):
        self.n += 1
        t0 = time.monotonic()
        try:
            fn()
            print("ok %d - %s (%.2fs)" % (self.n, name, time.monotonic() - t0), flush=True)
        except Exception as exc:   # report and go on with the next case
            self.failed += 1
            print("not ok %d - %s" % (self.n, name), flush=True)
            for line in ("%s: %s" % (type(exc).__name__, exc)).splitlines():
                print("#   " + line)
            for line in traceback.format_exc().splitlines()[-6:]:
                print("#   " + line)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


# ------------------------------------------------------------------ HTTP helpers
def https(c, method, path, token=None, body=None, certkey=None, ctype="application/json",
          ca_pem=None, timeout=10):
    ctx = ssl.create_default_context(cadata=ca_pem or c.ca_pem)
    if certkey:
        ctx.load_cert_chain(*certkey)
    conn = http.client.HTTPSConnection("127.0.0.1", c.port, context=ctx, timeout=timeout)
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        headers["Content-Type"] = ctype
    try:
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        raw = r.read()
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = raw.decode(errors="replace")
        return r.status, dict(r.getheaders()), obj
    finally:
        conn.close()


def kubectl(env, *args, kubeconfig=None, timeout=30):
    cmd = [KUBECTL] + list(args)
    if kubeconfig:
        cmd += ["--kubeconfig", kubeconfig]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def b64d(s):
    return base64.b64decode(s).decode()


def jws_verify(content, sig, token_id, token_secret):
    """Verify a detached JWS the way kubeadm's discovery does (recompute HS256 and compare)."""
    header, empty, signature = sig.split(".")
    check(empty == "", "not a detached JWS")
    hdr = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    check(hdr == {"alg": "HS256", "kid": token_id}, "unexpected JWS header %r" % hdr)
    payload = base64.urlsafe_b64encode(content.encode()).rstrip(b"=").decode()
    mac = hmac.new(token_secret.encode(), (header + "." + payload).encode(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.urlsafe_b64encode(mac).rstrip(b"=").decode(), signature)


# ------------------------------------------------------------------ the cases
def main():
    tmp = tempfile.mkdtemp(prefix="cluster-double-selftest-")
    env = dict(os.environ, HOME=os.path.join(tmp, "home"))
    env.pop("KUBECONFIG", None)
    os.makedirs(env["HOME"])
    tap = Tap()
    cases = []
    S = {}   # state shared between cases

    c = ClusterDouble(os.path.join(tmp, "double"))
    c.start()
    admin = c.admin_kubeconfig_path

    def t_version():
        st, hdr, v = https(c, "GET", "/version")
        check(st == 200, "status %s" % st)
        for f in ("major", "minor", "gitVersion", "gitCommit", "gitTreeState", "buildDate",
                  "goVersion", "compiler", "platform"):
            check(f in v, "missing %s" % f)
        d = email.utils.parsedate_to_datetime(hdr["Date"])
        check(abs(d.timestamp() - time.time()) < 5, "Date header off: %s" % hdr["Date"])
        st, _, body = https(c, "GET", "/healthz")
        check(st == 200 and body == "ok", "healthz %s %r" % (st, body))
    cases.append(("anonymous /version has every field, /healthz ok, Date header", t_version))

    def t_kubectl_nodes():
        rc, out, err = kubectl(env, "get", "nodes", kubeconfig=admin)
        check(rc == 0, "rc %d: %s" % (rc, err))
        check("No resources found" in (out + err), out + err)
    cases.append(("kubectl get nodes as kubernetes-admin", t_kubectl_nodes))

    token_id, token_secret = "07401b", "f395accd246ae52d"
    S["token"] = token_id + "." + token_secret

    def t_kubectl_create_token():
        exp = (datetime.datetime.utcnow() + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        doc = {"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "bootstrap-token-" + token_id, "namespace": "kube-system"},
               "type": "bootstrap.kubernetes.io/token",
               "stringData": {"token-id": token_id, "token-secret": token_secret,
                              "expiration": exp, "usage-bootstrap-authentication": "true",
                              "usage-bootstrap-signing": "true",
                              "auth-extra-groups": "system:bootstrappers:kubeboot"}}
        f = os.path.join(tmp, "token.yaml")
        with open(f, "w") as fh:
            yaml.safe_dump(doc, fh)
        rc, out, err = kubectl(env, "create", "-f", f, kubeconfig=admin)
        check(rc == 0 and "created" in out, "rc %d: %s %s" % (rc, out, err))
    cases.append(("kubectl create -f a bootstrap token Secret", t_kubectl_create_token))

    def t_kubectl_get_secret():
        rc, out, err = kubectl(env, "get", "secret", "-n", "kube-system",
                               "bootstrap-token-" + token_id, "-o", "json", kubeconfig=admin)
        check(rc == 0, err)
        s = json.loads(out)
        check(s["type"] == "bootstrap.kubernetes.io/token", s["type"])
        check(b64d(s["data"]["token-id"]) == token_id, "token-id")
        check("stringData" not in s, "stringData must be folded into data")
        for f in ("uid", "resourceVersion", "creationTimestamp"):
            check(f in s["metadata"], "metadata.%s missing" % f)
    cases.append(("kubectl get secret -o json: stringData folded into data, metadata set",
                  t_kubectl_get_secret))

    def t_whoami():
        kc = c.make_token_kubeconfig(os.path.join(tmp, "bootstrap.conf"), S["token"])
        S["bootstrap_kc"] = kc
        rc, out, err = kubectl(env, "auth", "whoami", "-o", "json", kubeconfig=kc)
        check(rc == 0, err)
        ui = json.loads(out)["status"]["userInfo"]
        check(ui["username"] == "system:bootstrap:" + token_id, ui)
        check(ui["groups"] == ["system:bootstrappers", "system:bootstrappers:kubeboot",
                               "system:authenticated"], ui["groups"])
    cases.append(("kubectl auth whoami with a bootstrap-token kubeconfig (protobuf request body)",
                  t_whoami))

    def t_no_seed_rbac():
        rc, out, err = kubectl(env, "auth", "can-i", "create", "csr", kubeconfig=S["bootstrap_kc"])
        check(rc == 1 and out.strip() == "no", "can-i before seed RBAC: %d %r" % (rc, out))
        st, _, body = https(c, "POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests",
                            token=S["token"], body={"metadata": {"generateName": "csr-"},
                                                    "spec": {}})
        check(st == 403, "status %s" % st)
        want = ('certificatesigningrequests.certificates.k8s.io is forbidden: User '
                '"system:bootstrap:%s" cannot create resource "certificatesigningrequests" in API '
                'group "certificates.k8s.io" at the cluster scope' % token_id)
        check(body["message"] == want and body["reason"] == "Forbidden", body)
    cases.append(("without the seed bindings: can-i says no, CSR create is 403 with the real message",
                  t_no_seed_rbac))

    def t_can_i():
        c.install_seed_rbac()
        rc, out, err = kubectl(env, "auth", "can-i", "create", "csr", kubeconfig=S["bootstrap_kc"])
        check(rc == 0 and out.strip() == "yes", "%d %r %r" % (rc, out, err))
        rc, out, err = kubectl(env, "auth", "can-i", "list", "nodes", kubeconfig=S["bootstrap_kc"])
        check(rc == 1 and out.strip() == "no", "%d %r" % (rc, out))
    cases.append(("kubectl auth can-i create csr after install_seed_rbac()", t_can_i))

    def t_python_client():
        from kubernetes import client, config
        api = config.new_client_from_config(config_file=admin)
        v = client.VersionApi(api).get_code()
        check(v.git_version.startswith("v1.32"), v.git_version)
        ns = [n.metadata.name for n in client.CoreV1Api(api).list_namespace().items]
        check("kube-system" in ns and "kube-public" in ns, ns)
        secrets = client.CoreV1Api(api).list_namespaced_secret(
            "kube-system", field_selector="type=bootstrap.kubernetes.io/token").items
        check([s.metadata.name for s in secrets] == ["bootstrap-token-" + token_id],
              [s.metadata.name for s in secrets])
        client.CertificatesV1Api(api).list_certificate_signing_request()
        config.load_kube_config(config_file=admin)
        check(client.CoreV1Api().read_namespace("default").status.phase == "Active", "phase")
    cases.append(("official Python client: VersionApi, CoreV1Api, CertificatesV1Api", t_python_client))

    def t_401s():
        expired = c.add_bootstrap_token(expiration=datetime.datetime.utcnow() -
                                        datetime.timedelta(minutes=1))
        noauth = c.add_bootstrap_token(usages=("signing",))
        for tok, what in ((expired, "expired"), (noauth, "usage-bootstrap-authentication unset"),
                          (token_id + ".0000000000000000", "wrong secret"),
                          ("not-a-bootstrap-token", "not bootstrap format")):
            st, _, body = https(c, "GET", "/api", token=tok)
            check(st == 401, "%s token: status %s" % (what, st))
            check(body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": "Unauthorized", "reason": "Unauthorized", "code": 401}, body)
        st, _, body = https(c, "GET", "/api/v1/nodes")
        check(st == 403 and body["message"] == 'nodes is forbidden: User "system:anonymous" cannot '
              'list resource "nodes" in API group "" at the cluster scope', body)
    cases.append(("expired / auth-usage-less / wrong tokens -> 401 Status; anonymous -> 403", t_401s))

    def t_kubelet_bootstrap():
        root = os.path.join(tmp, "node1")
        for d in ("etc/kubernetes/pki", "var/lib/kubelet"):
            os.makedirs(os.path.join(root, d))
        with open(os.path.join(root, "etc/kubernetes/pki/ca.crt"), "w") as f:
            f.write(c.ca_pem)
        bk = {"apiVersion": "v1", "kind": "Config",
              "clusters": [{"name": "kubernetes", "cluster": {
                  "certificate-authority": "/etc/kubernetes/pki/ca.crt", "server": c.url}}],
              "contexts": [{"name": "tls-bootstrap-token-user@kubernetes", "context": {
                  "cluster": "kubernetes", "user": "tls-bootstrap-token-user"}}],
              "current-context": "tls-bootstrap-token-user@kubernetes",
              "users": [{"name": "tls-bootstrap-token-user", "user": {"token": S["token"]}}]}
        with open(os.path.join(root, "etc/kubernetes/bootstrap-kubelet.conf"), "w") as f:
            yaml.safe_dump(bk, f)
        with open(os.path.join(root, "var/lib/kubelet/config.yaml"), "w") as f:
            f.write("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                    "rotateCertificates: true\nserverTLSBootstrap: true\ncgroupDriver: systemd\n"
                    "clusterDNS: [10.96.0.10]\nclusterDomain: cluster.local\nmaxPods: 50\n"
                    "providerID: kubeboot://worker-1\n"
                    "containerRuntimeEndpoint: unix:///run/containerd/containerd.sock\n"
                    "registerWithTaints:\n- key: kubeboot.io/new\n  value: \"true\"\n"
                    "  effect: NoSchedule\n")
        p = subprocess.run([PY, KUBELET, "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
                            "--kubeconfig=/etc/kubernetes/kubelet.conf",
                            "--config", "/var/lib/kubelet/config.yaml", "--node-ip=10.0.2.15",
                            "--hostname-override=Worker-1",
                            "--node-labels=node.kubernetes.io/pool=blue,kubeboot.io/joined=true",
                            "--pod-infra-container-image=registry.k8s.io/pause:3.10",
                            "--standin-root=" + root, "--standin-exit-after-register",
                            "--standin-timeout=15"], capture_output=True, text=True, timeout=40)
        check(p.returncode == 0, "kubelet rc %d:\n%s" % (p.returncode, p.stderr))
        pki = os.path.join(root, "var/lib/kubelet/pki")
        cur = os.path.join(pki, "kubelet-client-current.pem")
        target = os.readlink(cur)
        check(target.startswith("/var/lib/kubelet/pki/kubelet-client-2") and target.endswith(".pem"),
              target)
        real = root + target
        check(os.stat(real).st_mode & 0o777 == 0o600, "pem mode %o" % os.stat(real).st_mode)
        kc = os.path.join(root, "etc/kubernetes/kubelet.conf")
        check(os.stat(kc).st_mode & 0o777 == 0o600, "kubelet.conf mode")
        k = yaml.safe_load(open(kc))
        check(k["users"][0]["user"] == {"client-certificate": "/var/lib/kubelet/pki/kubelet-client-current.pem",
                                        "client-key": "/var/lib/kubelet/pki/kubelet-client-current.pem"},
              k["users"])
        check(k["clusters"][0]["cluster"]["certificate-authority"] == "/etc/kubernetes/pki/ca.crt", k)
        from cryptography import x509
        cert = x509.load_pem_x509_certificate(open(real, "rb").read())
        check(cert.subject.rfc4514_string() == "CN=system:node:worker-1,O=system:nodes",
              cert.subject.rfc4514_string())
        check(cert.issuer.rfc4514_string() == "CN=kubernetes", cert.issuer.rfc4514_string())
        check(b"PRIVATE KEY" in open(real, "rb").read(), "key missing from pem")
        S["node_pem"] = real
        n = c.node("worker-1")
        check(n is not None, "node not registered")
        lab = n["metadata"]["labels"]
        check(lab["kubernetes.io/hostname"] == "worker-1" and lab["node.kubernetes.io/pool"] == "blue"
              and lab["kubernetes.io/os"] == "linux", lab)
        check(n["spec"]["providerID"] == "kubeboot://worker-1", n["spec"])
        check(n["spec"]["taints"] == [{"key": "kubeboot.io/new", "value": "true",
                                       "effect": "NoSchedule"}], n["spec"])
        check({"type": "InternalIP", "address": "10.0.2.15"} in n["status"]["addresses"], n["status"])
        check(n["status"]["capacity"]["pods"] == "50", n["status"]["capacity"])
        client = [x for x in c.csrs() if x["spec"]["signerName"] ==
                  "kubernetes.io/kube-apiserver-client-kubelet"]
        check(len(client) == 1, client)
        csr = client[0]
        check(csr["metadata"]["name"].startswith("csr-"), csr["metadata"]["name"])
        check(csr["spec"]["username"] == "system:bootstrap:" + token_id, csr["spec"])
        check(csr["spec"]["usages"] == ["digital signature", "client auth"], csr["spec"]["usages"])
        cond = csr["status"]["conditions"][0]
        check(cond["type"] == "Approved" and cond["reason"] == "AutoApproved" and
              cond["message"] == "Auto approving kubelet client certificate after SubjectAccessReview.",
              cond)
        serving = [x for x in c.csrs() if x["spec"]["signerName"] == "kubernetes.io/kubelet-serving"]
        check(len(serving) == 1 and not serving[0]["status"].get("conditions"), serving)
        check(serving[0]["spec"]["username"] == "system:node:worker-1", serving[0]["spec"])
        S["serving_csr"] = serving[0]["metadata"]["name"]
    cases.append(("kubelet.py TLS bootstrap: CSR auto-approved + signed, pki/kubelet.conf written, "
                  "Node registered, serving CSR pending", t_kubelet_bootstrap))

    def t_kubelet_rerun_service():
        root = os.path.join(tmp, "node1")
        p = subprocess.Popen([PY, KUBELET, "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
                              "--kubeconfig=/etc/kubernetes/kubelet.conf",
                              "--config=/var/lib/kubelet/config.yaml", "--node-ip=10.0.2.15",
                              "--hostname-override=worker-1", "--standin-root=" + root],
                             stderr=subprocess.PIPE, text=True)
        try:
            lease = c.wait_for(lambda: c.store.peek("leases", "kube-node-lease", "worker-1") and
                               len([r for r in c.requests if r["path"].endswith("/leases/worker-1")
                                    and r["method"] == "GET"]) >= 2, 10)
            check(lease, "no node Lease")
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = p.wait(timeout=5)
            err = p.stderr.read()
        check(rc == 0, "SIGTERM exit %s:\n%s" % (rc, err))
        check("Kubeconfig exists and is valid, skipping bootstrap" in err, err)
        check("Node was previously registered" in err, err)
        check(len([x for x in c.csrs() if x["spec"]["signerName"] ==
                   "kubernetes.io/kube-apiserver-client-kubelet"]) == 1, "a second client CSR")
    cases.append(("kubelet.py re-run: valid kubeconfig kept, Node re-used, Lease renewed, "
                  "SIGTERM exits 0", t_kubelet_rerun_service))

    def t_kubectl_more():
        rc, out, err = kubectl(env, "get", "csr", kubeconfig=admin)
        check(rc == 0 and "Approved,Issued" in out and "Pending" in out, out + err)
        rc, out, err = kubectl(env, "describe", "node", "worker-1", kubeconfig=admin)
        check(rc == 0 and "kubeboot.io/new=true:NoSchedule" in out and "HolderIdentity:  worker-1"
              in out, out + err)
        rc, out, err = kubectl(env, "auth", "can-i", "--list", kubeconfig=S["bootstrap_kc"])
        check(rc == 0 and "certificatesigningrequests.certificates.k8s.io" in out, out + err)
    cases.append(("kubectl get csr (server-side table), describe node, auth can-i --list",
                  t_kubectl_more))

    def t_node_authz():
        ck = (S["node_pem"], S["node_pem"])
        st, _, body = https(c, "GET", "/api/v1/nodes/worker-1", certkey=ck)
        check(st == 200 and body["metadata"]["name"] == "worker-1", st)
        st, _, body = https(c, "GET", "/api/v1/nodes/worker-2", certkey=ck)
        check(st == 403, st)
        check(body["message"] == 'nodes "worker-2" is forbidden: User "system:node:worker-1" cannot '
              'get resource "nodes" in API group "" at the cluster scope: node \'worker-1\' cannot '
              'read \'worker-2\', only its own Node object', body["message"])
        st, _, body = https(c, "GET", "/api/v1/nodes", certkey=ck)
        check(st == 403 and "cannot read all nodes" in body["message"], body)
        st, _, body = https(c, "GET", "/api/v1/nodes?fieldSelector=metadata.name%3Dworker-1",
                            certkey=ck)
        check(st == 200 and len(body["items"]) == 1, st)
        st, _, body = https(c, "POST", "/api/v1/nodes", certkey=ck,
                            body={"apiVersion": "v1", "kind": "Node",
                                  "metadata": {"name": "worker-2"}})
        check(st == 403 and body["message"] == 'nodes "worker-2" is forbidden: node "worker-1" is '
              'not allowed to modify node "worker-2"', body)
        st, _, body = https(c, "PATCH", "/api/v1/nodes/worker-1", certkey=ck,
                            ctype="application/merge-patch+json",
                            body={"metadata": {"labels": {"node-role.kubernetes.io/worker": ""}}})
        check(st == 403 and "is not allowed to modify labels: node-role.kubernetes.io/worker" in
              body["message"], body)
        st, _, body = https(c, "PATCH", "/api/v1/nodes/worker-1/status", certkey=ck,
                            ctype="application/strategic-merge-patch+json",
                            body={"status": {"conditions": [{"type": "Ready", "status": "True",
                                                             "reason": "Again"}]}})
        check(st == 200, body)
        conds = {x["type"]: x for x in body["status"]["conditions"]}
        check(conds["Ready"]["reason"] == "Again" and "MemoryPressure" in conds, conds)
    cases.append(("Node authorizer + NodeRestriction: own Node only, no node-role labels",
                  t_node_authz))

    def t_selfnodeclient():
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        key = ec.generate_private_key(ec.SECP256R1())
        csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
            x509.NameAttribute(NameOID.COMMON_NAME, "system:node:worker-1")])).sign(key, hashes.SHA256())
        pem = csr.public_bytes(serialization.Encoding.PEM)
        st, _, body = https(c, "POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests",
                            certkey=(S["node_pem"], S["node_pem"]),
                            body={"metadata": {"generateName": "csr-"},
                                  "spec": {"request": base64.b64encode(pem).decode(),
                                           "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                                           "usages": ["digital signature", "client auth"]}})
        check(st == 201, body)
        name = body["metadata"]["name"]
        got = c.wait_for(lambda: (c.csr(name) or {}).get("status", {}).get("certificate"), 10)
        check(got, "renewal CSR not issued")
        cond = c.csr(name)["status"]["conditions"][0]
        check(cond["message"] == "Auto approving self kubelet client certificate after "
              "SubjectAccessReview.", cond)
    cases.append(("renewal CSR with the node's own cert is approved via selfnodeclient",
                  t_selfnodeclient))

    def t_watch_approve():
        name = S["serving_csr"]
        ctx = ssl.create_default_context(cadata=c.ca_pem)
        ctx.load_cert_chain(S["node_pem"], S["node_pem"])
        conn = http.client.HTTPSConnection("127.0.0.1", c.port, context=ctx, timeout=10)
        conn.request("GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests?watch=1&"
                     "fieldSelector=metadata.name%3D" + name + "&timeoutSeconds=5")
        r = conn.getresponse()
        check(r.status == 200, r.status)
        first = json.loads(r.readline())
        check(first["type"] == "ADDED" and first["object"]["metadata"]["name"] == name, first)
        rc, out, err = kubectl(env, "certificate", "approve", name, kubeconfig=admin)
        check(rc == 0, err)
        types = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            ev = json.loads(r.readline())
            types.append(ev["type"])
            if ev["object"].get("status", {}).get("certificate"):
                break
        conn.close()
        check(types and all(t == "MODIFIED" for t in types), types)
        pem = base64.b64decode(c.csr(name)["status"]["certificate"])
        from cryptography import x509
        cert = x509.load_pem_x509_certificate(pem)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        check([str(i) for i in san.get_values_for_type(x509.IPAddress)] == ["10.0.2.15"], san)
    cases.append(("watch a CSR by name; kubectl certificate approve (protobuf) -> MODIFIED, signed",
                  t_watch_approve))

    def t_jws():
        c.publish_cluster_info()
        got = c.wait_for(lambda: (c.configmap("kube-public", "cluster-info") or {}).get(
            "data", {}).get("jws-kubeconfig-" + token_id), 10)
        check(got, "no JWS for the token")
        st, _, cm = https(c, "GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info")
        check(st == 200, "anonymous cluster-info %s" % st)
        kc = cm["data"]["kubeconfig"]
        check(yaml.safe_load(kc)["clusters"][0]["cluster"]["server"] == c.url, kc)
        check(jws_verify(kc, cm["data"]["jws-kubeconfig-" + token_id], token_id, token_secret),
              "JWS does not verify")
        check("jws-kubeconfig-" + S["token"].split(".")[0] in cm["data"], cm["data"].keys())
        st, _, body = https(c, "GET", "/api/v1/namespaces/kube-system/secrets")
        check(st == 403, "anonymous kube-system secrets %s" % st)
        c.delete_bootstrap_token(token_id)
        gone = c.wait_for(lambda: "jws-kubeconfig-" + token_id not in
                          c.configmap("kube-public", "cluster-info")["data"], 10)
        check(gone, "JWS still there after the token was deleted")
        S["token"] = c.add_bootstrap_token()
    cases.append(("cluster-info: anonymous read, JWS (HS256) verifies, removed with the token", t_jws))

    def t_signer_delay_and_mitm():
        c.faults.signer_delay_seconds = 1.0
        t0 = time.monotonic()
        tok = c.add_bootstrap_token()
        tid = tok.split(".")[0]
        cm = c.configmap("kube-public", "cluster-info")
        check("jws-kubeconfig-" + tid not in cm["data"], "JWS appeared before the delay")
        check(c.wait_for(lambda: "jws-kubeconfig-" + tid in
                         c.configmap("kube-public", "cluster-info")["data"], 5), "JWS never came")
        check(time.monotonic() - t0 >= 0.9, "JWS came too early")
        c.faults.signer_delay_seconds = 0
        c.faults.cluster_info_alt_ca_after = 2
        path = "/api/v1/namespaces/kube-public/configmaps/cluster-info"
        _, _, first = https(c, "GET", path)
        _, _, second = https(c, "GET", path)
        c.faults.cluster_info_alt_ca_after = None
        ca1 = yaml.safe_load(first["data"]["kubeconfig"])["clusters"][0]["cluster"]
        ca2 = yaml.safe_load(second["data"]["kubeconfig"])["clusters"][0]["cluster"]
        check(ca1["certificate-authority-data"] != ca2["certificate-authority-data"], "same CA")
        check(b64d(ca1["certificate-authority-data"]) == c.ca_pem, "first GET must be genuine")
        check(not jws_verify(second["data"]["kubeconfig"], second["data"]["jws-kubeconfig-" + tid],
                             tid, tok.split(".")[1]), "MITM cluster-info must not verify")
    cases.append(("faults: signer_delay_seconds, cluster_info_alt_ca_after (MITM CA)",
                  t_signer_delay_and_mitm))

    def t_rate_skew_404():
        c.faults.update({"rate_limit": 2, "retry_after_seconds": 3})
        codes = [https(c, "GET", "/version")[0] for _ in range(4)]
        st, hdr, body = https(c, "GET", "/version")
        admin_ok = https(c, "GET", "/version", certkey=(os.path.join(c.workdir, "clients/admin.crt"),
                                                        os.path.join(c.workdir, "clients/admin.key")))[0]
        c.faults.rate_limit = None
        check(429 in codes and st == 429, codes + [st])
        check(hdr.get("Retry-After") == "3" and body.startswith("Too many requests"), (hdr, body))
        check(admin_ok == 200, "system:masters must be exempt")
        c.faults.clock_skew_seconds = 3600
        _, hdr, _ = https(c, "GET", "/healthz")
        c.faults.clock_skew_seconds = 0
        skew = email.utils.parsedate_to_datetime(hdr["Date"]).timestamp() - time.time()
        check(3590 < skew < 3610, "skew %s" % skew)
        c.faults.disable_selfsubjectreview = True
        st, _, body = https(c, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                            token=S["token"], body={})
        c.faults.disable_selfsubjectreview = False
        check(st == 404 and body == "404 page not found\n", (st, body))
        st, _, body = https(c, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                            token=S["token"], body={})
        check(st == 201 and body["status"]["userInfo"]["username"].startswith("system:bootstrap:"),
              body)
    cases.append(("faults: rate_limit -> 429 + Retry-After (masters exempt), clock_skew, "
                  "disable_selfsubjectreview", t_rate_skew_404))

    def t_flaky():
        c.faults.update({"fail_fraction": 1.0, "fail_status": 503, "fault_paths": "^/version$"})
        st, _, body = https(c, "GET", "/version")
        c.faults.update({"fail_fraction": 0.0, "reset_fraction": 1.0})
        reset = False
        try:
            https(c, "GET", "/version")
        except (ConnectionError, http.client.HTTPException, ssl.SSLError, OSError):
            reset = True
        c.faults.update({"reset_fraction": 0.0, "fault_paths": None})
        check(st == 503 and body["reason"] == "ServiceUnavailable", (st, body))
        check(reset, "connection was not reset")
        check(https(c, "GET", "/version")[0] == 200, "healthy again")
        log = [r for r in c.requests if r["path"] == "/version"]
        check(any(r["status"] == 0 for r in log) and any(r["status"] == 503 for r in log), log[-3:])
    cases.append(("faults: fail_fraction/fail_status, reset_fraction; request log records them",
                  t_flaky))

    def t_kubelet_refusals():
        cfg = os.path.join(tmp, "bad.yaml")
        with open(cfg, "w") as f:
            f.write("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                    "cgroupDriver: systemd\nserverTLSBootstrapp: true\n")
        runs = [
            (["--config=" + cfg], 'unknown field \\"serverTLSBootstrapp\\"'),
            (["--container-runtime=remote"], "unknown flag: --container-runtime"),
            (["--network-plugin", "cni"], "unknown flag: --network-plugin"),
            (["--node-labels=node-role.kubernetes.io/worker="],
             "unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: "
             "[node-role.kubernetes.io/worker]"),
        ]
        with open(os.path.join(tmp, "neg.yaml"), "w") as f:
            f.write("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                    "maxPods: -1\n")
        runs.append((["--config=" + os.path.join(tmp, "neg.yaml")],
                     "maxPods (--max-pods) -1 must not be a negative number"))
        with open(os.path.join(tmp, "type.yaml"), "w") as f:
            f.write("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                    "maxPods: \"110\"\n")
        runs.append((["--config=" + os.path.join(tmp, "type.yaml")],
                     "cannot unmarshal string into Go struct field KubeletConfiguration.maxPods of "
                     "type int32"))
        for args, want in runs:
            p = subprocess.run([PY, KUBELET] + args + ["--kubeconfig=/nonexistent"],
                               capture_output=True, text=True, timeout=20)
            check(p.returncode == 1, "%s: rc %d" % (args, p.returncode))
            check('"command failed"' in p.stderr and want in p.stderr,
                  "%s: stderr lacks %r:\n%s" % (args, want, p.stderr))
    cases.append(("kubelet.py refuses unknown config fields, removed flags, kubernetes.io labels, "
                  "invalid values, wrong types", t_kubelet_refusals))

    def t_cli():
        wd = os.path.join(tmp, "cli")
        p = subprocess.Popen([PY, os.path.join(HERE, "double.py"), "serve", "--workdir", wd,
                              "--port", "0", "--seed-rbac", "--cluster-info", "--key-type", "ec",
                              "--token", "abcdef.0123456789abcdef", "--lifetime", "30"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            info_path = os.path.join(wd, "double.json")
            deadline = time.monotonic() + 15
            while not os.path.exists(info_path) and time.monotonic() < deadline and p.poll() is None:
                time.sleep(0.05)
            info = json.load(open(info_path))
            for k in ("url", "ca_cert", "ca_pin", "admin_kubeconfig", "control_url", "pid"):
                check(k in info, "double.json lacks %s" % k)
            check(info["ca_pin"].startswith("sha256:") and len(info["ca_pin"]) == 71, info["ca_pin"])
            pin = subprocess.run("openssl x509 -in %s -pubkey -noout | openssl pkey -pubin "
                                 "-outform DER | sha256sum" % info["ca_cert"], shell=True,
                                 capture_output=True, text=True).stdout.split()[0]
            check(info["ca_pin"] == "sha256:" + pin, "pin differs from openssl's")
            req = urllib.request.Request(info["control_url"] + "/token", method="POST",
                                         data=json.dumps({"ttl_seconds": 600}).encode())
            tok = json.load(urllib.request.urlopen(req, timeout=5))["token"]
            check(len(tok) == 23, tok)
            req = urllib.request.Request(info["control_url"] + "/faults", method="POST",
                                         data=json.dumps({"clock_skew_seconds": 5}).encode())
            check(json.load(urllib.request.urlopen(req, timeout=5))["clock_skew_seconds"] == 5, "")
            st = json.load(urllib.request.urlopen(info["control_url"] + "/state", timeout=5))
            names = [s["metadata"]["name"] for s in st["secrets"]]
            check("bootstrap-token-abcdef" in names and "bootstrap-token-" + tok[:6] in names, names)
            w = subprocess.run([PY, os.path.join(HERE, "double.py"), "wait-node", "--workdir", wd,
                                "--name", "nope", "--timeout", "0.5"], capture_output=True, timeout=10)
            check(w.returncode == 1, "wait-node for a missing node must fail")
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = p.wait(timeout=5)
        check(rc == 0, "serve exited %s: %s" % (rc, p.stderr.read()))
        check(not os.path.exists(os.path.join(wd, "double.json")), "double.json left behind")
    cases.append(("CLI: serve writes double.json, pin == openssl's, control /token /faults /state, "
                  "SIGTERM exits 0", t_cli))

    print("1..%d" % len(cases), flush=True)
    try:
        for name, fn in cases:
            tap.case(name, fn)
    finally:
        c.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("# %d passed, %d failed" % (tap.n - tap.failed, tap.failed))
    return 1 if tap.failed else 0


if __name__ == "__main__":
    if os.environ.get("KUBEBOOT_IN_NETNS") != "1":
        sys.stderr.write("selftest.py: run me inside tests/netns-run (loopback-only namespace)\n")
        sys.exit(2)
    sys.exit(main())

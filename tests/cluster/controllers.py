"""The kube-controller-manager controllers a node join relies on.

  csrapproving  pkg/controller/certificates/approver/sarapprove.go
                (recognizers: selfnodeclient first, then nodeclient; SubjectAccessReview of
                the CSR's requester; pkg/apis/certificates/helpers.go IsKubeletClientCSR)
  csrsigning    pkg/controller/certificates/signer/signer.go (+ authority/), for the
                kubernetes.io signers; invalid requests get a Failed condition
                "SignerValidationFailure" like isRequestForSignerFn does
  bootstrapsigner  pkg/controller/bootstrap/bootstrapsigner.go + jws.go
                (staging/src/k8s.io/cluster-bootstrap/token/jws/jws.go)
  tokencleaner  pkg/controller/bootstrap/tokencleaner.go (kubeadm enables it)

They act on the store directly, as the system:kube-controller-manager user would
through the API; their writes bump resourceVersions and reach watchers.
"""

import base64
import hashlib
import hmac
import json
import threading
import traceback

import apimachinery as am
import auth
import pki

KUBELET_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
KUBELET_SERVING_SIGNER = "kubernetes.io/kubelet-serving"
APISERVER_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client"
LEGACY_UNKNOWN_SIGNER = "kubernetes.io/legacy-unknown"

CSR_GR = ("certificates.k8s.io", "certificatesigningrequests")
SECRET_GR = ("", "secrets")
CM_GR = ("", "configmaps")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jws_detached_signature(content, token_id, token_secret):
    """jws.go ComputeDetachedSignature: HS256, kid header, compact form with payload removed."""
    header = b64url(json.dumps({"alg": "HS256", "kid": token_id}, separators=(",", ":")).encode())
    payload = b64url(content.encode())
    sig = hmac.new(token_secret.encode(), (header + "." + payload).encode(), hashlib.sha256).digest()
    return header + ".." + b64url(sig)


# pkg/apis/certificates/helpers.go
def validate_kubelet_client_csr(csr, usages):
    cn, orgs = pki.csr_subject(csr)
    if orgs != ["system:nodes"]:
        return "subject organization is not system:nodes"
    dns, ips, emails, uris = pki.csr_sans(csr)
    if dns:
        return "DNS subjectAltNames are not allowed"
    if emails:
        return "Email subjectAltNames are not allowed"
    if ips:
        return "IP subjectAltNames are not allowed"
    if uris:
        return "URI subjectAltNames are not allowed"
    if not cn.startswith("system:node:"):
        return "subject common name does not begin with system:node:"
    u = set(usages)
    if u != {"digital signature", "key encipherment", "client auth"} and \
            u != {"digital signature", "client auth"}:
        return "usages did not match [client auth digital signature key encipherment]"
    return None


def validate_kubelet_serving_csr(csr, usages):
    cn, orgs = pki.csr_subject(csr)
    if orgs != ["system:nodes"]:
        return "subject organization is not system:nodes"
    dns, ips, emails, uris = pki.csr_sans(csr)
    if not dns and not ips:
        return "DNS or IP subjectAltName is required"
    if emails:
        return "Email subjectAltNames are not allowed"
    if uris:
        return "URI subjectAltNames are not allowed"
    u = set(usages)
    if u != {"digital signature", "key encipherment", "server auth"} and \
            u != {"digital signature", "server auth"}:
        return "usages did not match [digital signature key encipherment server auth]"
    if not cn.startswith("system:node:"):
        return "subject common name does not begin with system:node:"
    return None


def validate_apiserver_client_csr(csr, usages):
    has_client = False
    for u in usages:
        if u in ("digital signature", "key encipherment"):
            continue
        if u == "client auth":
            has_client = True
            continue
        return "invalid usage for client certificate: %s" % u
    if not has_client:
        return "missing required usage for client certificate: client auth"
    return None


SIGNER_VALIDATION = {
    KUBELET_CLIENT_SIGNER: validate_kubelet_client_csr,
    KUBELET_SERVING_SIGNER: validate_kubelet_serving_csr,
    APISERVER_CLIENT_SIGNER: validate_apiserver_client_csr,
    LEGACY_UNKNOWN_SIGNER: lambda csr, usages: None,
}


def _conditions(csr):
    return [c.get("type") for c in (csr.get("status") or {}).get("conditions") or []]


class ControllerManager:
    def __init__(self, store, authz, faults, clock, ca_cert, ca_key, log=None):
        self.store = store
        self.authz = authz
        self.faults = faults
        self.clock = clock
        self.ca_cert = ca_cert
        self.ca_key = ca_key
        self.log = log or (lambda m: None)
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._run, name="controller-manager", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        with self.store.changed:
            self.store.changed.notify_all()
        if self._thread:
            self._thread.join(timeout=5)

    def kick(self):
        with self.store.changed:
            self.store.changed.notify_all()

    def _run(self):
        while not self._stop.is_set():
            seen = self.store.current_rv()
            due = None
            for step in (self._approve, self._sign, self._clean_tokens, self._sign_cluster_info):
                try:
                    d = step()
                except Exception:   # keep the controllers alive, but say what broke
                    traceback.print_exc()
                    d = None
                if d is not None:
                    due = d if due is None else min(due, d)
            if self._stop.is_set():
                break
            self.store.wait_for_change(seen, max(0.05, min(due if due is not None else 5.0, 5.0)))

    # -- csrapproving -------------------------------------------------------------
    def _approve(self):
        if not self.faults.approver_enabled:
            return None
        csrs, _ = self.store.list("certificatesigningrequests")
        for csr in csrs:
            st = csr.get("status") or {}
            if st.get("certificate") or {"Approved", "Denied"} & set(_conditions(csr)):
                continue
            spec = csr.get("spec") or {}
            try:
                x = pki.parse_csr_pem(base64.b64decode(spec.get("request", "")))
            except Exception as exc:
                self.log("csrapproving: unable to parse csr %s: %s" % (csr["metadata"]["name"], exc))
                continue
            if spec.get("signerName") != KUBELET_CLIENT_SIGNER:
                continue
            if validate_kubelet_client_csr(x, spec.get("usages") or []) is not None:
                continue
            cn, _ = pki.csr_subject(x)
            requester = auth.User(spec.get("username", ""), spec.get("groups") or [],
                                  spec.get("uid", ""), spec.get("extra") or {})
            recognizers = []
            if spec.get("username") == cn:
                recognizers.append(("selfnodeclient", "Auto approving self kubelet client "
                                    "certificate after SubjectAccessReview."))
            recognizers.append(("nodeclient", "Auto approving kubelet client certificate after "
                                "SubjectAccessReview."))
            for sub, message in recognizers:
                attrs = auth.Attributes(requester, "create", True, "certificates.k8s.io", "v1",
                                        "certificatesigningrequests", sub)
                if self.authz.authorize(attrs)[0]:
                    now = am.rfc3339(self.clock())
                    st.setdefault("conditions", []).append({
                        "type": "Approved", "status": "True", "reason": "AutoApproved",
                        "message": message, "lastUpdateTime": now, "lastTransitionTime": now})
                    csr["status"] = st
                    try:
                        self.store.update(CSR_GR, "", csr)
                        self.log("csrapproving: approved %s (%s)" % (csr["metadata"]["name"], sub))
                    except am.ApiError:
                        pass
                    break
            else:
                self.log("csrapproving: recognized csr %s but subject access review was not "
                         "approved" % csr["metadata"]["name"])
        return None

    # -- csrsigning ---------------------------------------------------------------
    def _sign(self):
        if not self.faults.signer_enabled:
            return None
        csrs, _ = self.store.list("certificatesigningrequests")
        for csr in csrs:
            st = csr.get("status") or {}
            conds = _conditions(csr)
            if st.get("certificate") or "Approved" not in conds or "Failed" in conds:
                continue
            spec = csr.get("spec") or {}
            validate = SIGNER_VALIDATION.get(spec.get("signerName"))
            if validate is None:
                continue
            try:
                x = pki.parse_csr_pem(base64.b64decode(spec.get("request", "")))
            except Exception:
                continue
            err = validate(x, spec.get("usages") or [])
            now = self.clock()
            if err is None:
                ttl = int(self.faults.signing_duration_seconds)
                if spec.get("expirationSeconds"):
                    ttl = max(600, min(ttl, int(spec["expirationSeconds"])))
                try:
                    pem = pki.sign_csr(x, self.ca_cert, self.ca_key, spec.get("usages") or [],
                                       ttl, now)
                    st["certificate"] = base64.b64encode(pem).decode()
                except ValueError as exc:
                    err = str(exc)
            if err is not None:
                st.setdefault("conditions", []).append({
                    "type": "Failed", "status": "True", "reason": "SignerValidationFailure",
                    "message": err, "lastUpdateTime": am.rfc3339(now),
                    "lastTransitionTime": am.rfc3339(now)})
            csr["status"] = st
            try:
                self.store.update(CSR_GR, "", csr)
                self.log("csrsigning: %s %s" % ("signed" if err is None else "failed",
                                                csr["metadata"]["name"]))
            except am.ApiError:
                pass
        return None

    # -- tokencleaner -------------------------------------------------------------
    def _token_secrets(self):
        secrets, _ = self.store.list("secrets", "kube-system")
        return [s for s in secrets if s.get("type") == auth.BOOTSTRAP_SECRET_TYPE]

    def _clean_tokens(self):
        if not self.faults.token_cleaner_enabled:
            return None
        now = self.clock()
        due = None
        for s in self._token_secrets():
            exp = auth.secret_data(s, "expiration")
            if not exp:
                continue
            if auth.token_expired(s, now):
                try:
                    self.store.delete(SECRET_GR, "kube-system", s["metadata"]["name"])
                    self.log("tokencleaner: deleted expired %s" % s["metadata"]["name"])
                except am.ApiError:
                    pass
            else:
                left = am.parse_rfc3339(exp) - now
                due = left if due is None else min(due, left)
        return due

    # -- bootstrapsigner ----------------------------------------------------------
    def _valid_signing_tokens(self, now):
        """validateSecretForSigning: name matches token-id, not expired, usage-bootstrap-signing."""
        tokens, due = {}, None
        delay = float(self.faults.signer_delay_seconds or 0)
        for s in self._token_secrets():
            name = s["metadata"]["name"]
            if not name.startswith("bootstrap-token-"):
                continue
            tid = auth.secret_data(s, "token-id")
            if name != "bootstrap-token-" + tid or not auth.TOKEN_RE.match(
                    "%s.%s" % (tid, auth.secret_data(s, "token-secret"))):
                continue
            if auth.token_expired(s, now):
                continue
            if auth.secret_data(s, "usage-bootstrap-signing") != "true":
                continue
            exp = auth.secret_data(s, "expiration")
            if exp:   # wake up at expiry to drop the signature even without the token cleaner
                left = am.parse_rfc3339(exp) - now
                due = left if due is None else min(due, left)
            if delay:
                created = self.store.created_at("secrets", "kube-system", name) or now
                wait = created + delay - now
                if wait > 0:
                    due = wait if due is None else min(due, wait)
                    continue
            tokens[tid] = auth.secret_data(s, "token-secret")
        return tokens, due

    def _sign_cluster_info(self):
        if not self.faults.bootstrap_signer_enabled:
            return None
        cm = self.store.peek("configmaps", "kube-public", "cluster-info")
        if cm is None:
            return None
        now = self.clock()
        tokens, due = self._valid_signing_tokens(now)
        data = dict(cm.get("data") or {})
        content = data.get("kubeconfig")
        if content is None:
            return due
        old_sigs = {k[len("jws-kubeconfig-"):]: v for k, v in data.items()
                    if k.startswith("jws-kubeconfig-")}
        new_data = {k: v for k, v in data.items() if not k.startswith("jws-kubeconfig-")}
        for tid, secret in tokens.items():
            new_data["jws-kubeconfig-" + tid] = jws_detached_signature(content, tid, secret)
        new_sigs = {k[len("jws-kubeconfig-"):]: v for k, v in new_data.items()
                    if k.startswith("jws-kubeconfig-")}
        if new_sigs != old_sigs:
            cm["data"] = new_data
            try:
                self.store.update(CM_GR, "kube-public", cm)
                self.log("bootstrapsigner: cluster-info signed for %s" % sorted(new_sigs))
            except am.ApiError:
                pass
        return due

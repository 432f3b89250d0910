"""Authentication, authorization and the NodeRestriction admission plugin.

Authentication (kube-apiserver order: x509, ..., bootstrap token; anonymous last):
  staging/src/k8s.io/apiserver/pkg/authentication/request/x509/x509.go
  staging/src/k8s.io/apiserver/pkg/authentication/request/bearertoken/bearertoken.go
  plugin/pkg/auth/authenticator/token/bootstrap/bootstrap.go
  staging/src/k8s.io/cluster-bootstrap/token/util/helpers.go, secret/helpers.go
  staging/src/k8s.io/apiserver/pkg/authentication/request/anonymous/anonymous.go
  pkg/kubeapiserver/authenticator/config.go (union, FailOnError before anonymous)
  staging/src/k8s.io/apiserver/pkg/authentication/group/authenticated_group_adder.go
Authorization (--authorization-mode=Node,RBAC as kubeadm sets it):
  staging/src/k8s.io/apiserver/pkg/authorization/authorizerfactory/builtin.go (privileged groups)
  plugin/pkg/auth/authorizer/node/node_authorizer.go (AuthorizeNodeWithSelectors, beta in 1.32)
  plugin/pkg/auth/authorizer/rbac/rbac.go, pkg/apis/rbac/v1/evaluation_helpers.go
  plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go (roles below)
  staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go (forbiddenMessage)
Admission:
  plugin/pkg/admission/noderestriction/admission.go
  staging/src/k8s.io/kubelet/pkg/apis/well_known_labels.go (IsKubeletLabel)
"""

import base64
import hmac
import re

from apimachinery import parse_rfc3339
# the well-known kubelet labels, as upstream's NodeRestriction takes them from
# k8s.io/kubelet/pkg/apis/well_known_labels.go; kubelet.py owns them because it is the
# self-contained one (installed alone as /usr/bin/kubelet)
from kubelet import is_kubelet_label, is_kubernetes_label, label_namespace

SYSTEM_MASTERS = "system:masters"
ALL_AUTHENTICATED = "system:authenticated"
ALL_UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"
NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"
BOOTSTRAP_USER_PREFIX = "system:bootstrap:"
BOOTSTRAP_DEFAULT_GROUP = "system:bootstrappers"

TOKEN_RE = re.compile(r"\A([a-z0-9]{6})\.([a-z0-9]{16})\Z")
BOOTSTRAP_GROUP_RE = re.compile(r"\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\Z")
BOOTSTRAP_SECRET_TYPE = "bootstrap.kubernetes.io/token"


class User:
    def __init__(self, name, groups=(), uid="", extra=None, via=""):
        self.name = name
        self.groups = list(groups)
        self.uid = uid
        self.extra = extra or {}
        self.via = via  # "x509", "bootstrap-token", "anonymous" (for the request log)

    def info(self):
        d = {"username": self.name, "groups": list(self.groups)}
        if self.uid:
            d["uid"] = self.uid
        if self.extra:
            d["extra"] = self.extra
        return d


def secret_data(secret, key):
    """bootstrapsecretutil.GetData: data[key] (base64 in the API object) as a string."""
    data = secret.get("data") or {}
    if key not in data:
        return ""
    try:
        return base64.b64decode(data[key]).decode("utf-8", errors="replace")
    except Exception:
        return ""


def token_expired(secret, now):
    """bootstrapsecretutil.HasExpired/GetExpiration: unparseable counts as expired."""
    exp = secret_data(secret, "expiration")
    if not exp:
        return False
    try:
        return parse_rfc3339(exp) - now <= 0
    except ValueError:
        return True


def token_groups(secret):
    """bootstrapsecretutil.GetGroups: system:bootstrappers + auth-extra-groups, sorted set."""
    groups = {BOOTSTRAP_DEFAULT_GROUP}
    data = secret_data(secret, "auth-extra-groups")
    if data:
        # strings.Split, no trimming: " system:bootstrappers:x" is an invalid group upstream
        for g in data.split(","):
            if not BOOTSTRAP_GROUP_RE.match(g):
                raise ValueError('bootstrap group "%s" is invalid (must match %s)'
                                 % (g, BOOTSTRAP_GROUP_RE.pattern))
            groups.add(g)
    return sorted(groups)


class Authenticator:
    def __init__(self, store, clock, log, lag=lambda: 0):
        self.store = store
        self.clock = clock
        self.log = log
        self.lag = lag   # seconds the informer's view of Secrets trails the store

    def authenticate(self, peercert, authorization_header):
        """Returns a User, or None meaning 401 Unauthorized."""
        # 1. x509 client certificate (already verified against the cluster CA by TLS).
        if peercert:
            cn, orgs = "", []
            for rdn in peercert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
                    elif k == "organizationName":
                        orgs.append(v)
            groups = list(orgs)
            if ALL_AUTHENTICATED not in groups:
                groups.append(ALL_AUTHENTICATED)
            return User(cn, groups, via="x509")
        # 2. bearer token
        auth = (authorization_header or "").strip()
        if auth:
            parts = auth.split(" ", 2)
            if len(parts) >= 2 and parts[0].lower() == "bearer" and parts[1]:
                user = self._bootstrap_token(parts[1])
                if user is None:
                    # bearertoken.go: a presented token that no authenticator accepts
                    # is an error (invalidToken) -> 401, anonymous is not tried.
                    return None
                return user
        # 3. anonymous
        return User(ANONYMOUS, [ALL_UNAUTHENTICATED], via="anonymous")

    def _bootstrap_token(self, token):
        m = TOKEN_RE.match(token)
        if not m:
            return None
        token_id, token_secret = m.group(1), m.group(2)
        name = "bootstrap-token-" + token_id
        secret = self.store.peek("secrets", "kube-system", name)
        lag = float(self.lag() or 0)
        if secret is not None and lag > 0:
            # the informer has not delivered this Secret yet: the lister does not have it
            created = parse_rfc3339(secret["metadata"].get("creationTimestamp") or "")
            if created + lag > self.clock():
                secret = None
        if secret is None:
            self.log("No secret of name %s to match bootstrap bearer token" % name)
            return None
        if secret["metadata"].get("deletionTimestamp"):
            return None
        if secret.get("type") != BOOTSTRAP_SECRET_TYPE or not secret.get("data"):
            self.log("Bootstrap secret %s has invalid type" % name)
            return None
        ts = secret_data(secret, "token-secret")
        if not hmac.compare_digest(ts.encode(), token_secret.encode()):
            self.log("Bootstrap secret %s has invalid value for key token-secret" % name)
            return None
        if secret_data(secret, "token-id") != token_id:
            self.log("Bootstrap secret %s has invalid value for key token-id" % name)
            return None
        if token_expired(secret, self.clock()):
            self.log("Bootstrap secret %s has expired" % name)
            return None
        if secret_data(secret, "usage-bootstrap-authentication") != "true":
            self.log("Bootstrap secret %s not marked usage-bootstrap-authentication=true" % name)
            return None
        try:
            groups = token_groups(secret)
        except ValueError as exc:
            self.log("Bootstrap secret %s has invalid value for key auth-extra-groups: %s"
                     % (name, exc))
            return None
        return User(BOOTSTRAP_USER_PREFIX + token_id, groups + [ALL_AUTHENTICATED],
                    via="bootstrap-token")


# ------------------------------------------------------------------ authorization

class Attributes:
    """authorizer.Attributes built from requestinfo.go's RequestInfo."""

    def __init__(self, user, verb, resource_request, api_group="", api_version="", resource="",
                 subresource="", namespace="", name="", path="", field_selector=None):
        self.user = user
        self.verb = verb
        self.resource_request = resource_request
        self.api_group = api_group
        self.api_version = api_version
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
        self.path = path
        self.field_selector = field_selector or []


def forbidden_message(attrs):
    """responsewriters/errors.go forbiddenMessage()."""
    username = attrs.user.name
    if not attrs.resource_request:
        return 'User "%s" cannot %s path "%s"' % (username, attrs.verb, attrs.path)
    resource = attrs.resource
    if attrs.subresource:
        resource = resource + "/" + attrs.subresource
    if attrs.namespace:
        return 'User "%s" cannot %s resource "%s" in API group "%s" in the namespace "%s"' % (
            username, attrs.verb, resource, attrs.api_group, attrs.namespace)
    return 'User "%s" cannot %s resource "%s" in API group "%s" at the cluster scope' % (
        username, attrs.verb, resource, attrs.api_group)


def _rule(verbs, groups=(), resources=(), names=(), urls=()):
    r = {"verbs": list(verbs)}
    if groups or resources:
        r["apiGroups"] = list(groups)
        r["resources"] = list(resources)
    if names:
        r["resourceNames"] = list(names)
    if urls:
        r["nonResourceURLs"] = list(urls)
    return r


# plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go NodeRules() (1.32, subset that
# matters to a joining node; the node authorizer evaluates these for non-subdivided resources)
NODE_RULES = [
    _rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
    _rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews", "localsubjectaccessreviews"]),
    _rule(["get", "list", "watch"], [""], ["services"]),
    _rule(["create", "get", "list", "watch"], [""], ["nodes"]),
    _rule(["update", "patch"], [""], ["nodes/status"]),
    _rule(["update", "patch"], [""], ["nodes"]),
    _rule(["create", "update", "patch"], ["", "events.k8s.io"], ["events"]),
    _rule(["get", "list", "watch"], [""], ["pods"]),
    _rule(["create", "delete"], [""], ["pods"]),
    _rule(["update", "patch"], [""], ["pods/status"]),
    _rule(["create"], [""], ["pods/eviction"]),
    _rule(["get", "list", "watch"], [""], ["secrets", "configmaps"]),
    _rule(["get"], [""], ["persistentvolumeclaims", "persistentvolumes"]),
    _rule(["get"], [""], ["endpoints"]),
    _rule(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
    _rule(["get", "create", "update", "patch", "delete"], ["coordination.k8s.io"], ["leases"]),
    _rule(["get"], ["storage.k8s.io"], ["volumeattachments"]),
    _rule(["create"], [""], ["serviceaccounts/token"]),
    _rule(["get", "watch", "list"], ["storage.k8s.io"], ["csidrivers"]),
    _rule(["get", "create", "update", "patch", "delete"], ["storage.k8s.io"], ["csinodes"]),
    _rule(["get", "list", "watch"], ["node.k8s.io"], ["runtimeclasses"]),
]

RBAC_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
RBAC_ANNOTATIONS = {"rbac.authorization.kubernetes.io/autoupdate": "true"}


def bootstrap_cluster_roles():
    """The bootstrap-policy ClusterRoles that matter to node joining, with their real rules."""
    roles = {
        "cluster-admin": [_rule(["*"], ["*"], ["*"]), _rule(["*"], urls=["*"])],
        "system:discovery": [_rule(["get"], urls=["/livez", "/readyz", "/healthz", "/version",
                                                  "/version/", "/openapi", "/openapi/*", "/api",
                                                  "/api/*", "/apis", "/apis/*"])],
        "system:basic-user": [
            _rule(["create"], ["authorization.k8s.io"],
                  ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            _rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"])],
        "system:public-info-viewer": [_rule(["get"], urls=["/livez", "/readyz", "/healthz",
                                                           "/version", "/version/"])],
        "system:node": NODE_RULES,
        "system:node-bootstrapper": [
            _rule(["create", "get", "list", "watch"], ["certificates.k8s.io"],
                  ["certificatesigningrequests"])],
        "system:certificates.k8s.io:certificatesigningrequests:nodeclient": [
            _rule(["create"], ["certificates.k8s.io"], ["certificatesigningrequests/nodeclient"])],
        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient": [
            _rule(["create"], ["certificates.k8s.io"], ["certificatesigningrequests/selfnodeclient"])],
        "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver": [
            _rule(["approve"], ["certificates.k8s.io"], ["signers"],
                  names=["kubernetes.io/kube-apiserver-client-kubelet"])],
        "system:certificates.k8s.io:kubelet-serving-approver": [
            _rule(["approve"], ["certificates.k8s.io"], ["signers"],
                  names=["kubernetes.io/kubelet-serving"])],
    }
    out = []
    for name, rules in roles.items():
        out.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                    "metadata": {"name": name, "labels": dict(RBAC_LABELS),
                                 "annotations": dict(RBAC_ANNOTATIONS)},
                    "rules": rules})
    return out


def cluster_role_binding(name, role, groups=(), users=(), labels=None, annotations=None):
    subjects = [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": g} for g in groups]
    subjects += [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": u} for u in users]
    meta = {"name": name}
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    b = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": meta,
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}}
    if subjects:
        b["subjects"] = subjects
    return b


def bootstrap_cluster_role_bindings():
    """policy.go clusterRoleBindings() subset (system:node keeps no subjects since 1.8)."""
    kw = {"labels": RBAC_LABELS, "annotations": RBAC_ANNOTATIONS}
    return [
        cluster_role_binding("cluster-admin", "cluster-admin", [SYSTEM_MASTERS], **kw),
        cluster_role_binding("system:discovery", "system:discovery", [ALL_AUTHENTICATED], **kw),
        cluster_role_binding("system:basic-user", "system:basic-user", [ALL_AUTHENTICATED], **kw),
        cluster_role_binding("system:public-info-viewer", "system:public-info-viewer",
                             [ALL_AUTHENTICATED, ALL_UNAUTHENTICATED], **kw),
        cluster_role_binding("system:node", "system:node", **kw),
    ]


# The three bindings of the TLS-bootstrapping guide
# (https://kubernetes.io/docs/reference/access-authn-authz/kubelet-tls-bootstrapping/, the same
# as kubeadm's cmd/kubeadm/app/phases/bootstraptoken/node/tlsbootstrap.go but with the guide's
# names and the generic system:bootstrappers group).
SEED_BINDINGS = {
    "node_bootstrapper": ("create-csrs-for-bootstrapping", "system:node-bootstrapper"),
    "auto_approve_nodeclient": ("auto-approve-csrs-for-group",
                                "system:certificates.k8s.io:certificatesigningrequests:nodeclient"),
    "auto_approve_selfnodeclient": ("auto-approve-renewals-for-nodes",
                                    "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"),
}


def _verb_matches(rule, verb):
    return any(v == "*" or v == verb for v in rule.get("verbs") or [])


def _group_matches(rule, group):
    return any(g == "*" or g == group for g in rule.get("apiGroups") or [])


def _resource_matches(rule, combined, subresource):
    for r in rule.get("resources") or []:
        if r == "*" or r == combined:
            return True
        if subresource and r == "*/" + subresource:
            return True
    return False


def _name_matches(rule, name):
    names = rule.get("resourceNames") or []
    return not names or name in names


def _url_matches(rule, path):
    for u in rule.get("nonResourceURLs") or []:
        if u == "*" or u == path:
            return True
        if u.endswith("*") and path.startswith(u[:-1]):
            return True
    return False


def rule_allows(attrs, rule):
    """pkg/apis/rbac/v1/evaluation_helpers.go RuleAllows."""
    if attrs.resource_request:
        combined = attrs.resource + ("/" + attrs.subresource if attrs.subresource else "")
        return (_verb_matches(rule, attrs.verb) and _group_matches(rule, attrs.api_group) and
                _resource_matches(rule, combined, attrs.subresource) and
                _name_matches(rule, attrs.name))
    return _verb_matches(rule, attrs.verb) and _url_matches(rule, attrs.path)


def _subject_applies(subject, user, namespace):
    kind = subject.get("kind")
    if kind == "User":
        return user.name == subject.get("name")
    if kind == "Group":
        return subject.get("name") in user.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or namespace
        return user.name == "system:serviceaccount:%s:%s" % (ns, subject.get("name"))
    return False


def _describe_subject(s, binding_ns=""):
    if s.get("kind") == "ServiceAccount":
        return '%s "%s/%s"' % (s["kind"], s.get("namespace") or binding_ns, s.get("name"))
    return '%s "%s"' % (s.get("kind"), s.get("name"))


class Authorizer:
    def __init__(self, store):
        self.store = store

    def authorize(self, attrs):
        """Returns (allowed, reason). Union: privileged groups, Node, RBAC."""
        if SYSTEM_MASTERS in attrs.user.groups:
            return True, ""
        reasons = []
        decision, reason = self._node(attrs)
        if decision:
            return True, reason
        if reason:
            reasons.append(reason)
        allowed, reason = self._rbac(attrs)
        if allowed:
            return True, reason
        if reason:
            reasons.append(reason)
        return False, "\n".join(reasons)

    # plugin/pkg/auth/authorizer/node/node_authorizer.go
    def _node(self, attrs):
        user = attrs.user
        if NODES_GROUP not in user.groups or not user.name.startswith(NODE_USER_PREFIX):
            return False, ""
        node = user.name[len(NODE_USER_PREFIX):]
        if not node:
            return False, 'unknown node for user "%s"' % user.name
        if attrs.resource_request and attrs.api_group == "" and attrs.resource == "nodes":
            # authorizeNode (AuthorizeNodeWithSelectors, default on since 1.32)
            if attrs.subresource == "":
                if attrs.verb in ("create", "update", "patch"):
                    return True, ""   # NodeRestriction limits this to its own Node
                if attrs.verb in ("get", "list", "watch"):
                    if attrs.name == node:
                        return True, ""
                    if attrs.name == "":
                        return False, "node '%s' cannot read all nodes, only its own Node object" % node
                    return False, "node '%s' cannot read '%s', only its own Node object" % (
                        node, attrs.name)
            elif attrs.subresource == "status" and attrs.verb in ("update", "patch"):
                return True, ""
            return False, ""
        if attrs.resource_request and attrs.api_group == "coordination.k8s.io" and \
                attrs.resource == "leases":
            # authorizeLease
            if attrs.verb not in ("get", "create", "update", "patch", "delete"):
                return False, "can only get, create, update, patch, or delete a node lease"
            if attrs.namespace != "kube-node-lease":
                return False, 'can only access leases in the "kube-node-lease" system namespace'
            if attrs.verb != "create" and attrs.name != node:
                return False, "can only access node lease with the same name as the requesting node"
            return True, ""
        if attrs.resource_request and attrs.api_group == "" and attrs.resource == "pods":
            # authorizePod (AuthorizeNodeWithSelectors): list/watch only with spec.nodeName=<self>
            if attrs.subresource == "" and attrs.verb in ("list", "watch"):
                for k, op, v in attrs.field_selector:
                    if k == "spec.nodeName" and op == "=" and v == node:
                        return True, ""
                return False, "can only list/watch pods with spec.nodeName field selector"
            if attrs.subresource == "" and attrs.verb in ("create", "delete"):
                return True, ""
            if attrs.subresource == "status" and attrs.verb in ("update", "patch"):
                return True, ""
            return False, ""
        if attrs.resource_request and attrs.api_group == "" and attrs.resource in ("secrets",
                                                                                  "configmaps"):
            # authorizeReadNamespacedObject: only objects related to the node's pods (the
            # double runs no pods, so nothing is related).
            if attrs.verb not in ("get", "list", "watch"):
                return False, "can only read resources of this type"
            if not attrs.name:
                return False, "No Object name found"
            return False, "no relationship found between node '%s' and this object" % node
        if any(rule_allows(attrs, r) for r in NODE_RULES):
            return True, ""
        return False, ""

    # plugin/pkg/auth/authorizer/rbac/rbac.go
    def _rbac(self, attrs):
        user = attrs.user
        errors = []
        crbs, _ = self.store.list("clusterrolebindings")
        for b in crbs:
            for s in b.get("subjects") or []:
                if not _subject_applies(s, user, ""):
                    continue
                rules, err = self._role_rules(b["roleRef"], "")
                if err:
                    errors.append(err)
                    continue
                for r in rules:
                    if rule_allows(attrs, r):
                        return True, 'RBAC: allowed by ClusterRoleBinding "%s" of %s "%s" to %s' % (
                            b["metadata"]["name"], b["roleRef"]["kind"], b["roleRef"]["name"],
                            _describe_subject(s))
        if attrs.resource_request and attrs.namespace:
            rbs, _ = self.store.list("rolebindings", attrs.namespace)
            for b in rbs:
                for s in b.get("subjects") or []:
                    if not _subject_applies(s, user, attrs.namespace):
                        continue
                    rules, err = self._role_rules(b["roleRef"], attrs.namespace)
                    if err:
                        errors.append(err)
                        continue
                    for r in rules:
                        if rule_allows(attrs, r):
                            return True, 'RBAC: allowed by RoleBinding "%s/%s" of %s "%s" to %s' % (
                                b["metadata"]["name"], attrs.namespace, b["roleRef"]["kind"],
                                b["roleRef"]["name"], _describe_subject(s, attrs.namespace))
        if errors:
            return False, "RBAC: " + ("[" + ", ".join(errors) + "]" if len(errors) > 1 else errors[0])
        return False, ""

    def rules_for(self, user, namespace):
        """SelfSubjectRulesReview status: the union of RulesFor of the authorizers."""
        res_rules, nonres_rules, incomplete, errs = [], [], False, []
        if SYSTEM_MASTERS in user.groups:
            res_rules.append({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})
            nonres_rules.append({"verbs": ["*"], "nonResourceURLs": ["*"]})
        if NODES_GROUP in user.groups and user.name.startswith(NODE_USER_PREFIX):
            incomplete = True
            errs.append("node authorizer does not support user rule resolution")
        bindings = [(b, "") for b in self.store.list("clusterrolebindings")[0]]
        bindings += [(b, namespace) for b in self.store.list("rolebindings", namespace)[0]]
        for b, ns in bindings:
            if not any(_subject_applies(s, user, ns) for s in b.get("subjects") or []):
                continue
            rules, err = self._role_rules(b["roleRef"], ns)
            if err:
                errs.append(err)
                incomplete = True
            for r in rules:
                if r.get("nonResourceURLs"):
                    nonres_rules.append({"verbs": r["verbs"], "nonResourceURLs": r["nonResourceURLs"]})
                else:
                    rr = {"verbs": r["verbs"], "apiGroups": r.get("apiGroups", []),
                          "resources": r.get("resources", [])}
                    if r.get("resourceNames"):
                        rr["resourceNames"] = r["resourceNames"]
                    res_rules.append(rr)
        st = {"resourceRules": res_rules, "nonResourceRules": nonres_rules, "incomplete": incomplete}
        if errs:
            st["evaluationError"] = ", ".join(errs)
        return st

    def _role_rules(self, ref, namespace):
        kind, name = ref.get("kind"), ref.get("name")
        if kind == "ClusterRole":
            role = self.store.peek("clusterroles", "", name)
            if role is None:
                return [], 'clusterrole.rbac.authorization.k8s.io "%s" not found' % name
        elif kind == "Role":
            role = self.store.peek("roles", namespace, name)
            if role is None:
                return [], 'role.rbac.authorization.k8s.io "%s" not found' % name
        else:
            return [], "unknown roleRef kind %r" % kind
        return role.get("rules") or [], None

    def rbac_allows_all(self, user, attrs_list):
        return all(self.authorize(a)[0] for a in attrs_list)


# ------------------------------------------------------------------ NodeRestriction


def _forbidden_node_labels(modified):
    # noderestriction getForbiddenLabels
    out = set()
    for k in modified:
        ns = label_namespace(k)
        if ns == "node-restriction.kubernetes.io" or ns.endswith(".node-restriction.kubernetes.io"):
            out.add(k)
        elif is_kubernetes_label(k) and not is_kubelet_label(k):
            out.add(k)
    return sorted(out)


def _modified_labels(new, old):
    new, old = new or {}, old or {}
    return {k for k in set(new) | set(old) if new.get(k) != old.get(k)}


def node_restriction(user, operation, resource, subresource, name, obj, old):
    """Returns None if admitted, else the error text for admission.NewForbidden."""
    if NODES_GROUP not in user.groups or not user.name.startswith(NODE_USER_PREFIX):
        return None
    node = user.name[len(NODE_USER_PREFIX):]
    if resource == "leases":
        if operation in ("CREATE", "UPDATE") and name != node:
            return "can only access node lease with the same name as the requesting node"
        return None
    if resource != "nodes":
        return None
    if name != node:
        return 'node "%s" is not allowed to modify node "%s"' % (node, name)
    if operation == "CREATE":
        if (obj.get("spec") or {}).get("configSource"):
            return 'node "%s" is not allowed to create pods with a non-nil configSource' % node
        bad = _forbidden_node_labels(_modified_labels((obj.get("metadata") or {}).get("labels"), None))
        if bad:
            return 'node "%s" is not allowed to set the following labels: %s' % (node, ", ".join(bad))
    if operation == "UPDATE" and old is not None:
        if (obj.get("spec") or {}).get("taints") != (old.get("spec") or {}).get("taints") and \
                subresource == "":
            return 'node "%s" is not allowed to modify taints' % node
        bad = _forbidden_node_labels(_modified_labels((obj.get("metadata") or {}).get("labels"),
                                                      (old.get("metadata") or {}).get("labels")))
        if bad:
            return 'is not allowed to modify labels: %s' % ", ".join(bad)
    if operation == "DELETE":
        return None
    return None

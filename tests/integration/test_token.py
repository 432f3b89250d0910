"""Issue 7: `kubeboot token create|list|delete` against the cluster double (admin client
certificate, RBAC enforced): the Secret as the authenticator reads it, the seed guide's
three bindings, cluster-info and its anonymous RBAC, the bootstrap signer's signature;
the printed material joins a node; every --print format parses; bad input exits before
any request; 401/403/unreachable say what to check; the secret never leaks."""
import base64
import datetime
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import yaml

from kbtest import *
from double import ClusterDouble, cluster_info_kubeconfig
import pki

assert_in_netns()
tap = Tap()
RBAC = "rbac.authorization.k8s.io"
SEED = {  # role -> group, as the seed guide binds them
    "system:node-bootstrapper": "system:bootstrappers",
    "system:certificates.k8s.io:certificatesigningrequests:nodeclient": "system:bootstrappers",
    "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient": "system:nodes",
}
KUBEADM_NAMES = ["kubeadm:kubelet-bootstrap", "kubeadm:node-autoapprove-bootstrap",
                 "kubeadm:node-autoapprove-certificate-rotation"]
POOL = "system:bootstrappers:kubeboot:pool-a"
# what a token of group POOL gets (issue 12: the bindings name the token's group, as kubeadm's
# name its own; get-nodes as kubeadm grants it), role -> (group, binding name)
POOL_BINDINGS = {
    "system:node-bootstrapper": (POOL, "kubeboot:kubelet-bootstrap:" + POOL),
    "system:certificates.k8s.io:certificatesigningrequests:nodeclient": (POOL, "kubeboot:node-autoapprove-bootstrap:" + POOL),
    "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient": ("system:nodes", "kubeadm:node-autoapprove-certificate-rotation"),
    "kubeadm:get-nodes": (POOL, "kubeboot:get-nodes:" + POOL),
}
TOKEN_RE = re.compile(r"kubeboot\.token=([a-z0-9]{6}\.[a-z0-9]{16})")
created = []      # every token made, to look for its secret everywhere
stderrs = []      # every stderr
quiet_outs = []   # stdouts that must not carry any secret (all but the material asked for)


def tok(*args, kubeconfig=None, env=None, timeout=120, material=False):
    argv = ["token"] + list(args)
    if kubeconfig:
        argv.append("--kubeconfig=" + kubeconfig)
    e = {"KUBECONFIG": "", "HOME": "/nonexistent"}
    e.update(env or {})
    r = kubeboot(*argv, env=e, timeout=timeout)
    stderrs.append(r.err)
    if not material:
        quiet_outs.append(r.out)
    m = TOKEN_RE.search(r.out) or re.search(r"token = ([a-z0-9]{6}\.[a-z0-9]{16})", r.out)
    if m:
        created.append(m.group(1))
    return r


def b64d(s):
    return base64.b64decode(s).decode()


def equivalents(c, role, group):
    out = []
    for b in c.objects("clusterrolebindings"):
        rr = b.get("roleRef", {})
        if rr.get("kind") == "ClusterRole" and rr.get("name") == role and any(
                s.get("kind") == "Group" and s.get("name") == group for s in b.get("subjects") or []):
            out.append(b["metadata"]["name"])
    return out


def error_lines(r):
    return [l for l in r.err.splitlines() if "error:" in l]


def kubeboot_config(ini_text):
    """The ini through `kubeboot config --json --config=FILE` (the node side reads it)."""
    with Root() as root:
        path = root.write("/material.ini", ini_text)
        r = kubeboot("config", "--json", "--config=" + path, root=root, cmdline="")
        stderrs.append(r.err)
        quiet_outs.append(r.out)
        return r, (json.loads(r.out) if r.rc == 0 else {})


with ClusterDouble() as c:
    admin = c.admin_kubeconfig_path
    work = tempfile.mkdtemp(prefix="kb-token-")

    # --- bad input: exit 64 (or 78 for files) before any request ---
    bad = [
        (["--ttl=banana"], EX_USAGE, "--ttl"),
        (["--ttl=-1h"], EX_USAGE, "--ttl"),
        (["--ttl=1.5h"], EX_USAGE, "--ttl"),
        (["--groups=system:nodes"], EX_USAGE, "--groups"),
        (["--groups=system:bootstrappers:Upper"], EX_USAGE, "--groups"),
        (["--groups=system:bootstrappers:ends-with-"], EX_USAGE, "--groups"),
        (["--groups=system:bootstrappers:" + "a" * 257], EX_USAGE, "--groups"),
        (["--usages=authentication,frobnicate"], EX_USAGE, "--usages"),
        (["--usages=signing,signing"], EX_USAGE, "--usages"),
        (["--usages="], EX_USAGE, "--usages"),
        (["--print=yaml"], EX_USAGE, "--print"),
        (["--wait=forever"], EX_USAGE, "--wait"),
        (["--server=http://10.0.0.1:6443"], EX_USAGE, "--server"),
        (["--description=two\nlines"], EX_USAGE, "--description"),
        (["--ca-cert=/nonexistent/ca.crt"], EX_CONFIG, "--ca-cert"),
    ]
    for args, code, what in bad:
        before = len(c.requests)
        r = tok("create", *args, kubeconfig=admin)
        tap.ok(r.rc == code and len(error_lines(r)) == 1 and what in r.err and len(c.requests) == before,
               "create %s: exit %d naming %s, no request made" % (args[0].replace("\n", "\\n")[:50], code, what), r)
    before = len(c.requests)
    for args in (["list", "--ttl=1h"], ["delete", "NOT-AN-ID"], ["delete"], ["frobnicate"], [],
                 ["create", "extra-arg"], ["create", "--json"]):
        r = tok(*args, kubeconfig=admin)
        tap.ok(r.rc == EX_USAGE, "token %s: usage error (64)" % " ".join(args), r)
    r = kubeboot("status", "--ttl=1h")
    tap.ok(r.rc == EX_USAGE and "options of token" in r.err, "--ttl outside token: usage error", r)
    r = tok("create", kubeconfig=os.path.join(work, "missing.conf"))
    tap.ok(r.rc == EX_CONFIG and "missing.conf" in r.err, "a missing --kubeconfig: 78", r)
    r = tok("list", env={"KUBECONFIG": "/nonexistent/a:/nonexistent/b"})
    tap.ok(r.rc == EX_CONFIG and "KUBECONFIG" in r.err, "$KUBECONFIG naming no existing file: 78", r)
    tap.ok(len(c.requests) == before, "none of these made a request")

    # --- create: the Secret, the bindings, cluster-info; count requests and time ---
    before = len(c.requests)
    t0 = time.monotonic()
    r = tok("create", "--description=first node pool", "--groups=system:bootstrappers:kubeboot:pool-a",
            kubeconfig=admin, material=True)
    elapsed = time.monotonic() - t0
    reqs = c.requests[before:]
    print("# first create: %d requests, %.3f s: %s" % (len(reqs), elapsed,
                                                      [(q["method"], q["path"], q["status"]) for q in reqs]))
    tap.ok(r.rc == 0, "token create succeeds with the admin kubeconfig", r)
    m = TOKEN_RE.search(r.out)
    token = m.group(1) if m else "xxxxxx.xxxxxxxxxxxxxxxx"
    tid = token[:6]
    tap.ok(r.out.count("\n") == 1 and r.out.startswith("kubeboot.token=") and
           ("kubeboot.server=%s " % c.url) in r.out and r.out.strip().endswith("kubeboot.ca-cert-hash=" + c.ca_pin),
           "stdout is one kernel command line: token, server, the CA pin", r.out)
    tap.ok(("%s.****************" % tid) in r.err and c.ca_pin in r.err, "stderr names the token id and the pin")
    # 1 list + 4 bindings + get-nodes ClusterRole, 1 kubelet-config look, cluster-info 2 + Role 2,
    # the Secret, the anonymous read
    tap.ok(len(reqs) <= 14, "a first create takes at most 14 requests (%d)" % len(reqs))

    sec = next((s for s in c.secrets() if s["metadata"]["name"] == "bootstrap-token-" + tid), None)
    tap.ok(sec is not None, "Secret kube-system/bootstrap-token-%s exists" % tid)
    sec = sec or {"data": {}, "metadata": {}}
    data = {k: b64d(v) for k, v in (sec.get("data") or {}).items()}
    tap.ok(sec.get("type") == "bootstrap.kubernetes.io/token", "of type bootstrap.kubernetes.io/token")
    tap.ok(set(data) == {"token-id", "token-secret", "expiration", "usage-bootstrap-authentication",
                         "usage-bootstrap-signing", "description", "auth-extra-groups"},
           "with exactly kubeadm's data keys", sorted(data))
    tap.ok(data.get("token-id") == tid and data.get("token-secret") == token[7:], "token-id and token-secret")
    try:
        exp = datetime.datetime.strptime(data.get("expiration", ""), "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
        left = (exp - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    except ValueError:
        left = -1
    tap.ok(abs(left - 86400) < 60, "expiration is RFC 3339, 24h from now (%.0f s)" % left, data.get("expiration"))
    tap.ok(data.get("usage-bootstrap-authentication") == "true" and data.get("usage-bootstrap-signing") == "true",
           "usages authentication and signing")
    tap.ok(data.get("description") == "first node pool" and
           data.get("auth-extra-groups") == "system:bootstrappers:kubeboot:pool-a", "description and extra groups")
    tap.ok((sec["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by") == "kubeboot",
           "the Secret is labelled managed-by kubeboot")

    for role, (group, name) in POOL_BINDINGS.items():
        names = equivalents(c, role, group)
        tap.ok(names == [name], "one binding of %s to %s (%s)" % (role.split(":")[-1], group, names))
    tap.ok(not equivalents(c, "system:node-bootstrapper", "system:bootstrappers"),
           "no binding names all of system:bootstrappers")
    crbs = {b["metadata"]["name"]: b for b in c.objects("clusterrolebindings")}
    tap.ok(all((crbs.get(n, {}).get("metadata", {}).get("labels") or {}).get("app.kubernetes.io/managed-by") ==
               "kubeboot" for _, n in POOL_BINDINGS.values()), "the bindings carry the managed-by label")

    ci = c.configmap("kube-public", "cluster-info") or {"data": {}}
    tap.ok(ci["data"].get("kubeconfig") == cluster_info_kubeconfig(c.url, c.ca_pem),
           "cluster-info holds kubeadm's kubeconfig, byte for byte", ci["data"].get("kubeconfig"))
    tap.ok(("jws-kubeconfig-" + tid) in ci["data"], "the bootstrap signer signed it for the token")
    roles = [o["metadata"]["name"] for o in c.objects("roles", "kube-public")]
    rbs = {o["metadata"]["name"]: o for o in c.objects("rolebindings", "kube-public")}
    rb = rbs.get("kubeadm:bootstrap-signer-clusterinfo", {})
    tap.ok("kubeadm:bootstrap-signer-clusterinfo" in roles and
           rb.get("subjects") == [{"apiGroup": RBAC, "kind": "User", "name": "system:anonymous"}],
           "Role and RoleBinding let system:anonymous read cluster-info", rb)
    anon = [q for q in reqs if q["user"] == "system:anonymous"]
    tap.ok(anon and all("cluster-info" in q["path"] and q["method"] == "GET" for q in anon) and
           all(q["user"] == "kubernetes-admin" for q in reqs if q not in anon),
           "the signature is checked the way a node reads it (anonymously); the rest as the admin")
    tap.ok(not [q for q in reqs if q["method"] in ("PUT", "PATCH", "DELETE")], "create never overwrites anything")

    # real kubectl sees what the authenticator needs
    k = subprocess.run(["kubectl", "--kubeconfig", admin, "get", "secret", "bootstrap-token-" + tid,
                        "-n", "kube-system", "-o", "json"], capture_output=True, text=True, timeout=60)
    kd = json.loads(k.stdout or "{}")
    tap.ok(k.returncode == 0 and kd.get("type") == "bootstrap.kubernetes.io/token" and
           b64d(kd["data"]["usage-bootstrap-authentication"]) == "true" and
           b64d(kd["data"]["token-id"]) == tid, "kubectl get secret -o json shows it as the authenticator reads it",
           k.stderr)
    tbk = c.make_token_kubeconfig(os.path.join(work, "boot.conf"), token)
    k = subprocess.run(["kubectl", "--kubeconfig", tbk, "auth", "whoami", "-o", "json"],
                       capture_output=True, text=True, timeout=60)
    who = json.loads(k.stdout or "{}").get("status", {}).get("userInfo", {})
    tap.ok(who.get("username") == "system:bootstrap:" + tid and
           {"system:bootstrappers", "system:bootstrappers:kubeboot:pool-a"} <= set(who.get("groups", [])),
           "the apiserver authenticates the token with its extra group (kubectl auth whoami)", k.stderr)

    # the printed command line joins a node, and the stand-in kubelet registers it
    with Root() as root:
        root.write("/etc/kubeboot/kubeboot.ini", "[join]\nnode-name = token-node-1\ndiscovery-timeout = 20s\n")
        j = kubeboot("join", "--skip-phases=start,wait,finish", root=root, cmdline=r.out)
        stderrs.append(j.err)
        quiet_outs.append(j.out)
        tap.ok(j.rc == 0 and "discover" in j.err, "kubeboot join --cmdline=<the printed snippet> succeeds", j)
        tap.ok(root.exists("/etc/kubernetes/pki/ca.crt") and
               root.read("/etc/kubernetes/pki/ca.crt").strip() == c.ca_pem.strip(), "it discovered the cluster CA")
        k = run_kubelet(root, timeout=45)
        tap.ok(k.rc == 0 and c.node("token-node-1") is not None,
               "the stand-in kubelet bootstraps and registers Node token-node-1", k)

    # --- again: nothing duplicated, nothing rewritten ---
    ci_before = (c.configmap("kube-public", "cluster-info") or {"data": {}})["data"].get("kubeconfig")
    before = len(c.requests)
    t0 = time.monotonic()
    r = tok("create", "--groups=" + POOL, kubeconfig=admin, material=True)
    elapsed = time.monotonic() - t0
    reqs = c.requests[before:]
    print("# second create: %d requests, %.3f s" % (len(reqs), elapsed))
    tap.ok(r.rc == 0, "a second create succeeds", r)
    tap.ok(all(len(equivalents(c, role, g)) == 1 for role, (g, _) in POOL_BINDINGS.items()),
           "still one copy of each binding")
    tap.ok(not [q for q in reqs if q["method"] == "POST" and
                ("clusterrolebindings" in q["path"] or q["path"].endswith("/configmaps"))],
           "no binding or ConfigMap is created again")
    tap.ok((c.configmap("kube-public", "cluster-info") or {"data": {}})["data"].get("kubeconfig") == ci_before,
           "cluster-info is left as it was")
    tap.ok(len([o for o in c.objects("roles", "kube-public") if o["metadata"]["name"].startswith("kubeadm:")]) == 1,
           "one Role for cluster-info")
    tap.ok(len(reqs) <= 8, "a repeated create takes at most 8 requests (%d)" % len(reqs))

    # --- the guide's bindings under other names count; a taken name gets a kubeboot: one ---
    subprocess.run(["kubectl", "--kubeconfig", admin, "delete", "clusterrolebinding"] + KUBEADM_NAMES,
                   capture_output=True, text=True, timeout=60)
    c.install_seed_rbac()
    subprocess.run(["kubectl", "--kubeconfig", admin, "delete", "clusterrolebinding",
                    "auto-approve-renewals-for-nodes"], capture_output=True, text=True, timeout=60)
    subprocess.run(["kubectl", "--kubeconfig", admin, "create", "clusterrolebinding",
                    "kubeadm:node-autoapprove-certificate-rotation", "--clusterrole=system:basic-user",
                    "--group=someone-else"], capture_output=True, text=True, timeout=60)
    before = len(c.requests)
    r = tok("create", "--wait=0", kubeconfig=admin, material=True)
    posts = [q for q in c.requests[before:] if q["method"] == "POST" and "clusterrolebindings" in q["path"]]
    # the default group (kubeadm's) is in system:bootstrappers, so the guide's two bindings cover
    # it; kubeadm:get-nodes for it and the renewals binding are missing
    tap.ok(r.rc == 0 and len(posts) == 2 and equivalents(c, "kubeadm:get-nodes",
                                                         "system:bootstrappers:kubeadm:default-node-token") ==
           ["kubeadm:get-nodes"], "the guide's own binding names are recognised (two bindings created)", r)
    tap.ok(equivalents(c, "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:nodes") ==
           ["kubeboot:node-autoapprove-certificate-rotation"] and "kubeboot:node-autoapprove" in r.err,
           "kubeadm's name taken by another binding: created under kubeboot:'s")
    tap.ok(all(len(equivalents(c, role, g)) == 1 for role, g in SEED.items()), "one binding per grant")

    # --- every --print format parses ---
    r = tok("create", "-v", "--print=ini", "--ttl=0", kubeconfig=admin, material=True)
    cfg_r, cfg = kubeboot_config(r.out)
    keys = cfg.get("keys", {})
    tap.ok(r.rc == 0 and cfg_r.rc == 0 and keys.get("server", {}).get("value") == c.url and
           keys.get("ca-cert-hash", {}).get("value") == [c.ca_pin] and
           (keys.get("token", {}).get("value") or "").endswith(".****************"),
           "--print=ini: kubeboot config --config=FILE reads token, server and pin", cfg_r)
    sec_never = next((s for s in c.secrets() if s["metadata"]["name"] == "bootstrap-token-" + created[-1][:6]), {})
    tap.ok("expiration" not in (sec_never.get("data") or {}), "--ttl=0: the Secret has no expiration")

    for fmt in ("butane", "cloud-init"):
        r = tok("create", "--print=" + fmt, kubeconfig=admin, material=True)
        try:
            doc = yaml.safe_load(r.out)
        except yaml.YAMLError as e:
            doc = {"error": str(e)}
        if fmt == "butane":
            f = ((doc.get("storage") or {}).get("files") or [{}])[0]
            ok = doc.get("variant") and doc.get("version") and f.get("path") == "/etc/kubeboot/kubeboot.ini" and \
                f.get("mode") == 0o600
            ini = (f.get("contents") or {}).get("inline", "")
        else:
            f = (doc.get("write_files") or [{}])[0]
            ok = r.out.startswith("#cloud-config\n") and f.get("path") == "/etc/kubeboot/kubeboot.ini" and \
                f.get("permissions") == "0600"
            ini = f.get("content", "")
        tap.ok(r.rc == 0 and ok, "--print=%s: YAML writing /etc/kubeboot/kubeboot.ini mode 0600" % fmt, r.out)
        cfg_r, cfg = kubeboot_config(ini)
        tap.ok(cfg_r.rc == 0 and cfg.get("keys", {}).get("server", {}).get("value") == c.url and
               cfg.get("keys", {}).get("ca-cert-hash", {}).get("value") == [c.ca_pin],
               "--print=%s: the ini inside reads back" % fmt, cfg_r)

    # --- list ---
    r = tok("list", kubeconfig=admin)
    lines = r.out.splitlines()
    tap.ok(r.rc == 0 and lines and lines[0].split() == ["TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION",
                                                        "EXTRA", "GROUPS"], "list prints kubeadm's columns", r)
    row = next((l for l in lines if l.startswith(tid + ".")), "")
    tap.ok(row.startswith(tid + ".**************** ") and "first node pool" in row and
           "system:bootstrappers:kubeboot:pool-a" in row and "authentication,signing" in row and
           re.search(r"\s(23h|1d)\s", row), "its row: masked token, TTL, usages, description, groups", row)
    never = [l for l in lines if "<never>" in l and "<forever>" in l]
    tap.ok(len(never) == 1, "a --ttl=0 token shows <forever> / <never>", r.out)
    r = tok("list", "--json", kubeconfig=admin)
    try:
        items = json.loads(r.out)
    except ValueError:
        items = []
    it = next((i for i in items if i.get("id") == tid), {})
    tap.ok(r.rc == 0 and len(items) == len(created) and it.get("token") == tid + ".****************" and
           it.get("groups") == ["system:bootstrappers:kubeboot:pool-a"] and
           it.get("usages") == ["authentication", "signing"] and 86000 < (it.get("ttlSeconds") or 0) <= 86400,
           "list --json: one object per token, masked", r.out[:2000])

    # --- delete ---
    victim = created[-1]
    r = tok("delete", victim[:6], kubeconfig=admin)
    tap.ok(r.rc == 0 and r.out == 'bootstrap token "%s" deleted\n' % victim[:6] and
           not [s for s in c.secrets() if s["metadata"]["name"] == "bootstrap-token-" + victim[:6]],
           "delete <id> removes the Secret", r)
    r = tok("delete", victim[:6], kubeconfig=admin)
    tap.ok(r.rc == EX_CONFIG and "not found" in r.err, "deleting it again: not found, exit 78 (kubeadm fails too)", r)
    victim = created[-2]
    r = tok("delete", victim, kubeconfig=admin)
    tap.ok(r.rc == 0 and "pass the token id" in r.err and
           not [s for s in c.secrets() if s["metadata"]["name"] == "bootstrap-token-" + victim[:6]],
           "delete <whole token> works, with a warning about argv", r)

    # --- 403, 401, unreachable ---
    alice = c.make_client_kubeconfig(os.path.join(work, "alice.conf"), "alice", ["developers"])
    n_secrets = len(c.secrets())
    for args in (["create"], ["list"], ["delete", "abcdef"]):
        r = tok(*args, kubeconfig=alice)
        el = error_lines(r)
        tap.ok(r.rc == EX_CONFIG and len(el) == 1 and "403" in el[0] and "alice" in el[0] and
               "admin kubeconfig" in el[0], "a non-admin user: token %s fails with one line naming 403" % args[0], r)
    tap.ok(len(c.secrets()) == n_secrets, "and no Secret was created")

    bogus = c.make_token_kubeconfig(os.path.join(work, "bogus.conf"), "abcdef.0123456789abcdef")
    r = tok("list", kubeconfig=bogus)
    tap.ok(r.rc == EX_CONFIG and len(error_lines(r)) == 1 and "401" in r.err, "unknown credentials: 401, exit 78", r)

    with open(admin) as f:
        kc = yaml.safe_load(f)
    kc["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    dead = os.path.join(work, "dead.conf")
    with open(dead, "w") as f:
        yaml.safe_dump(kc, f)
    before = len(c.requests)
    r = tok("create", kubeconfig=dead)
    tap.ok(r.rc == EX_UNAVAILABLE and len(error_lines(r)) == 1 and "cannot reach" in r.err and
           "127.0.0.1:1" in r.err, "an unreachable apiserver: one line, exit 69 (%.1f s)" % r.seconds, r)

    # --- kubeconfig as kubectl reads it: files, relative paths, KUBECONFIG lists, --context ---
    with open(admin) as f:
        kc = yaml.safe_load(f)
    u = kc["users"][0]["user"]
    d = os.path.join(work, "files")
    os.makedirs(d)
    for name, val in (("ca.crt", kc["clusters"][0]["cluster"]["certificate-authority-data"]),
                      ("admin.crt", u["client-certificate-data"]), ("admin.key", u["client-key-data"])):
        with open(os.path.join(d, name), "w") as f:
            f.write(b64d(val))
    fk = {"apiVersion": "v1", "kind": "Config", "current-context": "alice",
          "clusters": [{"name": "k", "cluster": {"server": c.url, "certificate-authority": "ca.crt"}}],
          "users": [{"name": "admin", "user": {"client-certificate": "admin.crt", "client-key": "admin.key"}},
                    {"name": "alice", "user": yaml.safe_load(open(alice))["users"][0]["user"]}],
          "contexts": [{"name": "admin", "context": {"cluster": "k", "user": "admin"}},
                       {"name": "alice", "context": {"cluster": "k", "user": "alice"}}]}
    files_conf = os.path.join(d, "config")
    with open(files_conf, "w") as f:
        yaml.safe_dump(fk, f)
    r = tok("list", env={"KUBECONFIG": "/nonexistent/config:" + files_conf})
    tap.ok(r.rc == EX_CONFIG and "403" in r.err, "KUBECONFIG: the first existing file, its current-context", r)
    r = tok("list", "--context=admin", env={"KUBECONFIG": files_conf})
    tap.ok(r.rc == 0 and "TOKEN" in r.out, "--context picks the admin; cert, key and CA read from files", r)
    r = tok("list", "--context=nope", kubeconfig=files_conf)
    tap.ok(r.rc == EX_CONFIG and "nope" in r.err, "an unknown --context: 78", r)
    r = tok("list", env={"HOME": work + "/home"})
    tap.ok(r.rc == EX_CONFIG and ".kube/config" in r.err, "no kubeconfig anywhere: 78 naming ~/.kube/config", r)
    # a copy, not a symlink: like client-go, relative paths resolve against where the file was found
    shutil.copytree(d, work + "/home/.kube")
    r = tok("list", "--context=admin", env={"HOME": work + "/home"})
    tap.ok(r.rc == 0, "~/.kube/config is the last default", r)
    tf = os.path.join(work, "bogus.token")
    with open(tf, "w") as f:
        f.write("abcdef.0123456789abcdef\n")
    with open(bogus) as f:
        kc = yaml.safe_load(f)
    kc["users"][0]["user"] = {"tokenFile": tf}
    with open(os.path.join(work, "tokenfile.conf"), "w") as f:
        yaml.safe_dump(kc, f)
    r = tok("list", kubeconfig=os.path.join(work, "tokenfile.conf"))
    tap.ok(r.rc == EX_CONFIG and "401" in r.err, "tokenFile is read (the token is sent: 401)", r)
    kc["users"][0]["user"] = {"exec": {"command": "/bin/true", "apiVersion": "client.authentication.k8s.io/v1"}}
    with open(os.path.join(work, "exec.conf"), "w") as f:
        yaml.safe_dump(kc, f)
    before = len(c.requests)
    r = tok("list", kubeconfig=os.path.join(work, "exec.conf"))
    tap.ok(r.rc == EX_CONFIG and "exec plugin" in r.err and len(c.requests) == before,
           "an exec credential plugin: 78, said so, no request", r)

    # --- cluster-info published with another server or CA ---
    r = tok("create", "--wait=0", "--server=https://10.0.0.1:6443", kubeconfig=admin, material=True)
    ci = c.configmap("kube-public", "cluster-info")["data"]["kubeconfig"]
    tap.ok(r.rc == 0 and "server: https://10.0.0.1:6443\n" in ci and "kubeboot.server=https://10.0.0.1:6443 " in r.out,
           "--server replaces the published server", r)
    r = tok("create", "--wait=0", kubeconfig=admin, material=True)
    tap.ok(r.rc == 0 and "kubeboot.server=https://10.0.0.1:6443 " in r.out and "pass --server" in r.err and
           c.configmap("kube-public", "cluster-info")["data"]["kubeconfig"] == ci,
           "without --server the published server is kept and printed", r)
    alt_crt, _ = pki.mint_ca(os.path.join(work, "alt-ca"))
    with open(alt_crt) as f:
        alt_pem = f.read()
    cm = c.store.peek("configmaps", "kube-public", "cluster-info")
    cm["data"] = {"kubeconfig": cluster_info_kubeconfig(c.url, alt_pem)}
    c.store.update(("", "configmaps"), "kube-public", cm, check_rv=False)
    before_secrets = len(c.secrets())
    r = tok("create", kubeconfig=admin)
    tap.ok(r.rc == EX_CONFIG and "--ca-cert" in r.err and len(c.secrets()) == before_secrets,
           "cluster-info with another CA: 78, --ca-cert suggested, no token made", r)
    r = tok("create", "--ca-cert=" + c.ca_cert_path, "--server=" + c.url, kubeconfig=admin, material=True)
    tap.ok(r.rc == 0 and c.configmap("kube-public", "cluster-info")["data"]["kubeconfig"] ==
           cluster_info_kubeconfig(c.url, c.ca_pem) and ("jws-kubeconfig-" + created[-1][:6]) in
           c.configmap("kube-public", "cluster-info")["data"], "--ca-cert replaces it, and the signer signs anew", r)

    # --- no bootstrap signer: a warning naming --controllers, the CA in the material ---
    c.faults.bootstrap_signer_enabled = False
    r = tok("create", "--wait=2s", kubeconfig=admin, material=True)
    tap.ok(r.rc == 0 and "--controllers" in r.err and "bootstrapsigner,tokencleaner" in r.err and
           "warning:" in r.err, "signer disabled: exit 0 with a warning naming --controllers", r)
    tap.ok("kubeboot.ca-cert=" in r.out and "kubeboot.ca-cert-hash=" + c.ca_pin in r.out,
           "and the command line carries the CA itself", r.out)
    with Root() as root:
        root.write("/etc/kubeboot/kubeboot.ini", "[join]\nnode-name = token-node-2\n")
        j = kubeboot("join", "--skip-phases=start,wait,finish", root=root, cmdline=r.out)
        stderrs.append(j.err)
        quiet_outs.append(j.out)
        tap.ok(j.rc == 0 and root.read("/etc/kubernetes/pki/ca.crt").strip() == c.ca_pem.strip(),
               "a node joins with that command line without discovery", j)
    r = tok("create", "--wait=1s", "--print=butane", kubeconfig=admin, material=True)
    doc = yaml.safe_load(r.out) if r.rc == 0 else {}
    files = {f["path"]: f for f in (doc.get("storage") or {}).get("files", [])}
    tap.ok(files.get("/etc/kubeboot/ca.crt", {}).get("contents", {}).get("inline", "").strip() == c.ca_pem.strip()
           and "ca-cert = /etc/kubeboot/ca.crt" in files.get("/etc/kubeboot/kubeboot.ini", {}).get(
               "contents", {}).get("inline", ""), "the butane config then writes the CA file too", r.out)
    c.faults.bootstrap_signer_enabled = True

    r = tok("create", "--usages=authentication", kubeconfig=admin, material=True)
    sec = next((s for s in c.secrets() if s["metadata"]["name"] == "bootstrap-token-" + created[-1][:6]), {})
    tap.ok(r.rc == 0 and "usage-bootstrap-signing" not in (sec.get("data") or {}) and "kubeboot.ca-cert=" in r.out,
           "--usages=authentication: no signing usage, the CA in the material, no wait (%.1f s)" % r.seconds, r)

    # --- the secret never leaks ---
    leaked = [t for t in created if any(t[7:] in e for e in stderrs)]
    tap.ok(not leaked, "no token secret appears on any stderr (%d tokens, %d runs)" % (len(created), len(stderrs)),
           leaked)
    leaked = [t for t in created if any(t[7:] in o for o in quiet_outs)]
    tap.ok(not leaked, "nor on any stdout but the material asked for", leaked)

tap.done()

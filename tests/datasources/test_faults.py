"""Metadata services misbehaving: EC2's token dance and IMDSv1, 503s, resets, slow answers,
a dead service (costs no more than the deadline), malformed and over-size answers
(a message naming source and key, the join goes on or exits 78), redirects, proxies, and
precedence against ini and cmdline."""
import json
import re
import time

import dsfixtures as fx
import fakes
import kbtest
from dsfixtures import SERVER, TOKEN

GATHER_ONLY = "--skip-phases=discover,preflight,write,start,wait,finish"
UD_SERVER = "[join]\nserver = %s\n" % SERVER


def gather(root, cmdline=""):
    return kbtest.kubeboot("-v", "join", GATHER_ONLY, root=root, cmdline=cmdline, timeout=90)


def run(tap, kind, fake, cmdline="", ini=None, env=None):
    """config --json on a root with kind's DMI and an optional admin ini."""
    with kbtest.Root() as root:
        fx.write_dmi(root, kind)
        if ini:
            root.write("/etc/kubeboot/kubeboot.ini", ini)
        args = ["-v", "config", "--json"]
        t0 = time.monotonic()
        r = kbtest.kubeboot(*args, root=root, cmdline=cmdline, timeout=90, env=env)
        r.wall = time.monotonic() - t0
        keys = None
        if r.rc == 0:
            keys = json.loads(r.out)["keys"]
        return r, keys


def ec2_dance(tap):
    # every GET carries the session token: the fake answers 401 to any that does not
    with fakes.EC2(tags={"kubeboot-token": TOKEN}, user_data=UD_SERVER) as f:
        r, keys = run(tap, "ec2", f)
        puts = [p for m, p in f.requests if m == "PUT"]
        tap.ok(r.rc == 0 and fx.source(keys, "token") == "ec2:tag kubeboot-token" and puts == ["/latest/api/token"],
               "ec2: one PUT for the session token, every GET accepted with it", r)
    # no IMDSv2 (an old clone): IMDSv1 is off unless configured; the join goes on without EC2
    with fakes.EC2(imdsv2=False, imdsv1=True, tags={"kubeboot-token": TOKEN}, user_data=UD_SERVER) as f:
        with kbtest.Root() as root:
            fx.write_dmi(root, "ec2")
            r = gather(root)
            tap.ok(r.rc == kbtest.EX_CONFIG and "ec2: api/token:" in r.err and "imdsv1=true" in r.err
                   and f.total == 1, "ec2: no IMDSv2 and imdsv1 off: one request, a message naming ec2 api/token, "
                   "then 78 for the missing token", r)
        r, keys = run(tap, "ec2", f, ini="[datasource.ec2]\nimdsv1 = true\n")
        tap.ok(r.rc == 0 and fx.value(keys, "server") == SERVER and
               fx.value(keys, "provider-id") == "aws:///eu-central-1a/i-0123456789abcdef0",
               "ec2: [datasource.ec2] imdsv1=true: IMDSv1 used", r)
    # IMDSv2 present and imdsv1=true: still v2 (the fake refuses GETs without a token)
    with fakes.EC2(imdsv1=False, tags={"kubeboot-token": TOKEN}, user_data=UD_SERVER) as f:
        r, keys = run(tap, "ec2", f, ini="[datasource.ec2]\nimdsv1 = true\n")
        tap.ok(r.rc == 0 and fx.source(keys, "token") == "ec2:tag kubeboot-token",
               "ec2: imdsv1=true still prefers IMDSv2", r)
    # tags not exposed: 404 is normal
    with fakes.EC2(tags=None, user_data=fx.ini()) as f:
        r, keys = run(tap, "ec2", f)
        tap.ok(r.rc == 0 and "warning" not in r.err and fx.source(keys, "token") == "ec2:user-data:2"
               and f.counts.get("/latest/meta-data/tags/instance") == 1,
               "ec2: tags not exposed (404): no warning, user-data still read", r)


def transient(tap):
    for cls, kw in ((fakes.EC2, dict(tags={"kubeboot-token": TOKEN}, user_data=UD_SERVER)),
                    (fakes.GCE, dict(attributes={"kubeboot-token": TOKEN, "kubeboot-server": SERVER})),
                    (fakes.Azure, dict(tags={"kubeboot-token": TOKEN}, user_data=UD_SERVER)),
                    (fakes.OpenStack, dict(meta={"kubeboot-token": TOKEN}, user_data=UD_SERVER)),
                    (fakes.DigitalOcean, dict(user_data=fx.ini())),
                    (fakes.Hetzner, dict(user_data=fx.ini()))):
        with cls(fail503=2, retry_after=0, **kw) as f:
            r, keys = run(tap, cls.name, f)
            tap.ok(r.rc == 0 and fx.value(keys, "server") == SERVER and fx.source(keys, "provider-id"),
                   "%s: two 503s, then the answer: retried (%d requests, %.2f s)" % (cls.name, f.total, r.wall), r)
        with cls(resets=2, **kw) as f:
            r, keys = run(tap, cls.name, f)
            tap.ok(r.rc == 0 and fx.value(keys, "server") == SERVER,
                   "%s: two connection resets, then the answer: retried (%.2f s)" % (cls.name, r.wall), r)
    # a slow first answer: the request times out after metadata-request-timeout, the retry succeeds
    with fakes.GCE(slow=3, slow_n=1, attributes={"kubeboot-token": TOKEN, "kubeboot-server": SERVER}) as f:
        r, keys = run(tap, "gce", f, ini="[join]\nmetadata-request-timeout = 1s\n")
        tap.ok(r.rc == 0 and fx.value(keys, "server") == SERVER and r.wall < 2.9,
               "gce: a slow answer is cut at the request timeout (1s) and retried (%.2f s)" % r.wall, r)
    # the 404 of a needed document is not retried
    with fakes.Azure(override={"/metadata/instance": (404, "{}")}) as f:
        r, keys = run(tap, "azure", f, cmdline="kubeboot.token=%s kubeboot.server=%s" % (TOKEN, SERVER))
        tap.ok(r.rc == 0 and f.total == 1 and "azure: instance: not found" in r.err,
               "azure: 404 is not retried; warned; the cmdline suffices", r)


def dead(tap):
    # nothing listens: connection refused on every try until the deadline
    with kbtest.Root() as root:
        fx.write_dmi(root, "ec2")
        t0 = time.monotonic()
        root.write("/etc/kubeboot/kubeboot.ini", "[join]\nmetadata-timeout = 3s\n")
        r = kbtest.kubeboot("config", root=root, cmdline="", timeout=60)
        wall = time.monotonic() - t0
        tap.ok(r.rc == kbtest.EX_UNAVAILABLE and 1.0 <= wall <= 4.0 and "stayed unavailable" in r.err,
               "ec2: a dead metadata service costs the deadline (3s), no more: %.2f s, exit 69" % wall, r)
    # it accepts but never answers: each try bounded by the request timeout, all by the deadline
    with fakes.Hetzner(slow=30, slow_n=1000) as f:
        t0 = time.monotonic()
        r, keys = run(tap, "hetzner", f, ini="[join]\nmetadata-timeout = 3s\nmetadata-request-timeout = 1s\n")
        wall = time.monotonic() - t0
        tap.ok(r.rc == kbtest.EX_UNAVAILABLE and wall <= 4.0,
               "hetzner: a service that never answers costs the deadline: %.2f s, %d tries" % (wall, f.total), r)
    # with the default deadline (20 s) and a dead service
    with kbtest.Root() as root:
        fx.write_dmi(root, "azure")
        t0 = time.monotonic()
        r = kbtest.kubeboot("config", root=root, cmdline="", timeout=60)
        wall = time.monotonic() - t0
        # the shared backoff gives up early when its next delay would pass the deadline
        tap.ok(r.rc == kbtest.EX_UNAVAILABLE and 10 <= wall <= 21.5,
               "azure: the default metadata-timeout (20s) bounds a dead service: %.2f s" % wall, r)


def malformed(tap):
    cl = "kubeboot.token=%s kubeboot.server=%s" % (TOKEN, SERVER)
    with fakes.GCE(override={"/computeMetadata/v1/instance/": (200, '{"name": "w1", "zone": ')}) as f:
        r, keys = run(tap, "gce", f, cmdline=cl)
        tap.ok(r.rc == 0 and "gce:instance: not JSON" in r.err and fx.source(keys, "provider-id") is None
               and fx.source(keys, "token") == "cmdline",
               "gce: truncated JSON: a message naming gce:instance; the join goes on with the cmdline", r)
    with fakes.Azure(tags={"kubeboot-token": TOKEN}, raw_user_data="@@ not base64 @@") as f:
        r, keys = run(tap, "azure", f, cmdline="kubeboot.server=" + SERVER)
        tap.ok(r.rc == 0 and "azure:instance: compute.userData: not valid base64" in r.err
               and fx.source(keys, "token") == "azure:tag kubeboot-token",
               "azure: bad base64 userData: a message naming source and key; the tags still apply", r)
    with fakes.EC2(tags={"kubeboot-token": TOKEN}, user_data="[join]\nthis line is no ini\nserver = %s\n" % SERVER) as f:
        r, keys = run(tap, "ec2", f)
        tap.ok(r.rc == 0 and re.search(r"ec2:user-data: not a kubeboot ini document \(line 2", r.err)
               and fx.source(keys, "token") == "ec2:tag kubeboot-token" and fx.source(keys, "server") is None,
               "ec2: malformed ini user-data: warned (source, line), skipped; the tag still applies", r)
        with kbtest.Root() as root:
            fx.write_dmi(root, "ec2")
            r = gather(root)
            tap.ok(r.rc == kbtest.EX_CONFIG and "server: not set by any source" in r.err,
                   "ec2: ... and with nothing else giving the server, the join exits 78", r)
    with fakes.Hetzner(override={"/hetzner/v1/metadata": (200, "hostname: [oops\n")}, user_data=fx.ini()) as f:
        r, keys = run(tap, "hetzner", f)
        tap.ok(r.rc == 0 and "hetzner:metadata: not YAML" in r.err and fx.value(keys, "server") == SERVER
               and fx.value(keys, "node-ip") == "10.0.0.9",
               "hetzner: malformed YAML metadata: warned; private networks and userdata still apply", r)
    with fakes.DigitalOcean(override={"/metadata/v1.json": (200, "\x00\x01garbage")}) as f:
        with kbtest.Root() as root:
            fx.write_dmi(root, "digitalocean")
            r = gather(root)
            tap.ok(r.rc == kbtest.EX_CONFIG and "digitalocean:metadata: not JSON" in r.err
                   and "token: not set by any source" in r.err,
                   "digitalocean: garbage instead of JSON and no other source: named, then exit 78", r)
    big = "[join]\nserver = %s\n#%s\n" % (SERVER, "x" * (64 * 1024))
    with fakes.EC2(tags={"kubeboot-token": TOKEN}, user_data=big) as f:
        r, keys = run(tap, "ec2", f)
        tap.ok(r.rc == 0 and "ec2: user-data: the answer to /latest/user-data is larger than 65536 bytes: rejected"
               in r.err and fx.source(keys, "server") is None and f.counts.get("/latest/user-data") == 1,
               "ec2: over-size user-data (64 KiB + 1): rejected, not retried", r)
    with fakes.EC2(tags={"kubeboot-token": "not-a-token"}, user_data=UD_SERVER) as f:
        with kbtest.Root() as root:
            fx.write_dmi(root, "ec2")
            r = gather(root)
            tap.ok(r.rc == kbtest.EX_CONFIG and "ec2:tag kubeboot-token: token:" in r.err,
                   "ec2: an invalid token in a tag: the same validation as any source, exit 78", r)
    with fakes.GCE(name="Bad_Name!", attributes={"kubeboot-token": TOKEN, "kubeboot-server": SERVER}) as f:
        r, keys = run(tap, "gce", f)
        tap.ok(r.rc == 0 and "gce:instance: node-name:" in r.err and fx.source(keys, "node-name") == "hostname",
               "gce: an instance name that is no node name: warned, the hostname is used", r)
    # a redirect is never followed
    with fakes.DigitalOcean(override={"/metadata/v1.json": (302, "", {"Location": "http://169.254.169.254/x.json"})}) as f:
        r, keys = run(tap, "digitalocean", f, cmdline=cl)
        tap.ok(r.rc == 0 and "answered HTTP 302" in r.err and f.counts.get("/x.json") is None,
               "digitalocean: a redirect is not followed (a message, no request to the target)", r)


def proxies(tap):
    # a proxy in the environment is bypassed for the link-local service
    with fakes.Azure(tags={"kubeboot-token": TOKEN}, user_data=UD_SERVER) as f:
        env = {"http_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "ALL_PROXY": "http://127.0.0.1:9"}
        r, keys = run(tap, "azure", f, env=env)
        tap.ok(r.rc == 0 and f.total == 1 and fx.value(keys, "server") == SERVER,
               "azure: http_proxy set: the metadata service is still reached directly", r)


def precedence(tap):
    ini = "[kubelet]\nnode-ip = 10.9.9.9\nmax-pods = 10\ncluster-domain = ini.example\n"
    tags = {"kubeboot-token": TOKEN, "kubeboot-max-pods": "20", "kubeboot-node-ip": "10.0.1.99",
            "kubeboot-cluster-domain": "tag.example"}
    ud = UD_SERVER + "[kubelet]\nmax-pods = 30\n"
    with fakes.EC2(tags=tags, user_data=ud) as f:
        r, keys = run(tap, "ec2", f, ini=ini)
        tap.ok(fx.value(keys, "max-pods") == 30 and fx.source(keys, "max-pods") == "ec2:user-data:4",
               "precedence: user-data over tags over ini (max-pods)", r)
        tap.ok(fx.value(keys, "node-ip") == "10.0.1.99" and fx.source(keys, "node-ip") == "ec2:tag kubeboot-node-ip",
               "precedence: a tag over the instance facts over the ini (node-ip)", r)
        tap.ok(fx.value(keys, "cluster-domain") == "tag.example", "precedence: a tag over the ini (cluster-domain)", r)
        r, keys = run(tap, "ec2", f, ini=ini, cmdline="kubeboot.max-pods=40 kubeboot.node-ip=10.7.7.7")
        tap.ok(fx.value(keys, "max-pods") == 40 and fx.source(keys, "max-pods") == "cmdline"
               and fx.value(keys, "node-ip") == "10.7.7.7",
               "precedence: the cmdline over every metadata part", r)
    with fakes.EC2(tags={"kubeboot-token": TOKEN}, user_data=UD_SERVER) as f:
        r, keys = run(tap, "ec2", f, ini="[kubelet]\nnode-ip = 10.9.9.9\n")
        tap.ok(fx.value(keys, "node-ip") == "10.0.1.23" and fx.source(keys, "node-ip") == "ec2:meta-data",
               "precedence: instance facts over the ini", r)


def main():
    kbtest.assert_in_netns()
    tap = kbtest.Tap()
    ec2_dance(tap)
    transient(tap)
    malformed(tap)
    proxies(tap)
    precedence(tap)
    dead(tap)
    tap.done()


if __name__ == "__main__":
    main()

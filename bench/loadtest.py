#!/usr/bin/python3
"""Many kubeboot agents joining one cluster double at once (issue 8, part B).

Library for tests/integration/test_load.py and the CLI behind bench/load-test. Must run
inside a loopback-only network namespace (tests/netns-run); nothing leaves the machine.

What it does:
  * starts ONE cluster double (bench/double-serve.py: the double's `serve` with a larger
    listen backlog, more file descriptors and the peer address in its request log), with
    a few bootstrap tokens, the seed RBAC, cluster-info, and the fault knobs given
    (rate_limit + retry_after_seconds like API Priority & Fairness, fail_fraction, ...);
  * makes N node roots, each with /etc/kubeboot/kubeboot.ini (one of the tokens, server,
    CA pin, node-name, datasource=none);
  * releases N `kubeboot --root=R_i --cmdline=/dev/null join` at the same instant (each is
    parked on a FIFO first); each agent binds its own loopback source address (an
    LD_PRELOAD shim, bench/srcaddr-shim.c) so the double's log tells agents apart;
  * a kubelet pool in this process plays each root's kubelet as soon as kubeboot has
    written its files: tests/cluster/kubelet.py's own code (imported) with the root as
    --standin-root: P-256 key, CSR CN=system:node:<name>/O=system:nodes with the token,
    wait for approval + certificate, kubelet-client-current.pem + kubelet.conf written
    into the root, Node registered with its own certificate;
  * waits (bounded) until every agent has exited, then reads the double's request log and
    reports: requests in total and per agent, per 100 ms bucket, what happened after 429
    waves, time to all joined.

Every process it starts it stops; every loop is bounded in time.
"""
import argparse
import collections
import json
import os
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "cluster"))
sys.dont_write_bytecode = True

import kubelet as standin  # noqa: E402  (the stand-in kubelet, reused as a library)

KUBEBOOT = os.environ.get("KUBEBOOT_BIN") or os.path.join(SRC, "build", "agent", "kubeboot")
PYTHON = "/usr/bin/python3"
TOKENS = ["abcdef.0123456789abcdef", "bcdefa.123456789abcdef0", "cdefab.23456789abcdef01",
          "defabc.3456789abcdef012"]


def log(msg):
    sys.stderr.write("load: %s\n" % msg)
    sys.stderr.flush()


def src_addr(i):
    """Agent i's loopback source address: 127.1.x.y (never 127.0.0.1, the pool's)."""
    return "127.1.%d.%d" % ((i + 1) >> 8, (i + 1) & 255)


def build_shim(workdir):
    out = os.path.join(workdir, "srcaddr-shim.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", out, os.path.join(HERE, "srcaddr-shim.c"), "-ldl"],
                   check=True, timeout=60)
    return out


def cpu_ticks(pid):
    """utime + stime of a process (and its waited-for children) in seconds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


def machine_busy():
    """(busy, total) jiffies of all CPUs."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


# --------------------------------------------------------------------------- the double

class Double:
    """One cluster double in its own process (so that the kubelet pool's Python work does
    not share the double's GIL)."""

    def __init__(self, workdir, faults, tokens, lifetime=1200, switch_interval=None, fast_list=False, nodelay=False):
        self.workdir = os.path.join(workdir, "double")
        os.makedirs(self.workdir, exist_ok=True)
        argv = [PYTHON, os.path.join(HERE, "double-serve.py"), "serve", "--workdir", self.workdir,
                "--port", "0", "--seed-rbac", "--cluster-info", "--lifetime", str(lifetime),
                "--faults", json.dumps(faults)]
        if switch_interval:
            argv += ["--switch-interval", str(switch_interval)]
        if fast_list:
            argv.append("--fast-list")
        if nodelay:
            argv.append("--nodelay")
        for t in tokens:
            argv += ["--token", t]
        self.err = open(os.path.join(self.workdir, "stderr"), "w")
        self.proc = subprocess.Popen(argv, stdout=self.err, stderr=self.err, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
        path = os.path.join(self.workdir, "double.json")
        end = time.monotonic() + 90
        while not os.path.exists(path):
            if self.proc.poll() is not None or time.monotonic() > end:
                self.stop()
                raise RuntimeError("the cluster double did not start; see %s/stderr" % self.workdir)
            time.sleep(0.05)
        with open(path) as f:
            self.info = json.load(f)
        self.url, self.pin, self.control = self.info["url"], self.info["ca_pin"], self.info["control_url"]

    def _get(self, path, timeout=120):
        with urllib.request.urlopen(self.control + path, timeout=timeout) as r:
            return json.loads(r.read())

    def post_faults(self, faults):
        req = urllib.request.Request(self.control + "/faults", data=json.dumps(faults).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def requests(self):
        return self._get("/requests")

    def node_exists(self, name):
        try:
            self._get("/nodes/" + name, timeout=30)
            return True
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return False
            raise

    def cpu(self):
        return cpu_ticks(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.err.close()


# --------------------------------------------------------------------------- kubelet pool

_tls = threading.local()


def _klog(sev, msg, **kv):
    """The stand-in's klog lines go to the current job's ring buffer, not stderr."""
    buf = getattr(_tls, "buf", None)
    if buf is not None:
        buf.append("%s %.3f %s %s" % (sev, time.time(), msg, " ".join("%s=%s" % x for x in kv.items())))
        if len(buf) > 80:
            del buf[:40]


standin._klog = _klog


class KubeletPool:
    """What each root's kubelet would do once kubeboot has written its files (systemd
    restarting a crash-looping kubelet is modelled by re-running a failed job after 1 s),
    for hundreds of roots in one process: a scanner thread plus a thread pool."""

    TRIGGER = "etc/kubernetes/bootstrap-kubelet.conf"   # kubeboot writes it last

    def __init__(self, roots, workers=64, timeout=600):
        self.pending = list(roots)
        self.timeout = timeout
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kubelet")
        self.started, self.done, self.failed, self.logs = {}, {}, {}, {}
        self.attempts = collections.Counter()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._scanner = threading.Thread(target=self._scan, name="kubelet-scan", daemon=True)
        self._end = time.monotonic() + timeout

    def start(self):
        standin.STOP.clear()
        self._end = time.monotonic() + self.timeout
        self._scanner.start()
        return self

    def _scan(self):
        while self.pending and not self._stop.is_set() and time.monotonic() < self._end:
            still = []
            for r in self.pending:
                if os.path.exists(os.path.join(r, self.TRIGGER)):
                    self.started[r] = time.time()
                    self.executor.submit(self._job, r)
                else:
                    still.append(r)
            self.pending = still
            self._stop.wait(0.05)

    def _job(self, root):
        _tls.buf = self.logs.setdefault(root, [])
        while not self._stop.is_set() and time.monotonic() < self._end:
            self.attempts[root] += 1
            try:
                self.run_kubelet(root, max(5.0, self._end - time.monotonic()))
                with self._lock:
                    self.done[root] = time.time()
                    self.failed.pop(root, None)
                return
            except SystemExit:          # the stand-in's STOP during a sleep
                return
            except Exception as exc:    # kubelet exits 1; systemd restarts it
                with self._lock:
                    self.failed[root] = "%s: %s" % (type(exc).__name__, exc)
                _tls.buf.append("E job failed: %s" % exc)
                self._stop.wait(1.0)

    @staticmethod
    def run_kubelet(root, timeout):
        """kubelet.py's main() minus the idle loop: flags as the kubeadm drop-in passes them
        (kubeadm-flags.env), strict config, TLS bootstrap, registration."""
        paths = standin.Paths(root)
        with open(os.path.join(root, "var/lib/kubelet/kubeadm-flags.env")) as f:
            line = f.read().strip()
        args = shlex.split(line.split("=", 1)[1]) if "=" in line else []
        argv = ["--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
                "--kubeconfig=/etc/kubernetes/kubelet.conf",
                "--config=/var/lib/kubelet/config.yaml"] + args
        flags, _, rest = standin.parse_flags(argv)
        if rest:
            raise standin.KubeletError("unknown command %s" % rest[0])
        err = standin.validate_node_labels(flags.get("node-labels") or {})
        if err:
            raise standin.KubeletError(err)
        cfg = standin.effective_config(standin.load_kubelet_config(paths.host(flags["config"]), False), flags)
        err = standin.validate_config(cfg, False)
        if err:
            raise standin.KubeletError("failed to validate kubelet configuration: %s" % err)
        kl = standin.Kubelet(flags, cfg, paths, timeout)
        kl.bootstrap()
        if cfg.get("registerNode", True):
            kl.register().close()

    def stop(self):
        self._stop.set()
        standin.STOP.set()      # wakes the stand-in's sleeps and ends its watches
        self._scanner.join(5)
        self.executor.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------- agents

def make_roots(workdir, n, url, pin, tokens, extra_ini=""):
    roots = []
    for i in range(n):
        r = os.path.join(workdir, "agents", "%04d" % i)
        os.makedirs(os.path.join(r, "etc/kubeboot"), exist_ok=True)
        p = os.path.join(r, "etc/kubeboot/kubeboot.ini")
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("[join]\ntoken = %s\nserver = %s\nca-cert-hash = %s\nnode-name = load-%04d\n"
                    "datasource = none\n%s" % (tokens[i % len(tokens)], url, pin, i, extra_ini))
        roots.append(r)
    return roots


class Agents:
    """N kubeboot processes parked on a FIFO, released together."""

    def __init__(self, workdir, roots, shim, args=("join",)):
        self.roots = roots
        self.fifo = os.path.join(workdir, "go.fifo")
        os.mkfifo(self.fifo)
        # O_RDWR: never blocks, and keeps the pipe alive until every agent has read its line
        self.fifo_fd = os.open(self.fifo, os.O_RDWR | os.O_NONBLOCK)
        self.procs, self.exit_time, self.rc = [], {}, {}
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        env.pop("NOTIFY_SOCKET", None)
        for i, r in enumerate(roots):
            e = dict(env, KB_SRC_ADDR=src_addr(i))
            if shim:
                e["LD_PRELOAD"] = shim
                # an ASan-built kubeboot wants its runtime first; the shim only wraps bind()
                e["ASAN_OPTIONS"] = "verify_asan_link_order=0:" + e.get("ASAN_OPTIONS", "")
            out = open(os.path.join(r, "kubeboot.log"), "w")
            argv = ["/bin/sh", "-c", 'read _ < "$0"; exec "$@"', self.fifo, KUBEBOOT, "--root=" + r,
                    "--cmdline=/dev/null"] + list(args)
            self.procs.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=e))
            out.close()

    def parked(self):
        n = 0
        for p in self.procs:
            try:
                with open("/proc/%d/wchan" % p.pid) as f:
                    w = f.read().strip()
                n += "pipe" in w or w == "wait_for_partner"
            except OSError:
                pass
        return n

    def release(self, park_timeout=60):
        end = time.monotonic() + park_timeout
        while self.parked() < len(self.procs) and time.monotonic() < end:
            time.sleep(0.1)
        t0 = time.time()
        os.write(self.fifo_fd, b"go\n" * len(self.procs))
        return t0

    def poll(self):
        now = time.time()
        for i, p in enumerate(self.procs):
            if i not in self.rc:
                rc = p.poll()
                if rc is not None:
                    self.rc[i] = rc
                    self.exit_time[i] = now
        return len(self.rc)

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        end = time.monotonic() + 10
        for p in self.procs:
            try:
                p.wait(max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        try:
            os.close(self.fifo_fd)
        except OSError:
            pass


# --------------------------------------------------------------------------- analysis

def pct(values, q):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def histogram(values, width, lo=None, hi=None, bar=50):
    """Text histogram of values in bins of `width`."""
    if not values:
        return ["(none)"]
    lo = min(values) if lo is None else lo
    hi = max(values) if hi is None else hi
    bins = collections.Counter(int((v - lo) // width) for v in values if lo <= v <= hi)
    top = max(bins.values())
    out = []
    for b in range(0, int((hi - lo) // width) + 1):
        c = bins.get(b, 0)
        out.append("%7.2f-%-7.2f %5d %s" % (lo + b * width, lo + (b + 1) * width, c, "#" * int(round(bar * c / top))))
    return out


def analyze(entries, t0, n_agents, exit_time, rc):
    """The numbers the issue asks for, from the double's request log."""
    ip_to_agent = {src_addr(i): i for i in range(n_agents)}
    agent_reqs = collections.defaultdict(list)
    pool_reqs = []
    for e in entries:
        if e.get("time") is None or e["time"] < t0 - 1:
            continue
        a = ip_to_agent.get(e.get("peer"))
        (agent_reqs[a] if a is not None else pool_reqs).append(e)
    counts = [len(agent_reqs.get(i, [])) for i in range(n_agents)]
    ok_agents = [i for i in range(n_agents) if rc.get(i) == 0]
    join_s = sorted(exit_time[i] - t0 for i in ok_agents)
    alltimes = [e["time"] - t0 for e in entries if e.get("time") and e["time"] >= t0 - 1]
    b100 = collections.Counter(int(t // 0.1) for t in alltimes)
    agent_times = [e["time"] - t0 for l in agent_reqs.values() for e in l]
    a100 = collections.Counter(int(t // 0.1) for t in agent_times)
    status = collections.Counter(str(e.get("status")) for l in agent_reqs.values() for e in l)
    pool_status = collections.Counter(str(e.get("status")) for e in pool_reqs)

    # what each agent did after each 429: how long until its next request
    after429, retry_at = [], []
    first429 = collections.Counter()
    for i, l in agent_reqs.items():
        l.sort(key=lambda e: e["time"])
        for a, b in zip(l, l[1:]):
            if a.get("status") == 429:
                after429.append(b["time"] - a["time"])
                retry_at.append(b["time"] - t0)
    # the biggest 429 wave: the 100 ms bucket with most 429s; where its agents came back
    waves = collections.Counter()
    wave_members = collections.defaultdict(list)
    for i, l in agent_reqs.items():
        for a, b in zip(l, l[1:]):
            if a.get("status") == 429:
                k = int((a["time"] - t0) // 0.1)
                waves[k] += 1
                wave_members[k].append(b["time"] - t0)
    wave = None
    if waves:
        k, size = waves.most_common(1)[0]
        back = wave_members[k]
        bb = collections.Counter(int(t // 0.1) for t in back)
        wave = {"at_s": round(k * 0.1, 1), "agents_429": size,
                "returned_from_s": round(min(back), 3), "returned_to_s": round(max(back), 3),
                "buckets_used": len(bb), "largest_bucket": max(bb.values()),
                "largest_bucket_share": round(max(bb.values()) / len(back), 3),
                "histogram": histogram(back, 0.1, lo=k * 0.1)}
    retry_buckets = collections.Counter(int(t // 0.1) for t in retry_at)

    def kind(e):
        p = e.get("path") or ""
        for k, pat in (("cluster-info", "/configmaps/cluster-info"), ("selfsubjectreview", "selfsubjectreviews"),
                       ("selfsubjectaccessreview", "selfsubjectaccessreviews"), ("node", "/api/v1/nodes"),
                       ("csr", "certificatesigningrequests")):
            if pat in p:
                return "%s %s" % (e.get("method"), k)
        return "%s %s" % (e.get("method"), p[:40])
    agent_kinds = collections.Counter(kind(e) for l in agent_reqs.values() for e in l)
    pool_kinds = collections.Counter(kind(e) for e in pool_reqs)
    res = {
        "agents": n_agents,
        "joined": len(ok_agents),
        "exit_codes": dict(collections.Counter(str(rc.get(i)) for i in range(n_agents))),
        "time_to_all_joined_s": round(max(join_s), 2) if len(join_s) == n_agents and join_s else None,
        "join_s": {"min": round(join_s[0], 2), "median": round(statistics.median(join_s), 2),
                   "p90": round(pct(join_s, 0.9), 2), "max": round(join_s[-1], 2)} if join_s else None,
        "requests_total": len(alltimes),
        "requests_agents": sum(counts),
        "requests_kubelet_pool": len(pool_reqs),
        "per_agent": {"min": min(counts), "median": statistics.median(counts), "max": max(counts),
                      "mean": round(statistics.mean(counts), 2)},
        "agent_status": dict(status),
        "agent_request_kinds": dict(agent_kinds.most_common()),
        "kubelet_pool_request_kinds": dict(pool_kinds.most_common()),
        "kubelet_pool_status": dict(pool_status),
        "peak_per_100ms_all": max(b100.values()) if b100 else 0,
        "peak_per_100ms_all_at_s": round(b100.most_common(1)[0][0] * 0.1, 1) if b100 else None,
        "peak_per_100ms_agents": max(a100.values()) if a100 else 0,
        "duration_s": round(max(alltimes) - min(alltimes), 2) if alltimes else 0,
        "mean_rps": round(len(alltimes) / max(0.1, max(alltimes) - min(alltimes)), 1) if alltimes else 0,
        "after_429": {"n": len(after429),
                      "min_s": round(min(after429), 3) if after429 else None,
                      "median_s": round(statistics.median(after429), 3) if after429 else None,
                      "max_s": round(max(after429), 3) if after429 else None,
                      "histogram": histogram(after429, 0.1, lo=0) if after429 else []},
        "retries_after_429_largest_100ms_bucket": max(retry_buckets.values()) if retry_buckets else 0,
        "retries_after_429_buckets": len(retry_buckets),
        "largest_429_wave": wave,
        "per_second": [[s, c] for s, c in sorted(collections.Counter(int(t) for t in alltimes).items())],
        "per_second_429": [[s, c] for s, c in sorted(collections.Counter(
            int(e["time"] - t0) for l in agent_reqs.values() for e in l if e.get("status") == 429).items())],
    }
    return res


def report_text(res, extra=None):
    L = []
    w = L.append
    w("agents: %d, joined: %d, exit codes: %s" % (res["agents"], res["joined"], res["exit_codes"]))
    w("time to all joined: %s s; per agent join time min/median/p90/max: %s" %
      (res["time_to_all_joined_s"], res["join_s"]))
    w("requests: %d total (%d from agents, %d from the kubelet pool) over %.1f s, mean %.0f/s" %
      (res["requests_total"], res["requests_agents"], res["requests_kubelet_pool"], res["duration_s"], res["mean_rps"]))
    w("per agent: min %(min)s, median %(median)s, mean %(mean)s, max %(max)s" % res["per_agent"])
    w("agent responses by status: %s" % dict(sorted(res["agent_status"].items())))
    w("kubelet pool responses by status: %s" % dict(sorted(res["kubelet_pool_status"].items())))
    w("agent requests by kind: %s" % res["agent_request_kinds"])
    w("kubelet pool requests by kind: %s" % res["kubelet_pool_request_kinds"])
    w("peak per 100 ms: %d (= %d/s) at t=%ss; agents alone: %d" %
      (res["peak_per_100ms_all"], res["peak_per_100ms_all"] * 10, res["peak_per_100ms_all_at_s"],
       res["peak_per_100ms_agents"]))
    a = res["after_429"]
    w("after a 429, an agent's next request came %s..%s s later (median %s, n=%d); the retries fall in %d "
      "distinct 100 ms buckets, at most %d in one" % (a["min_s"], a["max_s"], a["median_s"], a["n"],
                                                     res["retries_after_429_buckets"],
                                                     res["retries_after_429_largest_100ms_bucket"]))
    wv = res["largest_429_wave"]
    if wv:
        w("largest 429 wave: %d agents told 429 within 100 ms at t=%.1fs; they came back between t=%.2f and "
          "%.2f s, over %d buckets of 100 ms, at most %d (%.0f%%) in one:" %
          (wv["agents_429"], wv["at_s"], wv["returned_from_s"], wv["returned_to_s"], wv["buckets_used"],
           wv["largest_bucket"], 100 * wv["largest_bucket_share"]))
        L.extend("    " + x for x in wv["histogram"])
    w("delay from a 429 to the same agent's next request (s):")
    L.extend("    " + x for x in a["histogram"][:40])
    w("requests per second (all) / 429s to agents:")
    r429 = dict(res["per_second_429"])
    top = max((c for _, c in res["per_second"]), default=1)
    for s, c in res["per_second"]:
        w("    t=%4ds %5d %5d %s" % (s, c, r429.get(s, 0), "#" * int(round(40 * c / top))))
    for k, v in (extra or {}).items():
        w("%s: %s" % (k, v))
    return "\n".join(L)


# --------------------------------------------------------------------------- the run

def run(n=50, faults=None, workdir=None, timeout=300, pool_workers=64, extra_ini="", tokens=TOKENS,
        keep=False, progress=True, switch_interval=None, fast_list=False):
    """One load run. Returns (result dict, text report). Stops everything it started."""
    if os.environ.get("KUBEBOOT_IN_NETNS") != "1" and not os.environ.get("KBTEST_NETNS"):
        raise SystemExit("run this through tests/netns-run (it opens sockets)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    own = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="kubeboot-load-")
    os.makedirs(workdir, exist_ok=True)
    faults = dict(faults or {})
    double = agents = pool = None
    samples = []
    try:
        shim = build_shim(workdir)
        double = Double(workdir, faults, tokens, lifetime=timeout + 120, switch_interval=switch_interval,
                        fast_list=fast_list)
        roots = make_roots(workdir, n, double.url, double.pin, tokens, extra_ini)
        agents = Agents(workdir, roots, shim)
        pool = KubeletPool(roots, workers=pool_workers, timeout=timeout).start()
        cpu0, busy0 = double.cpu(), machine_busy()
        t0 = agents.release()
        if progress:
            log("released %d agents at once; faults %s" % (n, faults))
        end = time.monotonic() + timeout
        last = (time.monotonic(), double.cpu(), machine_busy())
        next_report = time.monotonic() + 5
        while agents.poll() < n and time.monotonic() < end:
            time.sleep(0.1)
            now = time.monotonic()
            if now - last[0] >= 1.0:
                c, b = double.cpu(), machine_busy()
                samples.append((round(time.time() - t0, 1), round((c - last[1]) / (now - last[0]), 2),
                                round((b[0] - last[2][0]) / max(1, b[1] - last[2][1]) * os.cpu_count(), 2)))
                last = (now, c, b)
            if progress and now >= next_report:
                ok = sum(1 for v in agents.rc.values() if v == 0)
                log("t=%5.1fs exited %d/%d (ok %d), kubelets done %d, double cpu %.2f cores, machine %.2f cores"
                    % (time.time() - t0, len(agents.rc), n, ok, len(pool.done),
                       samples[-1][1] if samples else 0, samples[-1][2] if samples else 0))
                next_report = now + 5
        elapsed = time.time() - t0
        cpu1, busy1 = double.cpu(), machine_busy()
        timed_out = len(agents.rc) < n
        agents.stop()
        agents.poll()
        pool.stop()
        entries = double.requests()
        nodes_missing = [i for i in range(n) if agents.rc.get(i) == 0 and not double.node_exists("load-%04d" % i)]
        stamps_missing = [i for i in range(n) if agents.rc.get(i) == 0 and
                          not os.path.exists(os.path.join(roots[i], "var/lib/kubeboot/joined"))]
        res = analyze(entries, t0, n, agents.exit_time, agents.rc)
        res.update({
            "faults": faults, "fast_list": fast_list, "timed_out": timed_out, "elapsed_s": round(elapsed, 2),
            "nodes_missing_at_double": nodes_missing, "joined_stamps_missing": stamps_missing,
            "double_cpu_s": round(cpu1 - cpu0, 2),
            "double_cpu_cores_mean": round((cpu1 - cpu0) / max(0.1, elapsed), 2),
            "machine_cores_busy_mean": round((busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]) * os.cpu_count(), 2),
            "cpu_samples": samples,
            "kubelet_pool": {"done": len(pool.done), "attempts_max": max(pool.attempts.values() or [0]),
                             "failed": len(pool.failed)},
        })
        failures = []
        for i in range(n):
            if agents.rc.get(i) != 0:
                with open(os.path.join(roots[i], "kubeboot.log"), errors="replace") as f:
                    failures.append("agent %d rc=%s: %s" % (i, agents.rc.get(i), f.read()[-600:]))
                if len(failures) >= 5:
                    break
        for r in list(pool.failed)[:3]:
            failures.append("kubelet %s: %s\n  %s" % (r, pool.failed[r], "\n  ".join(pool.logs.get(r, [])[-15:])))
        res["failures"] = failures
        text = report_text(res, {"double CPU (cores, mean over the run)": res["double_cpu_cores_mean"],
                                 "machine CPU busy (cores of %d, mean)" % os.cpu_count(): res["machine_cores_busy_mean"],
                                 "per-second samples (t, double cores, machine cores)": samples})
        return res, text
    finally:
        if agents:
            agents.stop()
        if pool:
            pool.stop()
        if double:
            double.stop()
        if own and not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def capacity(concurrency=32, rounds=20, workdir=None, timeout=180):
    """What the double can take: kubeboot's own discovery + preflight (5 requests) from
    `concurrency` agents at a time, no faults, no rate limit, `rounds` waves. Returns
    requests/s the double answered and its CPU."""
    if os.environ.get("KUBEBOOT_IN_NETNS") != "1":
        raise SystemExit("run this through tests/netns-run (it opens sockets)")
    own = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="kubeboot-cap-")
    double = None
    try:
        double = Double(workdir, {}, TOKENS[:1], lifetime=timeout + 60)
        roots = make_roots(workdir, concurrency, double.url, double.pin, TOKENS[:1])
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        argv = lambda r: [KUBEBOOT, "--root=" + r, "--cmdline=/dev/null", "join", "--skip-phases=write,start,wait,finish"]
        # warm-up
        subprocess.run(argv(roots[0]), env=env, capture_output=True, timeout=60)
        n0 = len(double.requests())
        c0 = double.cpu()
        t0 = time.monotonic()
        end = t0 + timeout
        fails = 0
        for _ in range(rounds):
            ps = [subprocess.Popen(argv(r), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for r in roots]
            for p in ps:
                fails += p.wait(max(1, end - time.monotonic())) != 0
            if time.monotonic() > end:
                break
        dt = time.monotonic() - t0
        c1 = double.cpu()
        n1 = len(double.requests())
        return {"concurrency": concurrency, "rounds": rounds, "requests": n1 - n0, "seconds": round(dt, 2),
                "requests_per_s": round((n1 - n0) / dt, 1), "double_cpu_cores": round((c1 - c0) / dt, 2),
                "double_cpu_ms_per_request": round(1000 * (c1 - c0) / max(1, n1 - n0), 2),
                "agent_failures": fails}
    finally:
        if double:
            double.stop()
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--rate-limit", type=int, default=100, help="the double's rate_limit (requests/s and in flight)")
    ap.add_argument("--retry-after", type=int, default=1)
    ap.add_argument("--fail-fraction", type=float, default=0.1)
    ap.add_argument("--fail-status", type=int, default=503)
    ap.add_argument("--reset-fraction", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--pool-workers", type=int, default=96)
    ap.add_argument("--switch-interval", type=float, default=None)
    ap.add_argument("--fast-list", action="store_true",
                    help="no longer needed: the double's Store.list now filters before sorting; kept for old "
                         "command lines")
    ap.add_argument("--json", help="write the result as JSON here")
    ap.add_argument("--workdir")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--capacity", action="store_true", help="measure what the double can take instead")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=20)
    a = ap.parse_args(argv)
    if a.capacity:
        res = capacity(a.concurrency, a.rounds)
        print(json.dumps(res, indent=1))
        if a.json:
            with open(a.json, "w") as f:
                json.dump(res, f, indent=1)
        return 0
    faults = {"seed": a.seed}
    if a.rate_limit:
        faults.update(rate_limit=a.rate_limit, retry_after_seconds=a.retry_after)
    if a.fail_fraction:
        faults.update(fail_fraction=a.fail_fraction, fail_status=a.fail_status)
    if a.reset_fraction:
        faults["reset_fraction"] = a.reset_fraction
    res, text = run(a.agents, faults, workdir=a.workdir, timeout=a.timeout, pool_workers=a.pool_workers,
                    keep=a.keep, switch_interval=a.switch_interval, fast_list=a.fast_list)
    print(text)
    for f in res["failures"]:
        print("FAIL " + f)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0 if res["joined"] == a.agents and not res["nodes_missing_at_double"] else 1


if __name__ == "__main__":
    sys.exit(main())

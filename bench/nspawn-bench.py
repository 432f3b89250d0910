#!/usr/bin/python3
"""kubeboot against cloud-init in a real Debian 12 root with systemd as PID 1
(systemd-nspawn), the cluster double in the same private network namespace.

    bench/nspawn-bench.py agent-cost [--runs 20] [--json OUT]
    bench/nspawn-bench.py boot [--boots 7] [--json OUT]

The root is bench/mkroot-cloudinit's (the system tests' root + Debian's cloud-init 22.4),
with kubeboot installed by `meson install` from $KUBEBOOT_BUILD (default build/), and the
same stub kubelet in every variant (/usr/bin/kubelet = `sleep infinity`, the official
package's kubelet.service), so that only the agents differ.

The job, for both agents: the kubelet's four files in kubeadm's layout (the same bytes:
taken from a kubeboot run against the same double), then kubelet.service started.
  kubeboot:   /etc/kubeboot/kubeboot.ini with token, server, CA pin (discovery + preflight
              against the double), its real unit (Type=notify, READY=1 after write).
  cloud-init: a NoCloud seed (/var/lib/cloud/seed/nocloud/{meta-data,user-data}) whose
              user-data carries the four files in write_files and `systemctl start
              kubelet.service` in runcmd; datasource_list: [ NoCloud, None ].

agent-cost: boots once; a bench unit runs bench/runstat.py inside, interleaving
  kubeboot join --skip-phases=wait,finish          (gather..start: exec -> kubelet start requested)
  kubeboot join with ca-cert, --skip-phases=discover,preflight,wait,finish (local cost only)
  cloud-init init --local; init; modules --mode=config; modules --mode=final, with Debian's
  default module lists, and again with only write_files / runcmd / scripts_user ("minimal")
  each run from a clean state (untimed reset), wall / CPU / peak RSS per process.
boot: boots the same root alternately with kubeboot's unit, with cloud-init (Debian's
  module lists, and "minimal": only write_files / runcmd / scripts_user), with neither;
  time from launching systemd-nspawn to "Reached target multi-user.target", systemd's
  "Startup finished", and each agent's own span, from the container's journal.

Needs root. Every boot is guarded by timeout; the network namespace is removed at the end.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "system"))
sys.path.insert(0, os.path.join(SRC, "tests", "cluster"))
sys.dont_write_bytecode = True

import systest  # noqa: E402
from systest import Machine  # noqa: E402
import apiserver  # noqa: E402

# TCP_NODELAY on the double's connections, as bench/double-serve.py --nodelay does: without
# it every request waits 40 ms for Nagle + delayed ACK inside the (Python) double.
_orig_get_request = apiserver._TLSServer.get_request


def _get_request_nodelay(self):
    import socket
    sock, addr = _orig_get_request(self)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass
    return sock, addr


apiserver._TLSServer.get_request = _get_request_nodelay

BUILD = systest.BUILD
KUBEBOOT = os.path.join(BUILD, "agent", "kubeboot")

# cloud-init doing the job and nothing else: only the modules it needs in each stage
MINIMAL_CFG = ("cloud_init_modules: [ write_files ]\ncloud_config_modules: [ runcmd ]\n"
               "cloud_final_modules: [ scripts_user ]\n")
STUB_KUBELET = "#!/bin/sh\n# benchmark stub: the same kubelet in every variant\nexec sleep infinity\n"

BENCH_UNIT = """[Unit]
Description=kubeboot benchmark harness (bench only)
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c '/root/bench/run.sh > /root/bench/run.log 2>&1; systemctl poweroff'
[Install]
WantedBy=multi-user.target
"""

# waits for the boot to settle and the agent's job to be done, then powers off
BOOT_WATCH = r"""#!/bin/sh
systemctl is-system-running --wait > /root/bench-state 2>&1
for i in $(seq 1 600); do
  case "$(cat /root/bench-variant)" in
    kubeboot) [ -e /etc/kubernetes/bootstrap-kubelet.conf ] && systemctl is-active -q kubelet.service && break ;;
    cloud-init) [ -e /var/lib/cloud/instance/boot-finished ] && break ;;
    *) break ;;
  esac
  sleep 0.05
done
systemctl poweroff
"""
BOOT_WATCH_UNIT = """[Unit]
Description=kubeboot benchmark boot watcher (bench only)
After=multi-user.target
[Service]
Type=simple
ExecStart=/usr/local/sbin/kbbench-watch
[Install]
WantedBy=multi-user.target
"""


def reference_files(c, token):
    """The four files kubeboot writes for this cluster, from a kubeboot run on the host."""
    root = tempfile.mkdtemp(prefix="kbbench-ref-")
    try:
        os.makedirs(os.path.join(root, "etc/kubeboot"))
        with open(os.path.join(root, "etc/kubeboot/kubeboot.ini"), "w") as f:
            f.write("[join]\ntoken = %s\nserver = %s\nca-cert-hash = %s\n" % (token, c.url, c.ca_pin))
        os.chmod(os.path.join(root, "etc/kubeboot/kubeboot.ini"), 0o600)
        with open(os.path.join(root, "etc/hostname"), "w") as f:
            f.write("kb-worker\n")
        r = subprocess.run([KUBEBOOT, "--root=" + root, "--cmdline=/dev/null", "join",
                            "--skip-phases=start,wait,finish"], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("reference kubeboot run failed: " + r.stderr)
        out = {}
        for p, mode in (("/etc/kubernetes/pki/ca.crt", "0644"), ("/var/lib/kubelet/config.yaml", "0644"),
                        ("/var/lib/kubelet/kubeadm-flags.env", "0644"),
                        ("/etc/kubernetes/bootstrap-kubelet.conf", "0600")):
            with open(root + p) as f:
                out[p] = (f.read(), mode)
        return out
    finally:
        shutil.rmtree(root, ignore_errors=True)


def user_data(files):
    lines = ["#cloud-config", "write_files:"]
    for p, (content, mode) in files.items():
        lines += ["  - path: %s" % p, "    owner: root:root", "    permissions: '%s'" % mode, "    content: |"]
        lines += ["      " + l for l in content.rstrip("\n").split("\n")]
    lines += ["runcmd:", "  - [ systemctl, start, kubelet.service ]", ""]
    return "\n".join(lines)


def prepare(m, c, token, files, kubeboot_enabled, cloudinit_enabled):
    """Both agents installed and configured; each switched on or off."""
    m.install_kubeboot_meson()          # also enables kubeboot.service
    if not kubeboot_enabled:
        m.systemctl("disable", "kubeboot.service")
    m.write("/usr/bin/kubelet", STUB_KUBELET, 0o755)
    m.write("/usr/lib/systemd/system/kubelet.service", systest.KUBELET_SERVICE)
    m.systemctl("enable", "kubelet.service")
    m.write("/etc/kubeboot/kubeboot.ini", "[join]\ntoken = %s\nserver = %s\nca-cert-hash = %s\n"
            % (token, c.url, c.ca_pin), 0o600)
    m.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: kb-bench-1\nlocal-hostname: kb-worker\n")
    m.write("/var/lib/cloud/seed/nocloud/user-data", user_data(files), 0o600)
    m.write("/etc/cloud/cloud.cfg.d/99-kbbench.cfg", "datasource_list: [ NoCloud, None ]\n")
    if cloudinit_enabled:
        os.unlink(m.p("/etc/cloud/cloud-init.disabled"))


# ----------------------------------------------------------------------------- agent cost

RUN_SH = """#!/bin/sh
set -u
cd /root/bench
RESET_KB='rm -rf /etc/kubernetes /var/lib/kubelet; rm -f /var/lib/kubeboot/joined /var/lib/kubeboot/last-failure'
RESET_CI='rm -f /etc/cloud/cloud.cfg.d/98-kbbench-minimal.cfg; cloud-init clean --logs; rm -rf /etc/kubernetes /var/lib/kubelet'
RESET_CIMIN='cp /root/bench/minimal.cfg /etc/cloud/cloud.cfg.d/98-kbbench-minimal.cfg; cloud-init clean --logs; rm -rf /etc/kubernetes /var/lib/kubelet'
/usr/bin/python3 /root/bench/runstat.py --runs {runs} --warmup 2 --json /root/bench/agent-cost.json --time-bin /root/bench/time \\
  --name kubeboot --cmd '/usr/bin/kubeboot join --skip-phases=wait,finish' --reset "$RESET_KB" \\
  --name kubeboot-local --cmd '/usr/bin/kubeboot --config=/root/bench/local.ini join --skip-phases=discover,preflight,wait,finish' --reset "$RESET_KB" \\
  --name cloud-init --cmd 'cloud-init init --local ; cloud-init init ; cloud-init modules --mode=config ; cloud-init modules --mode=final' --reset "$RESET_CI" \\
  --name cloud-init-minimal --cmd 'cloud-init init --local ; cloud-init init ; cloud-init modules --mode=config ; cloud-init modules --mode=final' --reset "$RESET_CIMIN"
rm -f /etc/cloud/cloud.cfg.d/98-kbbench-minimal.cfg
# what cloud-init reported as failed in its last run
grep -E "WARNING|ERROR|failed" /var/log/cloud-init.log | tail -n 12
# did each do the job?
for f in /etc/kubernetes/pki/ca.crt /var/lib/kubelet/config.yaml /var/lib/kubelet/kubeadm-flags.env /etc/kubernetes/bootstrap-kubelet.conf; do
  [ -e "$f" ] && echo "cloud-init wrote $f ($(stat -c %a "$f"))"
done
grep -c 'systemctl' /var/lib/cloud/instance/scripts/runcmd && echo "runcmd present"
systemctl is-active kubelet.service
"""


def agent_cost(args):
    from double import ClusterDouble
    lower = subprocess.run([os.path.join(HERE, "mkroot-cloudinit")], capture_output=True, text=True,
                           timeout=1800, check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="kbbench-double-") as dd, ClusterDouble(dd, port=6443) as c:
        c.install_seed_rbac()
        c.publish_cluster_info()
        token = c.add_bootstrap_token(description="bench")
        files = reference_files(c, token)
        m = Machine(lower, name="kb-worker")
        try:
            prepare(m, c, token, files, kubeboot_enabled=False, cloudinit_enabled=False)
            os.makedirs(m.p("/root/bench"), exist_ok=True)
            shutil.copy(os.path.join(HERE, "runstat.py"), m.p("/root/bench/runstat.py"))
            shutil.copy("/usr/bin/time", m.p("/root/bench/time"))   # GNU time: libc only
            m.write("/root/bench/ca.crt", files["/etc/kubernetes/pki/ca.crt"][0])
            m.write("/root/bench/local.ini", "[join]\nca-cert = /root/bench/ca.crt\n", 0o600)
            m.write("/root/bench/run.sh", RUN_SH.format(runs=args.runs), 0o755)
            # the same job with nothing else: only the modules it needs in each stage
            m.write("/root/bench/minimal.cfg", MINIMAL_CFG)
            m.write("/etc/systemd/system/kbbench.service", BENCH_UNIT)
            m.systemctl("enable", "kbbench.service")
            n0 = len(c.requests)
            r = m.boot(NETNS, timeout=1500)
            log = m.read("/root/bench/run.log") if m.exists("/root/bench/run.log") else ""
            print(log)
            if r.returncode != 0 or not m.exists("/root/bench/agent-cost.json"):
                print(r.stdout[-3000:], r.stderr[-3000:])
                raise SystemExit("the benchmark boot failed")
            with open(m.p("/root/bench/agent-cost.json")) as f:
                res = json.load(f)
            reqs = c.requests[n0:]
            out = {"runs": args.runs, "results": res, "double_requests_during_boot": len(reqs),
                   "kubeboot_runs": args.runs + 2, "build": BUILD, "log": log}
            if args.json:
                with open(args.json, "w") as f:
                    json.dump(out, f, indent=1)
        finally:
            m.cleanup()


# ----------------------------------------------------------------------------- boots

def boot_once(lower, c, token, files, variant):
    m = Machine(lower, name="kb-worker")
    try:
        prepare(m, c, token, files, kubeboot_enabled=(variant == "kubeboot"),
                cloudinit_enabled=variant.startswith("cloud-init"))
        if variant == "cloud-init-minimal":
            m.write("/etc/cloud/cloud.cfg.d/98-kbbench-minimal.cfg", MINIMAL_CFG)
        m.write("/root/bench-variant", variant.replace("-minimal", "") + "\n")
        m.write("/usr/local/sbin/kbbench-watch", BOOT_WATCH, 0o755)
        m.write("/etc/systemd/system/kbbench-watch.service", BOOT_WATCH_UNIT)
        m.systemctl("enable", "kbbench-watch.service")
        launch = time.time()
        r = m.boot(NETNS, timeout=120)
        entries = m.journal()
        e1 = [e for e in entries if e.get("_PID") == "1"]

        def when(pred):
            for e in e1:
                if pred(e.get("MESSAGE", ""), e.get("UNIT") or e.get("USER_UNIT") or ""):
                    return systest.usec(e) / 1e6
            return None
        mu = when(lambda msg, u: msg.startswith("Reached target") and "Multi-User" in msg)
        fin = [e for e in e1 if e.get("MESSAGE", "").startswith("Startup finished")]
        first = min((systest.usec(e) / 1e6 for e in entries), default=None)
        res = {"variant": variant, "rc": r.returncode, "nspawn_s": m.boots[-1],
               "launch_to_multi_user_ms": (mu - launch) * 1000 if mu else None,
               "first_entry_to_multi_user_ms": (mu - first) * 1000 if mu and first else None,
               "startup_finished": fin[0]["MESSAGE"] if fin else None,
               "launch_to_startup_finished_ms": (systest.usec(fin[0]) / 1e6 - launch) * 1000 if fin else None,
               "state": m.read("/root/bench-state").strip() if m.exists("/root/bench-state") else None}
        if variant == "kubeboot":
            s = when(lambda msg, u: u == "kubeboot.service" and msg.startswith("Starting"))
            d = when(lambda msg, u: u == "kubeboot.service" and msg.startswith("Started"))
            res["agent_span_ms"] = (d - s) * 1000 if s and d else None
            res["job_done"] = m.exists("/etc/kubernetes/bootstrap-kubelet.conf")
        elif variant.startswith("cloud-init"):
            # cloud-init-local starts before journald: its "Starting" line is never stored,
            # so the span runs from the boot's first journal entry
            d = when(lambda msg, u: u == "cloud-final.service" and msg.startswith("Finished"))
            res["agent_span_ms"] = (d - first) * 1000 if first and d else None
            res["local_finished_ms_after_first_entry"] = None
            lf = when(lambda msg, u: u == "cloud-init-local.service" and msg.startswith("Finished"))
            if lf and first:
                res["local_finished_ms_after_first_entry"] = round((lf - first) * 1000, 1)
            spans = {}
            for unit in ("cloud-init-local", "cloud-init", "cloud-config", "cloud-final"):
                a = when(lambda msg, u: u == unit + ".service" and msg.startswith("Starting"))
                b = when(lambda msg, u: u == unit + ".service" and (msg.startswith("Finished") or
                                                                     msg.startswith("Failed to start")))
                spans[unit] = round((b - a) * 1000, 1) if a and b else None
            res["unit_spans_ms"] = spans
            # /var/lib/cloud/instance is an absolute symlink: look in instances/ instead
            res["job_done"] = m.exists("/etc/kubernetes/bootstrap-kubelet.conf") and \
                m.exists("/var/lib/cloud/instances/kb-bench-1/boot-finished")
            res["cloud_messages"] = [(round(systest.usec(e) / 1e6 - launch, 3), e.get("UNIT"), e.get("MESSAGE"))
                                     for e in e1 if "cloud" in (e.get("MESSAGE") or "")][:20]
            res["cloud_final_after_multi_user"] = bool(d and mu and d > mu)
        return res
    finally:
        m.cleanup()


def boots(args):
    from double import ClusterDouble
    lower = subprocess.run([os.path.join(HERE, "mkroot-cloudinit")], capture_output=True, text=True,
                           timeout=1800, check=True).stdout.strip()
    variants = ["neither", "kubeboot", "cloud-init", "cloud-init-minimal"]
    with tempfile.TemporaryDirectory(prefix="kbbench-double-") as dd, ClusterDouble(dd, port=6443) as c:
        c.install_seed_rbac()
        c.publish_cluster_info()
        token = c.add_bootstrap_token(description="bench")
        files = reference_files(c, token)
        results = {v: [] for v in variants}
        boot_once(lower, c, token, files, "neither")   # warm the page cache
        for i in range(args.boots):
            for v in (variants if i % 2 == 0 else variants[::-1]):
                res = boot_once(lower, c, token, files, v)
                results[v].append(res)
                print("boot %d %-10s -> multi-user %6.0f ms, startup finished %6s ms, agent span %s ms, rc %s" % (
                    i, v, res["launch_to_multi_user_ms"] or -1,
                    "%.0f" % res["launch_to_startup_finished_ms"] if res["launch_to_startup_finished_ms"] else "?",
                    "%.0f" % res["agent_span_ms"] if res.get("agent_span_ms") else "-", res["rc"]), flush=True)
        summary = {}
        for v in variants:
            mu = [r["launch_to_multi_user_ms"] for r in results[v] if r["launch_to_multi_user_ms"]]
            sf = [r["launch_to_startup_finished_ms"] for r in results[v] if r["launch_to_startup_finished_ms"]]
            sp = [r["agent_span_ms"] for r in results[v] if r.get("agent_span_ms")]
            summary[v] = {"multi_user_ms_median": statistics.median(mu) if mu else None,
                          "multi_user_ms_min": min(mu) if mu else None, "multi_user_ms_max": max(mu) if mu else None,
                          "startup_finished_ms_median": statistics.median(sf) if sf else None,
                          "agent_span_ms_median": statistics.median(sp) if sp else None,
                          "boots": len(results[v]),
                          "jobs_done": sum(1 for r in results[v] if r.get("job_done", True))}
        base = summary["neither"]["multi_user_ms_median"]
        for v in variants:
            s = summary[v]
            if base and s["multi_user_ms_median"]:
                s["adds_to_multi_user_ms"] = s["multi_user_ms_median"] - base
            if summary["neither"]["startup_finished_ms_median"] and s["startup_finished_ms_median"]:
                s["adds_to_startup_finished_ms"] = s["startup_finished_ms_median"] - summary["neither"]["startup_finished_ms_median"]
        print(json.dumps(summary, indent=1))
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"summary": summary, "boots": results}, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("agent-cost")
    a.add_argument("--runs", type=int, default=20)
    a.add_argument("--json")
    b = sub.add_parser("boot")
    b.add_argument("--boots", type=int, default=7)
    b.add_argument("--json")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (systemd-nspawn, network namespaces, overlay mounts)")
    if not os.path.exists(KUBEBOOT):
        raise SystemExit("build kubeboot first: ninja -C %s" % BUILD)
    if args.json:
        args.json = os.path.abspath(args.json)
    global NETNS
    NETNS = systest.in_netns("kbbench-%d" % os.getpid())
    (agent_cost if args.cmd == "agent-cost" else boots)(args)


if __name__ == "__main__":
    main()

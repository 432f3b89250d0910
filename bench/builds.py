#!/usr/bin/python3
"""kubeboot's builds side by side (issue 14): the same commands, interleaved, against one
pre-warmed cluster double on loopback, for each binary given.

    tests/netns-run /usr/bin/python3 bench/builds.py --bin NAME=PATH [--bin ...] [--runs 60] [--json OUT]

(bench/builds builds the usual three and calls this.) Per binary: stripped size, NEEDED,
the shared objects the loader maps (ldd), `version`'s text; per binary and command:
  version          `kubeboot version`: the floor of exec'ing the binary at all
  join-to-start    join --skip-phases=wait,finish: gather, token discovery + pin (one TLS
                   handshake in the portable build, two in the distro build), preflight,
                   write, start
  disco-preflight  --skip-phases=write,start,wait,finish
  local            ca-cert given, --skip-phases=discover,preflight,wait,finish: no network
CPU (user+sys of the child, wait4) and wall from bench/runstat.py without GNU time (its
own cost would blur a 1 ms floor); peak RSS from a second runstat pass under GNU time;
instructions from callgrind (one run each, deterministic enough for ratios).
Every command runs with NOTIFY_SOCKET set to a datagram socket the bench holds and drains,
as under systemd (kubeboot.service is Type=notify): a join then loads libsystemd (dlopen'd
at the first STATUS=) as it does at boot; `version` never does.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import socket
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import loadtest  # noqa: E402


def sh(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


class NotifySink:
    """$NOTIFY_SOCKET as systemd provides it, drained in a thread so that no sender blocks."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self):
        while not self.stopping.is_set():
            try:
                self.sock.recv(65536)
            except socket.timeout:
                pass
            except OSError:
                break

    def stop(self):
        self.stopping.set()
        self.thread.join(2)
        self.sock.close()


def runstat(cmds, runs, out, time_bin):
    argv = ["/usr/bin/python3", os.path.join(HERE, "runstat.py"), "--runs", str(runs), "--warmup", "5", "--json", out]
    if time_bin:
        argv += ["--time-bin", "/usr/bin/time"]
    for name, cmd in cmds:
        argv += ["--name", name, "--cmd", cmd]
    r = sh(argv, timeout=3600)
    print(r.stdout, r.stderr[-2000:])
    with open(out) as f:
        return {o["name"]: o for o in json.load(f)}


def callgrind(cmd, work, name):
    out = os.path.join(work, "callgrind." + name)
    r = sh(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + cmd.split(), timeout=600)
    m = re.search(r"Collected : (\d+)", r.stderr)
    return int(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", action="append", required=True, help="NAME=PATH")
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--json")
    a = ap.parse_args()
    if os.environ.get("KUBEBOOT_IN_NETNS") != "1":
        raise SystemExit("run through tests/netns-run")
    bins = dict(b.split("=", 1) for b in a.bin)
    work = tempfile.mkdtemp(prefix="kbbench-builds-")
    double = None
    notify = None
    res = {"runs": a.runs, "binaries": {}}
    try:
        notify = NotifySink(os.path.join(work, "notify"))
        os.environ["NOTIFY_SOCKET"] = os.path.join(work, "notify")   # inherited by every command run
        double = loadtest.Double(work, {}, loadtest.TOKENS[:1], lifetime=3600, nodelay=True)
        tok = loadtest.TOKENS[0]
        cmds = []
        for name, path in bins.items():
            s = os.path.join(work, "stripped-" + name)
            shutil.copy(path, s)
            sh(["strip", "--strip-all", s], check=True)
            needed = [l.split("[", 1)[1].rstrip("]") for l in sh(["readelf", "-d", path]).stdout.splitlines()
                      if "(NEEDED)" in l]
            ldd = [l.split()[0] for l in sh(["ldd", path]).stdout.splitlines() if l.strip()]
            res["binaries"][name] = {"path": path, "stripped_bytes": os.path.getsize(s), "needed": needed,
                                     "ldd_objects": len(ldd), "version": sh([path, "version"]).stdout.strip()}
            roots = {}
            for kind, extra in (("full", ""), ("local", "ca-cert = /etc/kubeboot/ca.crt\n")):
                r = os.path.join(work, name, kind)
                os.makedirs(r + "/etc/kubeboot")
                shutil.copy(double.info["ca_cert"], r + "/etc/kubeboot/ca.crt")
                with open(r + "/etc/kubeboot/kubeboot.ini", "w") as f:
                    f.write("[join]\ntoken = %s\nserver = %s\nca-cert-hash = %s\nnode-name = bench-%s-%s\n%s"
                            % (tok, double.url, double.pin, name, kind, extra))
                os.chmod(r + "/etc/kubeboot/kubeboot.ini", 0o600)
                roots[kind] = r
            kb = "%s --root=%%s --cmdline=/dev/null " % path
            cmds += [
                (name + ":version", path + " version"),
                (name + ":join-to-start", kb % roots["full"] + "join --skip-phases=wait,finish"),
                (name + ":disco-preflight", kb % roots["full"] + "join --skip-phases=write,start,wait,finish"),
                (name + ":local", kb % roots["local"] + "join --skip-phases=discover,preflight,wait,finish"),
            ]
        for name, cmd in cmds:   # each must work before it is measured
            r = sh(cmd.split(), timeout=60)
            if r.returncode != 0:
                raise SystemExit("%s failed: %s" % (name, r.stderr))
        cpu = runstat(cmds, a.runs, os.path.join(work, "cpu.json"), False)
        rss = runstat(cmds, max(10, a.runs // 3), os.path.join(work, "rss.json"), True)
        res["commands"] = {}
        for name, cmd in cmds:
            res["commands"][name] = {
                "cpu_ms_median": cpu[name]["cpu_ms"]["median"], "cpu_ms_min": cpu[name]["cpu_ms"]["min"],
                "wall_ms_median": cpu[name]["wall_ms"]["median"], "wall_ms_min": cpu[name]["wall_ms"]["min"],
                "peak_rss_kib": rss[name]["rss_kib"]["max"], "peak_rss_kib_median": rss[name]["rss_kib"]["median"],
                "failures": cpu[name]["failures"] + rss[name]["failures"],
            }
            if name.endswith(":version") or name.endswith(":join-to-start"):
                res["commands"][name]["instructions"] = callgrind(cmd, work, name.replace(":", "-"))
    finally:
        if double:
            double.stop()
        if notify:
            notify.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("%-22s %12s %8s %s" % ("binary", "stripped B", "ldd", "NEEDED"))
    for name, b in res["binaries"].items():
        print("%-22s %12d %8d %s" % (name, b["stripped_bytes"], b["ldd_objects"], " ".join(b["needed"])))
    print("%-36s %9s %9s %10s %14s" % ("command", "CPU ms", "wall ms", "RSS KiB", "instructions"))
    for name, c in res["commands"].items():
        print("%-36s %9.2f %9.2f %10d %14s" % (name, c["cpu_ms_median"], c["wall_ms_median"], c["peak_rss_kib"],
                                               c.get("instructions") or ""))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""kubeboot's own cost on this machine, against a pre-warmed cluster double on loopback,
and the bare-metal "no metadata here" decision against cloud-init's ds-identify.

    tests/netns-run /usr/bin/python3 bench/host-bench.py [--runs 100] [--json OUT]

Measures (each command many times, wall with hyperfine, CPU and peak RSS with
bench/runstat.py (wait4's rusage of the child alone), instructions with callgrind,
task-clock with perf stat):
  join-to-start   kubeboot join --skip-phases=wait,finish: gather, discover (token
                  discovery + pin), preflight, write, start (a no-op notice under --root)
  local           ca-cert given, --skip-phases=discover,preflight,wait,finish: gather +
                  write, no network at all
  disco-preflight --skip-phases=write,start,wait,finish: discovery + preflight only;
                  the double's request log counts its requests
  version         `kubeboot version`: the floor of exec'ing this binary at all
  gather-baremetal  datasource=auto, a bare-metal DMI tree (Dell PowerEdge) under --root,
                  gather only (the decision "no metadata here")
  ds-identify     cloud-init 22.4's /usr/lib/cloud-init/ds-identify --force from the
                  benchmark root, PATH_ROOT pointed at the same kind of tree (its default
                  datasource list: every cloud), systemd-detect-virt and blkid stubbed the
                  way cloud-init's own tests do (virt none, no block devices)
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "datasources"))
sys.dont_write_bytecode = True

import loadtest  # noqa: E402

KUBEBOOT = loadtest.KUBEBOOT
DELL = {"sys_vendor": "Dell Inc.", "product_name": "PowerEdge R650", "bios_vendor": "Dell Inc.",
        "product_serial": "7XK2JH3", "chassis_asset_tag": "", "board_vendor": "Dell Inc."}


def sh(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def hyperfine(cmds, runs, warmup, out):
    argv = ["hyperfine", "-N", "-i", "--warmup", str(warmup), "--runs", str(runs), "--export-json", out, "--style", "basic"]
    for name, cmd in cmds:
        argv += ["-n", name, cmd]
    r = sh(argv, timeout=3600)
    print(r.stdout)
    if r.returncode != 0:
        print(r.stderr)
    with open(out) as f:
        return {x["command"]: {"median_ms": x["median"] * 1000, "mean_ms": x["mean"] * 1000,
                               "stddev_ms": x["stddev"] * 1000, "min_ms": x["min"] * 1000, "max_ms": x["max"] * 1000,
                               "user_ms": x["user"] * 1000, "system_ms": x["system"] * 1000, "runs": len(x["times"])}
                for x in json.load(f)["results"]}


def perf_stat(cmd, runs):
    r = sh(["perf", "stat", "-x,", "-r", str(runs), "-e", "task-clock,instructions,cycles"] + cmd.split(), timeout=1200)
    out = {}
    for line in r.stderr.splitlines():
        f = line.split(",")
        if len(f) >= 3 and f[2] in ("task-clock", "instructions", "cycles"):
            try:
                out[f[2]] = float(f[0])
            except ValueError:
                out[f[2]] = f[0]   # <not supported>
    return out


def callgrind(cmd, workdir, name):
    out = os.path.join(workdir, "callgrind.%s" % name)
    r = sh(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + cmd.split(), timeout=600)
    m = re.search(r"Collected : (\d+)", r.stderr)
    top = sh(["callgrind_annotate", "--inclusive=yes", out], timeout=120).stdout
    lines = [l for l in top.splitlines() if re.match(r"^\s*[\d,]+ \(", l)][:40]
    return {"instructions": int(m.group(1)) if m else None, "top_inclusive": lines}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--json")
    ap.add_argument("--stock-double", action="store_true", help="the double without TCP_NODELAY")
    a = ap.parse_args()
    if os.environ.get("KUBEBOOT_IN_NETNS") != "1":
        raise SystemExit("run through tests/netns-run")
    work = tempfile.mkdtemp(prefix="kbbench-host-")
    double = None
    results = {"kubeboot": KUBEBOOT, "runs": a.runs}
    try:
        # --nodelay: without it each request waits 40 ms for Nagle + delayed ACK in the
        # double (Python), not in kubeboot; "stock_double" below measures that too
        double = loadtest.Double(work, {}, loadtest.TOKENS[:1], lifetime=3600, nodelay=not a.stock_double)
        results["double_nodelay"] = not a.stock_double
        tok = loadtest.TOKENS[0]
        roots = {}
        for name, extra in (("full", ""), ("local", "ca-cert = /etc/kubeboot/ca.crt\n")):
            r = os.path.join(work, name)
            os.makedirs(r + "/etc/kubeboot")
            shutil.copy(double.info["ca_cert"], r + "/etc/kubeboot/ca.crt")
            with open(r + "/etc/kubeboot/kubeboot.ini", "w") as f:
                f.write("[join]\ntoken = %s\nserver = %s\nca-cert-hash = %s\nnode-name = bench-%s\n%s"
                        % (tok, double.url, double.pin, name, extra))
            os.chmod(r + "/etc/kubeboot/kubeboot.ini", 0o600)
            roots[name] = r
        # bare metal: a Dell's DMI, datasource=auto (the default), token+server in the ini
        bm = os.path.join(work, "baremetal")
        os.makedirs(bm + "/sys/class/dmi/id")
        for k, v in DELL.items():
            with open(bm + "/sys/class/dmi/id/" + k, "w") as f:
                f.write(v + "\n")
        os.makedirs(bm + "/etc/kubeboot")
        with open(bm + "/etc/kubeboot/kubeboot.ini", "w") as f:
            f.write("[join]\ntoken = %s\nserver = https://192.0.2.10:6443\n" % tok)
        os.chmod(bm + "/etc/kubeboot/kubeboot.ini", 0o600)
        kb = "%s --root=%%s --cmdline=/dev/null " % KUBEBOOT
        cmds = [
            ("join-to-start", kb % roots["full"] + "join --skip-phases=wait,finish"),
            ("local", kb % roots["local"] + "join --skip-phases=discover,preflight,wait,finish"),
            ("disco-preflight", kb % roots["full"] + "join --skip-phases=write,start,wait,finish"),
            ("version", KUBEBOOT + " version"),
            ("gather-baremetal", kb % bm + "join --skip-phases=discover,preflight,write,start,wait,finish"),
        ]
        for name, cmd in cmds:   # each must work before it is timed
            r = sh(cmd.split(), timeout=60)
            if r.returncode != 0:
                raise SystemExit("%s failed: %s" % (name, r.stderr))
        if "DMI names no known platform" not in sh((cmd.split()[:1] + ["-v"] + cmd.split()[1:]), timeout=60).stderr:
            print("warning: kubeboot did not log the bare-metal decision")

        # ds-identify from the cloud-init root, against a bare-metal tree
        ciroot = sh([os.path.join(HERE, "mkroot-cloudinit")], timeout=1800, check=True).stdout.strip()
        dsi = os.path.join(ciroot, "usr/lib/cloud-init/ds-identify")
        fx = os.path.join(work, "dsi-root")
        shutil.copytree(os.path.join(ciroot, "etc/cloud"), fx + "/etc/cloud", symlinks=True)
        for f in ("cloud-init.disabled", "cloud.cfg.d/99-kbbench.cfg"):
            if os.path.exists(os.path.join(fx, "etc/cloud", f)):
                os.unlink(os.path.join(fx, "etc/cloud", f))
        shutil.copytree(bm + "/sys", fx + "/sys")
        os.makedirs(fx + "/proc/1")
        for p, c in (("proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet\n"), ("proc/1/cmdline", "/sbin/init\0"),
                     ("proc/1/environ", ""), ("proc/uptime", "12.34 20.00\n")):
            with open(os.path.join(fx, p), "w") as f:
                f.write(c)
        os.makedirs(fx + "/run", exist_ok=True)
        os.makedirs(fx + "/var/lib/cloud", exist_ok=True)
        fake = os.path.join(work, "fakebin")
        os.makedirs(fake)
        for tool, body in (("systemd-detect-virt", "echo none\nexit 1\n"), ("blkid", "exit 2\n")):
            with open(os.path.join(fake, tool), "w") as f:
                f.write("#!/bin/sh\n" + body)
            os.chmod(os.path.join(fake, tool), 0o755)
        env_prefix = "env PATH=%s:/usr/sbin:/usr/bin:/sbin:/bin PATH_ROOT=%s DI_LOG=%s/run/ds-identify.log " % (fake, fx, fx)
        dsi_cmd = env_prefix + "/bin/sh %s --force" % dsi
        r = sh(dsi_cmd.split(), timeout=60)
        with open(fx + "/run/ds-identify.log") as f:
            dsi_log = f.read()
        results["ds_identify_log_tail"] = dsi_log.splitlines()[-8:]
        results["ds_identify_rc"] = r.returncode
        # env itself is exec'd by both: measure ds-identify through env, and kubeboot through env too
        cmds_dm = [("gather-baremetal", "env " + kb % bm + "join --skip-phases=discover,preflight,write,start,wait,finish"),
                   ("ds-identify", dsi_cmd)]

        # warm the double, then count the requests of one discovery + preflight
        for _ in range(5):
            sh(cmds[2][1].split(), timeout=60)
        n0 = len(double.requests())
        t0 = time.monotonic()
        sh(cmds[2][1].split(), timeout=60)
        wall = time.monotonic() - t0
        reqs = double.requests()[n0:]
        results["disco_preflight_requests"] = [{"method": e["method"], "path": e["path"], "status": e["status"]} for e in reqs]
        results["disco_preflight_one_run_wall_ms"] = wall * 1000

        results["hyperfine"] = hyperfine(cmds, a.runs, 10, os.path.join(work, "hf.json"))
        results["hyperfine_decision"] = hyperfine(cmds_dm, a.runs, 10, os.path.join(work, "hf2.json"))
        rs = os.path.join(work, "runstat.json")
        argv = ["/usr/bin/python3", os.path.join(HERE, "runstat.py"), "--runs", str(a.runs), "--warmup", "5", "--json", rs,
                "--time-bin", "/usr/bin/time"]
        for name, cmd in cmds + [("ds-identify", dsi_cmd)]:
            argv += ["--name", name, "--cmd", cmd]
        r = sh(argv, timeout=3600)
        print(r.stdout, r.stderr[-2000:])
        with open(rs) as f:
            results["runstat"] = json.load(f)
        results["perf_stat"] = {name: perf_stat(cmd, min(a.runs, 50)) for name, cmd in cmds}
        results["callgrind"] = {name: callgrind(cmd, work, name) for name, cmd in cmds if name != "gather-baremetal"}
        tv = sh(["/usr/bin/time", "-v"] + cmds[0][1].split(), timeout=60).stderr
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tv)
        results["time_v_join_to_start_maxrss_kib"] = int(m.group(1)) if m else None
        print(json.dumps({k: v for k, v in results.items() if k not in ("callgrind",)}, indent=1))
        for name, c in results["callgrind"].items():
            print("callgrind %s: %s instructions" % (name, c["instructions"]))
            print("\n".join("   " + l for l in c["top_inclusive"][:25]))
        if a.json:
            with open(a.json, "w") as f:
                json.dump(results, f, indent=1)
    finally:
        if double:
            double.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

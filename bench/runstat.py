#!/usr/bin/python3
"""Runs commands many times, interleaved, and reports per command: wall time (exec to
exit), CPU time (user + sys, from wait4's rusage of that child alone) and peak RSS.

    runstat.py [--runs N] [--warmup N] [--reset CMD] --name A --cmd "argv..." [--name B --cmd ...]
               [--json OUT]

A "command" may be several processes in a row ("a ; b ; c": each is spawned and waited
for in turn, wall and CPU are summed, RSS is the largest). --reset runs (untimed) before
every timed run. Runs are interleaved A B A B ... so slow drifts hit every command alike.
Standard library only: it runs inside the benchmark roots too.

Peak RSS: wait4's ru_maxrss of a process that this (Python) process spawns starts from
this process's own RSS (Linux keeps the pre-exec high-water mark), so every result would
be at least ~13 MB. With --time-bin (GNU time, a small C program) each step runs under
`time -f %M` and its report is taken instead; CPU and wall still come from wait4 here
(time's own cost, well under 1 ms, included).
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time


TIME_BIN = None
RSS_FILE = "/tmp/runstat-rss.%d" % os.getpid()


def spawn_wait(argv, env):
    if TIME_BIN:
        argv = [TIME_BIN, "-f", "%M", "-o", RSS_FILE] + argv
    t0 = time.monotonic()
    pid = os.posix_spawnp(argv[0], argv, env, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.environ.get("RUNSTAT_STDERR", "/dev/null"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)])
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    rss = ru.ru_maxrss
    rc = os.waitstatus_to_exitcode(status)
    if TIME_BIN:
        try:
            with open(RSS_FILE) as f:
                lines = f.read().split()
            rss = int(lines[-1])
            if lines and lines[0] == "Command":   # "Command exited with non-zero status N"
                pass
        except (OSError, ValueError, IndexError):
            pass
    return wall, ru.ru_utime + ru.ru_stime, rss, rc


def run_one(steps, env):
    wall = cpu = 0.0
    rss = 0
    per = []
    for argv in steps:
        w, c, r, rc = spawn_wait(argv, env)
        wall += w
        cpu += c
        rss = max(rss, r)
        per.append({"wall": w, "cpu": c, "rss_kib": r, "rc": rc})
        # a failing step does not stop the sequence (systemd runs cloud-init's next stage
        # after a stage that reported a failed module, too); it is counted as a failure
    return wall, cpu, rss, per


def summary(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs),
            "stdev": statistics.stdev(xs) if len(xs) > 1 else 0.0, "n": len(xs)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--name", action="append", default=[])
    ap.add_argument("--cmd", action="append", default=[])
    ap.add_argument("--reset", action="append", default=[], help="per command, in order; '' for none")
    ap.add_argument("--json")
    ap.add_argument("--time-bin", help="GNU time, for a true peak RSS per process (see above)")
    a = ap.parse_args()
    global TIME_BIN
    TIME_BIN = a.time_bin
    if len(a.name) != len(a.cmd):
        ap.error("--name and --cmd must pair up")
    resets = a.reset + [""] * (len(a.cmd) - len(a.reset))
    env = dict(os.environ)
    cmds = []
    for name, cmd, reset in zip(a.name, a.cmd, resets):
        steps = [shlex.split(s) for s in cmd.split(" ; ")]
        cmds.append({"name": name, "cmd": cmd, "steps": steps, "reset": reset, "wall": [], "cpu": [], "rss": [],
                     "per_step": [], "failures": 0})
    for i in range(a.warmup + a.runs):
        for c in cmds:
            if c["reset"]:
                subprocess.run(c["reset"], shell=True, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall, cpu, rss, per = run_one(c["steps"], env)
            if any(p["rc"] != 0 for p in per):
                c["failures"] += 1
                sys.stderr.write("runstat: %s failed: %s\n" % (c["name"], per))
            if i >= a.warmup:
                c["wall"].append(wall)
                c["cpu"].append(cpu)
                c["rss"].append(rss)
                c["per_step"].append(per)
    out = []
    for c in cmds:
        steps = []
        for j, argv in enumerate(c["steps"]):
            ws = [p[j]["wall"] for p in c["per_step"] if len(p) > j]
            cs = [p[j]["cpu"] for p in c["per_step"] if len(p) > j]
            rs = [p[j]["rss_kib"] for p in c["per_step"] if len(p) > j]
            if ws:
                steps.append({"argv": " ".join(argv), "wall_ms": statistics.median(ws) * 1000,
                              "cpu_ms": statistics.median(cs) * 1000, "rss_kib_max": max(rs)})
        out.append({"name": c["name"], "cmd": c["cmd"], "runs": len(c["wall"]), "failures": c["failures"],
                    "wall_ms": {k: (v * 1000 if k not in ("n",) else v) for k, v in summary(c["wall"]).items()},
                    "cpu_ms": {k: (v * 1000 if k not in ("n",) else v) for k, v in summary(c["cpu"]).items()},
                    "rss_kib": {"median": statistics.median(c["rss"]), "max": max(c["rss"])},
                    "steps": steps})
    for o in out:
        print("%-28s wall %8.1f ms (min %7.1f, max %7.1f)  cpu %8.1f ms  peak RSS %7.0f KiB  runs %d, failed %d" % (
            o["name"], o["wall_ms"]["median"], o["wall_ms"]["min"], o["wall_ms"]["max"], o["cpu_ms"]["median"],
            o["rss_kib"]["max"], o["runs"], o["failures"]))
        if len(o["steps"]) > 1:
            for s in o["steps"]:
                print("    %-50s wall %8.1f ms  cpu %8.1f ms  RSS %7d KiB" % (s["argv"][:50], s["wall_ms"], s["cpu_ms"],
                                                                         s["rss_kib_max"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()

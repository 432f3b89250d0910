"""libsystemd is loaded with dlopen() on first use (agent/sd.c), not by the loader at exec:
`version`, `config` and `token` never map it; a join told to notify (NOTIFY_SOCKET) loads
it and sends READY=1 and STATUS=. Where libsystemd.so.0 cannot be loaded (here: /dev/null
bind-mounted over it in a private mount namespace), `version` and a local join still
work, notify is skipped silently, logs meant for the journal go to stderr, and the start
phase fails with 69 and one message naming the library and why it did not load.

The cluster double runs on loopback inside tests/netns-run's namespace."""
import os
import shutil
import subprocess
import tempfile
import time

from kbtest import *  # noqa: F403
from double import ClusterDouble  # noqa: E402

assert_in_netns()
tap = Tap()
SONAME = "libsystemd.so.0"
TO_WRITE = "--skip-phases=discover,preflight,start,wait,finish"


def run(argv, env=None, timeout=60):
    """argv as given (kubeboot, or kubeboot wrapped); JOURNAL_STREAM dropped unless env sets it."""
    e = dict(os.environ)
    e.pop("JOURNAL_STREAM", None)
    e.pop("NOTIFY_SOCKET", None)
    e.update(env or {})
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=e)
    return Run(p.returncode, p.stdout, p.stderr, time.monotonic() - t0)


def loaded_libsystemd(r):
    """Did the loader open libsystemd in that run (LD_DEBUG=libs on stderr)?"""
    return any(SONAME in ln and ("find library" in ln or "calling init" in ln) for ln in r.err.splitlines())


def libsystemd_path():
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    for ln in out.splitlines():
        if ln.strip().startswith(SONAME + " ") and "=>" in ln:
            return os.path.realpath(ln.split("=>", 1)[1].strip())
    return None


def without_libsystemd(argv, hide_state=False):
    """argv in a private mount namespace where libsystemd.so.0 is /dev/null (it exists, the
    loader refuses it). hide_state puts empty tmpfs over /var/lib and /etc/kubeboot, for a
    join on / that must neither read nor leave this machine's state."""
    script = 'mount --bind /dev/null "$0" || exit 90\n'
    if hide_state:
        script += ("mount -t tmpfs tmpfs /var/lib || exit 90\n"
                   "if [ -d /etc/kubeboot ]; then mount -t tmpfs tmpfs /etc/kubeboot || exit 90; fi\n")
    script += 'exec "$@"\n'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, LIB] + argv


def local_ini(root, c, token, extra=""):
    root.write("/ca.crt", c.ca_pem, 0o644)
    root.write("/etc/kubeboot/kubeboot.ini", "[join]\ntoken = %s\nserver = %s\nca-cert = /ca.crt\n"
               "node-name = sdlib-1\ndatasource = none\n%s" % (token, c.url, extra))


LIB = libsystemd_path()
scratch = tempfile.mkdtemp(prefix="kb-sdlib-")
debug = {"LD_DEBUG": "libs"}

with ClusterDouble() as c:
    token = c.add_bootstrap_token(description="test_sdlib")

    # --- 0. the binary declares libsystemd in a dlopen note, not in NEEDED ---
    needed = elf_needed(KUBEBOOT)
    tap.ok(needed and not [n for n in needed if n.startswith("libsystemd")],
           "readelf -d: %s is not NEEDED" % SONAME, needed)
    notes = [d for n in dlopen_notes(KUBEBOOT) for d in n]
    tap.ok([(d.get("soname"), d.get("feature"), d.get("priority")) for d in notes]
           == [([SONAME], "systemd", "required")],
           ".note.dlopen: soname [%s], feature systemd, priority required" % SONAME, notes)

    # --- 1. what never talks to systemd never maps libsystemd ---
    r = run([KUBEBOOT, "version"], env=debug)
    tap.ok(r.rc == 0 and not loaded_libsystemd(r), "kubeboot version does not load %s" % SONAME, r)
    with Root() as root:
        local_ini(root, c, token)
        r = run([KUBEBOOT, "--root=" + root.path, "--cmdline=/dev/null", "config"], env=debug)
        tap.ok(r.rc == 0 and "server" in r.out and not loaded_libsystemd(r),
               "kubeboot config does not load %s" % SONAME, r)
        r = run([KUBEBOOT, "token", "list", "--kubeconfig=" + c.admin_kubeconfig_path],
                env=dict(debug, KUBECONFIG="", HOME="/nonexistent"))
        tap.ok(r.rc == 0 and token[:6] in r.out and not loaded_libsystemd(r),
               "kubeboot token list does not load %s" % SONAME, r)
        # nobody to notify (no NOTIFY_SOCKET), no journal, start skipped (--root): no libsystemd
        r = run([KUBEBOOT, "--root=" + root.path, "--cmdline=/dev/null", "join", TO_WRITE], env=debug)
        tap.ok(r.rc == 0 and not loaded_libsystemd(r),
               "a local join outside systemd (no NOTIFY_SOCKET, no journal) does not load it either", r)

    # --- 2. a join told to notify loads it and notifies ---
    ns = NotifySocket(scratch)
    with Root() as root:
        local_ini(root, c, token)
        r = run([KUBEBOOT, "--root=" + root.path, "--cmdline=/dev/null", "join", TO_WRITE],
                env=dict(debug, NOTIFY_SOCKET=ns.path))
        msgs = ns.messages()
        tap.ok(r.rc == 0 and loaded_libsystemd(r), "a join with NOTIFY_SOCKET loads %s with dlopen" % SONAME, r)
        tap.ok("READY=1" in msgs, "READY=1 arrives through the dlopen()ed sd_notify", msgs)
        tap.ok(sum(m.startswith("STATUS=") for m in msgs) >= 2,
               "STATUS= arrives at each step (%d datagrams)" % len(msgs), msgs)
    # a failing join reports STATUS=failed and ERRNO= (the notify_failure path)
    with Root() as root:
        root.write("/etc/kubeboot/kubeboot.ini", "[join]\nserver = %s\ndatasource = none\n" % c.url)
        r = run([KUBEBOOT, "--root=" + root.path, "--cmdline=/dev/null", "join", TO_WRITE],
                env={"NOTIFY_SOCKET": ns.path})
        msgs = ns.messages()
        tap.ok(r.rc == EX_CONFIG and any(m.startswith("STATUS=failed: ") and "\nERRNO=" in m for m in msgs),
               "a join without a token: 78, STATUS=failed: ... and ERRNO= notified", (r, msgs))

    # --- 3. libsystemd.so.0 present but unloadable ---
    if not LIB:
        tap.skip("the runs without libsystemd", "ldconfig -p names no " + SONAME)
    else:
        probe = run(without_libsystemd(["true"]))
        if probe.rc != 0:
            tap.skip("the runs without libsystemd", "cannot bind-mount over %s here: %s" % (LIB, probe.err.strip()))
        else:
            r = run(without_libsystemd([KUBEBOOT, "version"]))
            tap.ok(r.rc == 0 and r.out.startswith("kubeboot ") and not r.err,
                   "without %s: kubeboot version works, silently" % SONAME, r)
            with Root() as root:
                local_ini(root, c, token)
                r = run(without_libsystemd([KUBEBOOT, "--root=" + root.path, "--cmdline=/dev/null", "join", TO_WRITE]),
                        env={"NOTIFY_SOCKET": ns.path})
                msgs = ns.messages()
                tap.ok(r.rc == 0 and root.exists("/etc/kubernetes/bootstrap-kubelet.conf"),
                       "without %s: a local join through write succeeds" % SONAME, r)
                tap.ok(not msgs, "... and notifies nothing (no libsystemd to do it)", msgs)
                tap.ok(SONAME not in r.err and "error" not in r.err,
                       "... and says nothing about it at the default level", r.err)
            # stderr is the journal's stream (JOURNAL_STREAM names it): with no libsystemd to
            # send structured entries, the lines go to stderr, which reaches the journal anyway
            with Root() as root:
                local_ini(root, c, token)
                kb = [KUBEBOOT, "--root=" + root.path, "--cmdline=/dev/null", "join", TO_WRITE]
                as_journal = ["sh", "-c", 'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$@"', "sh"]
                r = run(without_libsystemd(as_journal + kb))
                tap.ok(r.rc == 0 and "kubeboot[write]: " in r.err,
                       "without %s, under a journal stream: the log falls back to stderr" % SONAME, r)
            # the start phase must talk to systemd: one clear error, 69
            ini = os.path.join(scratch, "start.ini")
            with open(ini, "w") as f:
                f.write("[join]\ntoken = %s\nserver = %s\nca-cert-hash = %s\nnode-name = sdlib-2\n"
                        "datasource = none\n" % (token, c.url, c.ca_pin))
            os.chmod(ini, 0o600)
            r = run(without_libsystemd([KUBEBOOT, "--cmdline=/dev/null", "--config=" + ini, "join",
                                        "--skip-phases=discover,preflight,write,wait,finish"], hide_state=True))
            errors = [ln for ln in r.err.splitlines() if "error: " in ln]
            tap.ok(r.rc == EX_UNAVAILABLE, "without %s: the start phase fails with 69 (EX_UNAVAILABLE)" % SONAME, r)
            tap.ok(len(errors) == 1 and "start kubelet" in errors[0] and SONAME in errors[0]
                   and "file too short" in errors[0],
                   "... with one error naming %s and dlerror()'s text" % SONAME, r.err)
    ns.close()

shutil.rmtree(scratch, ignore_errors=True)
tap.done()

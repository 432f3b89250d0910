"""Issue 15: a KUBEBOOT medium attached after boot (a USB stick plugged in late, a BMC's
virtual media attached after power-on), under a real kernel (qemu). The guest boots with
no token anywhere: kubeboot fails with 78. Then the medium is hot-plugged over QMP
(device_add of a virtio disk whose drive was defined with if=none); udev sees the label,
the shipped rule starts kubeboot.service again, and the join completes."""
import json
import os
import socket
import subprocess
import tempfile
import threading
import time

import systest
from systest import Machine, Tap, secret_of

systest.need_qemu("late medium qemu test")
netns = systest.in_netns("kblate-%d" % os.getpid())
from double import ClusterDouble  # noqa: E402

GUEST_SERVER = "10.0.2.100"
BOOT_TIMEOUT = 420
tap = Tap()
lower = systest.cached_root()

# Observer (test only): says on the console when kubeboot has failed (the cue to attach the
# medium), records the outcome once joined, then powers off. Bounded: ~6 minutes.
WATCH = r"""#!/bin/bash
log=/var/log/kbtest
mkdir -p $log
told=""
for i in $(seq 1 3600); do
  if [ -e /var/lib/kubeboot/joined ] && systemctl is-active -q kubelet.service && ! systemctl is-active -q kubeboot.service; then
    echo joined > $log/outcome; break
  fi
  if [ -z "$told" ] && systemctl is-failed -q kubeboot.service; then
    echo "KBTEST kubeboot failed status=$(systemctl show -p ExecMainStatus --value kubeboot.service)" > /dev/console
    told=1
  fi
  sleep 0.1
done
echo "KBTEST done" > /dev/console
systemctl poweroff
"""


def qmp(path, *commands):
    """Runs QMP commands on qemu's monitor socket; returns their answers."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    f = s.makefile("rw")
    json.loads(f.readline())  # the greeting
    answers = []
    for cmd in ({"execute": "qmp_capabilities"},) + commands:
        f.write(json.dumps(cmd) + "\n")
        f.flush()
        while True:
            a = json.loads(f.readline())
            if "return" in a or "error" in a:
                break
        answers.append(a)
    s.close()
    return answers[1:]


with ClusterDouble(port=6443, extra_sans=(GUEST_SERVER,)) as c:
    c.install_seed_rbac()
    c.publish_cluster_info(server="https://%s:6443" % GUEST_SERVER)
    token = c.add_bootstrap_token(description="late-medium")
    secret = secret_of(token)
    m = Machine(lower, name="kb-late")
    disk = os.path.join(m.dir, "disk.img")
    medium = os.path.join(m.dir, "medium.img")
    qmp_path = os.path.join(m.dir, "qmp.sock")
    try:
        m.prepare_qemu_guest(secret)
        # this test's observer instead of the shared one (which powers off at the first failure)
        m.write("/usr/local/sbin/kbtest-watch", WATCH, 0o755)
        r = m.make_disk(disk)
        tap.ok(r.returncode == 0, "the root becomes an ext4 disk image", r.stderr)
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "kubeboot.ini"), "w") as f:
                f.write("[join]\ntoken = %s\nserver = https://%s:6443\nca-cert-hash = %s\n"
                        % (token, GUEST_SERVER, c.ca_pin))
            r = subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "KUBEBOOT", "-d", d, medium, "4M"],
                               capture_output=True, text=True)
        tap.ok(r.returncode == 0, "the KUBEBOOT medium is built (ext4)", r.stderr)

        kernel, initrd, _ = systest.qemu_kernel()
        accel = "kvm" if os.path.exists("/dev/kvm") and os.environ.get("KUBEBOOT_QEMU_KVM") == "1" else "tcg"
        argv = ["timeout", "-k", "5", str(BOOT_TIMEOUT), "qemu-system-x86_64", "-m", "1024", "-smp", "2",
                "-nographic", "-no-reboot", "-kernel", kernel, "-initrd", initrd,
                "-append", "root=/dev/vda rw console=ttyS0 quiet",
                "-drive", "file=%s,format=raw,if=virtio" % disk,
                # the medium exists on the host from the start, but no device shows it to the guest
                "-drive", "file=%s,format=raw,if=none,id=late,readonly=on" % medium,
                "-qmp", "unix:%s,server=on,wait=off" % qmp_path,
                "-netdev", "user,id=n0,restrict=on,guestfwd=tcp:%s:6443-cmd:nc 127.0.0.1 6443" % GUEST_SERVER,
                "-device", "virtio-net-pci,netdev=n0", "-accel", accel]
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             errors="replace")
        console, events = [], {}

        def read_console():
            for line in p.stdout:
                console.append(line)
                if "KBTEST kubeboot failed" in line and "failed" not in events:
                    events["failed"] = (time.monotonic() - t0, line.strip())
        reader = threading.Thread(target=read_console, daemon=True)
        reader.start()
        while "failed" not in events and p.poll() is None and time.monotonic() - t0 < BOOT_TIMEOUT - 60:
            time.sleep(0.5)
        failed = events.get("failed")
        tap.ok(failed is not None and "status=78" in failed[1],
               "with no medium and no token, kubeboot fails with 78 (%s)" % (failed and "%.0f s" % failed[0]),
               "".join(console[-40:]))
        added = None
        if failed and p.poll() is None:
            added = qmp(qmp_path, {"execute": "device_add",
                                   "arguments": {"driver": "virtio-blk-pci", "drive": "late", "id": "latedisk"}})
            tap.ok(added and "return" in added[0], "the medium is hot-plugged over QMP (device_add)", added)
        try:
            p.wait(timeout=BOOT_TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        reader.join(10)
        took = time.monotonic() - t0
        tap.ok(p.returncode == 0 and any("KBTEST done" in x for x in console),
               "the guest joins and powers off (%s, %.0f s)" % (accel, took), "".join(console[-40:]))
        tap.ok(c.node("kb-late") is not None, "Node kb-late registered at the double")

        with systest.mounted_image(disk, m.dir) as g:
            outcome = open(g("/var/log/kbtest/outcome")).read().strip() if os.path.exists(g("/var/log/kbtest/outcome")) \
                else None
            tap.ok(outcome == "joined" and os.path.exists(g("/var/lib/kubeboot/joined")),
                   "the observer saw the join; the joined stamp exists", outcome)
            entries = systest.journal_entries(g("/var/log/journal"))
            starts = [e for e in entries if e.get("_PID") == "1" and e.get("UNIT") == "kubeboot.service"
                      and e.get("MESSAGE", "").startswith("Starting")]
            ours = [e.get("MESSAGE", "") for e in entries if e.get("SYSLOG_IDENTIFIER") == "kubeboot"]
            tap.ok(len(starts) == 2, "kubeboot.service ran twice: at boot, and when the medium appeared (%d)"
                   % len(starts))
            tap.ok(any("token: not set by any source" in x for x in ours)
                   and any("reading the config medium /dev/disk/by-label/KUBEBOOT" in x for x in ours)
                   and any("joined as Node kb-late" in x for x in ours),
                   "the journal: no token, then the medium read, then the join", ours[-20:])
            tap.ok(not any(secret in json.dumps(e) for e in entries), "the journal never contains the token's secret")
    finally:
        m.cleanup()

tap.done()

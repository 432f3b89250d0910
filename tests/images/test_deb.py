"""Issue 6, Debian/Ubuntu: the .deb and native source package that image/debian/mkdeb
builds with dpkg-buildpackage (debhelper, meson, the unit tests run), without root,
inspected: lintian (every tag, info, pedantic and experimental ones included), the file
list with owners and modes, the conffile, the dependencies, the maintainer scripts
(the unit enabled, never started or restarted by the package), the units and man pages
as the tree has them. Installing and booting it is tests/system/test_deb.py's job."""
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
import imgbuild  # noqa: E402
from kbtest import Tap  # noqa: E402

tap = Tap()
for tool in ("dpkg-buildpackage", "dh", "lintian", "scdoc", "pkg-config"):
    if not shutil.which(tool):
        print("1..0 # SKIP the .deb needs %s (scripts/install-deps)" % tool)
        sys.exit(77)

SRC = imgbuild.SRC
VERSION = imgbuild.project_version()
UNITDIR = subprocess.run(["pkg-config", "--variable=systemdsystemunitdir", "systemd"], capture_output=True,
                         text=True).stdout.strip().lstrip("/")
INI = "etc/kubeboot/kubeboot.ini"
# path: (mode, type)
EXPECTED = {
    "etc/kubeboot": (0o755, "d"),
    INI: (0o600, "-"),
    "usr/bin/kubeboot": (0o755, "-"),
    UNITDIR + "/kubeboot.service": (0o644, "-"),
    UNITDIR + "/kubelet.service.d/10-kubeboot.conf": (0o644, "-"),
    "usr/lib/tmpfiles.d/kubeboot.conf": (0o644, "-"),
    "usr/lib/udev/rules.d/90-kubeboot-media.rules": (0o644, "-"),
    "usr/share/man/man8/kubeboot.8.gz": (0o644, "-"),
    "usr/share/man/man5/kubeboot.ini.5.gz": (0o644, "-"),
    "usr/share/doc/kubeboot/copyright": (0o644, "-"),
    "usr/share/doc/kubeboot/changelog.gz": (0o644, "-"),
    "usr/share/lintian/overrides/kubeboot": (0o644, "-"),
}


def contents(deb):
    """{path: (mode, type, owner)} from dpkg-deb -c."""
    r = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True)
    out = {}
    for line in r.stdout.splitlines():
        f = line.split()
        perm, owner, path = f[0], f[1], f[5].lstrip("./").rstrip("/")
        if not path:
            continue
        mode = 0
        for i, ch in enumerate(perm[1:10]):
            if ch != "-":
                mode |= 1 << (8 - i)
        out[path] = (mode, perm[0], owner)
    return out


def read(path):
    with open(path, "rb") as f:
        return f.read()


with imgbuild.Builder(unprivileged=True) as b:
    r, deb = b.mkdeb("--source")
    tap.ok(deb is not None, "mkdeb builds the package%s from a copy of the tree" %
           (" as nobody" if b.uid is not None else ""), r.stderr[-4000:])
    if deb is None:
        tap.done()
    outdir = os.path.dirname(deb)
    log = r.stderr
    print("# %s: %d bytes" % (os.path.basename(deb), os.path.getsize(deb)), flush=True)
    m = re.search(r"Ok:\s+(\d+)\s.*?Fail:\s+(\d+)", log, re.S)
    tap.ok("meson test --suite unit" in log and m and int(m.group(1)) > 0 and m.group(2) == "0",
           "the package build ran the unit tests (%s passed)" % (m.group(1) if m else "?"))
    made = sorted(os.listdir(outdir))
    tap.ok(any(f.endswith(".dsc") for f in made) and any(f.endswith(".changes") for f in made)
           and os.path.basename(deb) in made,
           "the .deb, the native source package and the .changes are in the output directory", made)
    status = subprocess.run(["git", "-C", SRC, "status", "--porcelain", "--ignored", "debian"], capture_output=True,
                            text=True, env=dict(os.environ, GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="safe.directory",
                                                GIT_CONFIG_VALUE_0="*")).stdout
    tap.ok(not [line for line in status.splitlines() if line.startswith("!!")],
           "nothing was written into the source tree's debian/", status)

    # --- lintian: no tag at all, whatever its level ---
    changes = [os.path.join(outdir, f) for f in made if f.endswith(".changes")][0]
    lr = b.run(["lintian", "--display-info", "--pedantic", "--display-experimental", "--fail-on",
                "error,warning,info,pedantic", changes], timeout=600)
    tags = [line for line in lr.stdout.splitlines() if re.match(r"^[EWIPXC]: ", line)]
    tap.ok(lr.returncode == 0 and not tags, "lintian (info, pedantic, experimental tags shown) reports nothing",
           lr.stdout + lr.stderr)
    ov = b.run(["lintian", "--show-overrides", "--display-info", "--pedantic", "--display-experimental", changes],
               timeout=600)
    for line in ov.stdout.splitlines():
        if line.startswith("O: "):
            print("# lintian override: " + line[3:], flush=True)

    # --- the files ---
    c = contents(deb)
    files = {p: v for p, v in c.items() if v[1] != "d"}
    tap.ok(set(files) == {p for p, v in EXPECTED.items() if v[1] != "d"},
           "the binary, units (%s), tmpfiles entry, both man pages, the ini, copyright, changelog" % UNITDIR,
           sorted(set(files) ^ {p for p, v in EXPECTED.items() if v[1] != "d"}))
    bad = {p: v for p, v in c.items() if p in EXPECTED and (v[0], v[1]) != EXPECTED[p]}
    tap.ok(not bad and c[INI][0] == 0o600, "modes: the ini 0600, the binary 0755, the rest 0644", bad)
    tap.ok(all(v[2] == "root/root" for v in c.values()), "every file owned by root/root")

    ctrl = tempfile.mkdtemp(prefix="kb-deb-ctrl-")
    x = tempfile.mkdtemp(prefix="kb-deb-x-")
    try:
        subprocess.run(["dpkg-deb", "-e", deb, ctrl], check=True)
        subprocess.run(["dpkg-deb", "-x", deb, x], check=True)
        tap.ok(read(os.path.join(ctrl, "conffiles")).decode().split() == ["/" + INI],
               "the only conffile is /" + INI)
        control = read(os.path.join(ctrl, "control")).decode()
        fields = dict(re.findall(r"^([A-Za-z-]+): (.*)$", control, re.M))
        deps = fields.get("Depends", "")
        tap.ok(fields.get("Version") == VERSION and fields.get("Package") == "kubeboot",
               "Version %s, the project's version" % fields.get("Version"))
        tap.ok("libcurl4" in deps and "libc6" in deps and re.search(r"\blibsystemd0 \(>= 237\)", deps),
               "Depends names libc6, libcurl4 (from the shared libraries) and libsystemd0 (>= 237) "
               "(dlopen()ed: named in debian/control)", deps)
        print("# Depends: " + deps, flush=True)

        scripts = {n: read(os.path.join(ctrl, n)).decode() for n in ("preinst", "postinst", "prerm", "postrm")
                   if os.path.exists(os.path.join(ctrl, n))}
        post = scripts.get("postinst", "")
        tap.ok("deb-systemd-helper enable 'kubeboot.service'" in post, "postinst enables kubeboot.service")
        starts = [line for s in scripts.values() for line in s.splitlines()
                  if re.search(r"deb-systemd-invoke\s+(start|restart|try-restart)|systemctl\s+(--\S+\s+)*(start|restart)|"
                               r"invoke-rc\.d|kubeboot\s+join", line)]
        tap.ok(not starts, "no maintainer script starts or restarts anything (a join belongs to the next boot)",
               starts)
        stops = [line for line in scripts.get("prerm", "").splitlines() if "stop" in line]
        tap.ok(not stops, "no prerm stops kubeboot on upgrade (a join in progress carries on)", stops)
        tap.ok("systemd-tmpfiles" in post and "kubeboot.conf" in post, "postinst applies the tmpfiles entry")

        same = all(read(os.path.join(x, p)) == read(os.path.join(SRC, s)) for p, s in (
            (UNITDIR + "/kubeboot.service", "units/kubeboot.service"),
            (UNITDIR + "/kubelet.service.d/10-kubeboot.conf", "units/kubelet.service.d/10-kubeboot.conf"),
            ("usr/lib/tmpfiles.d/kubeboot.conf", "units/kubeboot.tmpfiles"),
            ("usr/lib/udev/rules.d/90-kubeboot-media.rules", "units/90-kubeboot-media.rules"),
            (INI, "debian/kubeboot.ini")))
        tap.ok(same, "units, tmpfiles entry and the ini template are the tree's own")
        pages = []
        for page, scd in (("usr/share/man/man8/kubeboot.8.gz", "docs/kubeboot.8.scd"),
                          ("usr/share/man/man5/kubeboot.ini.5.gz", "docs/kubeboot.ini.5.scd")):
            body = gzip.decompress(read(os.path.join(x, page))).decode()
            with open(os.path.join(SRC, scd), "rb") as f:
                want = subprocess.run(["scdoc"], stdin=f, capture_output=True, text=True).stdout
            # .TH carries the build date
            strip = lambda t: [line for line in t.splitlines() if not line.startswith(".TH")]
            pages.append(strip(body) == strip(want))
        tap.ok(all(pages), "both man pages are scdoc's output of docs/*.scd", pages)
        ini = read(os.path.join(x, INI)).decode()
        tap.ok(re.search(r"^\[join\]", ini, re.M) and not re.search(r"^\s*token\s*=", ini, re.M),
               "the shipped ini has the sections and no active token")
        v = subprocess.run(["dpkg-parsechangelog", "-l", os.path.join(SRC, "debian/changelog"), "-S", "Version"],
                           capture_output=True, text=True).stdout.strip()
        tap.ok(v == VERSION, "debian/changelog's version is meson.build's (%s)" % VERSION, v)
    finally:
        shutil.rmtree(ctrl, ignore_errors=True)
        shutil.rmtree(x, ignore_errors=True)
tap.done()

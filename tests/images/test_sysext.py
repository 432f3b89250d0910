"""Issue 6, Flatcar: the systemd-sysext image that image/flatcar/mksysext builds (without
root), inspected: its file list, owners and modes, its extension-release (as written and
as systemd-dissect reads it), the units it carries, and the portable binary in it: what
readelf -d says it needs, that it is stripped, and that it runs in a root holding only
glibc (no libcurl, libssl, mbedTLS, inih, json-c, libyaml: issue 14 links libcurl over
mbedTLS in; no libsystemd either: it is dlopen()ed on first use, declared in
.note.dlopen). Also the erofs format, the test variants and reproducibility."""
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
import imgbuild  # noqa: E402
from kbtest import Tap, dlopen_notes  # noqa: E402

tap = Tap()
for tool in ("mksquashfs", "unsquashfs", "meson", "ninja", "readelf", "strip"):
    if not shutil.which(tool):
        print("1..0 # SKIP the sysext image needs %s (scripts/install-deps)" % tool)
        sys.exit(77)

SRC = imgbuild.SRC
VERSION = imgbuild.project_version()
ARCH = {"x86_64": "x86-64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
EXPECTED = {
    "usr": (0o755, "d"),
    "usr/bin": (0o755, "d"),
    "usr/bin/kubeboot": (0o755, "-"),
    "usr/lib": (0o755, "d"),
    "usr/lib/extension-release.d": (0o755, "d"),
    "usr/lib/extension-release.d/extension-release.kubeboot": (0o644, "-"),
    "usr/lib/systemd": (0o755, "d"),
    "usr/lib/systemd/system": (0o755, "d"),
    "usr/lib/systemd/system/kubeboot.service": (0o644, "-"),
    "usr/lib/systemd/system/kubelet.service.d": (0o755, "d"),
    "usr/lib/systemd/system/kubelet.service.d/10-kubeboot.conf": (0o644, "-"),
    "usr/lib/tmpfiles.d": (0o755, "d"),
    "usr/lib/tmpfiles.d/kubeboot.conf": (0o644, "-"),
    "usr/lib/udev": (0o755, "d"),
    "usr/lib/udev/rules.d": (0o755, "d"),
    "usr/lib/udev/rules.d/90-kubeboot-media.rules": (0o644, "-"),
}
FROM_SOURCE = {
    "usr/lib/systemd/system/kubeboot.service": "units/kubeboot.service",
    "usr/lib/systemd/system/kubelet.service.d/10-kubeboot.conf": "units/kubelet.service.d/10-kubeboot.conf",
    "usr/lib/tmpfiles.d/kubeboot.conf": "units/kubeboot.tmpfiles",
    "usr/lib/udev/rules.d/90-kubeboot-media.rules": "units/90-kubeboot-media.rules",
}


def listing(raw):
    """{path: (mode, type, uid/gid)} from unsquashfs -lln (no root needed)."""
    r = subprocess.run(["unsquashfs", "-lln", raw], capture_output=True, text=True, check=True)
    out = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) < 6 or not f[-1].startswith("squashfs-root"):
            continue
        path = f[-1][len("squashfs-root/"):]
        if not path:
            continue
        perm = f[0]
        mode = 0
        for i, ch in enumerate(perm[1:10]):
            if ch != "-":
                mode |= 1 << (8 - i)
        out[path] = (mode, perm[0], f[1])
    return out


def extract(raw, fmt, dest):
    if fmt == "squashfs":
        subprocess.run(["unsquashfs", "-q", "-n", "-d", dest, raw], check=True, capture_output=True)
    else:
        subprocess.run(["fsck.erofs", "--extract=" + dest, raw], check=True, capture_output=True)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def tree(top):
    out = {}
    for d, dirs, files in os.walk(top):
        for n in dirs + files:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, top)
            out[rel] = (os.lstat(p).st_mode & 0o7777, read(p) if os.path.isfile(p) else None)
    return out


def dissect(raw):
    import json
    r = subprocess.run(["systemd-dissect", "--json=short", raw], capture_output=True, text=True)
    return r, (json.loads(r.stdout) if r.returncode == 0 else None)


def minimal_root(binary, dest):
    """A root with the binary, the dynamic loader and the closure of its NEEDED libraries
    as this machine resolves them (ldd), and nothing else."""
    os.makedirs(os.path.join(dest, "usr/bin"))
    shutil.copy(binary, os.path.join(dest, "usr/bin/kubeboot"))
    r = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True)
    libs = []
    for line in r.stdout.splitlines():
        parts = line.split()
        path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
        if path.startswith("/"):
            libs.append(path)
    for lib in libs:
        for p in {lib, os.path.realpath(lib)}:
            d = os.path.join(dest, p.lstrip("/"))
            os.makedirs(os.path.dirname(d), exist_ok=True)
            shutil.copy2(p, d)
    return sorted(os.path.basename(x) for x in libs)


with imgbuild.Builder(unprivileged=True) as b:
    builddir = b.mkdir("portable")
    out = b.mkdir("out")

    # --- the Flatcar image, as the README builds it ---
    r, raw = b.mksysext(builddir=builddir, outdir=out)
    tap.ok(raw is not None and os.path.basename(raw) == "kubeboot.raw",
           "mksysext builds the Flatcar image%s" % (" as nobody" if b.uid is not None else ""), r.stderr[-3000:])
    if raw is None:
        tap.done()
    print("# sysext (squashfs): %d bytes" % os.path.getsize(raw), flush=True)
    st = os.stat(raw)
    tap.ok(st.st_mode & 0o777 == 0o644 and (b.uid is None or st.st_uid == b.uid),
           "the image is mode 0644, owned by whoever built it")

    ls = listing(raw)
    tap.ok(set(ls) == set(EXPECTED), "exactly the binary, the unit, the kubelet drop-in, the tmpfiles entry and "
           "the extension-release file", sorted(set(ls) ^ set(EXPECTED)))
    bad = {p: v for p, v in ls.items() if p in EXPECTED and (v[0], v[1]) != EXPECTED[p]}
    tap.ok(not bad, "modes: 0755 for directories and the binary, 0644 for the rest", bad)
    tap.ok(all(v[2] == "0/0" for v in ls.values()), "every file owned by root (0/0)",
           {p: v[2] for p, v in ls.items() if v[2] != "0/0"})

    x = tempfile.mkdtemp(prefix="kb-sysext-x-")
    try:
        extract(raw, "squashfs", os.path.join(x, "sq"))
        root = os.path.join(x, "sq")
        rel = read(os.path.join(root, "usr/lib/extension-release.d/extension-release.kubeboot")).decode()
        tap.ok(rel.splitlines() == ["ID=flatcar", "SYSEXT_LEVEL=1.0", "ARCHITECTURE=" + ARCH],
               "extension-release.kubeboot: ID=flatcar, SYSEXT_LEVEL=1.0 (every Flatcar release), ARCHITECTURE=" + ARCH,
               rel)
        same = [p for p, s in FROM_SOURCE.items() if read(os.path.join(root, p)) == read(os.path.join(SRC, s))]
        tap.ok(len(same) == len(FROM_SOURCE), "the unit, the drop-in and the tmpfiles entry are units/' own",
               sorted(set(FROM_SOURCE) - set(same)))

        # --- the portable binary ---
        binary = os.path.join(root, "usr/bin/kubeboot")
        needed = imgbuild.needed(binary)
        print("# portable binary (stripped): %d bytes; NEEDED: %s" % (os.path.getsize(binary), " ".join(needed)),
              flush=True)
        tap.ok(set(needed) <= imgbuild.ALLOWED_NEEDED and "libc.so.6" in needed,
               "readelf -d: NEEDED is libc (libm at most), not even glibc's loader, not libsystemd", needed)
        notes = [d for n in dlopen_notes(binary) for d in n]
        tap.ok([(d.get("soname"), d.get("priority")) for d in notes] == [(["libsystemd.so.0"], "required")],
               "the stripped binary keeps its .note.dlopen: libsystemd.so.0, required", notes)
        tap.ok(not [n for n in needed if n.startswith(imgbuild.STATIC_LIBS)],
               "no libcurl, mbedTLS, inih, json-c or libyaml among NEEDED", needed)
        secs = subprocess.run(["readelf", "-S", "-W", binary], capture_output=True, text=True).stdout
        tap.ok(".symtab" not in secs and ".debug_info" not in secs, "the binary is stripped")
        interp = subprocess.run(["readelf", "-l", binary], capture_output=True, text=True).stdout
        tap.ok("ld-linux" in interp, "a dynamic executable with glibc's loader as its interpreter")

        if imgbuild.real_root() and shutil.which("chroot"):
            mr = os.path.join(x, "minimal")
            libs = minimal_root(binary, mr)
            present = [f for _, _, fs in os.walk(mr) for f in fs if f.startswith(imgbuild.STATIC_LIBS)]
            tap.ok(not present, "the minimal root holds %d libraries, none of the statically linked ones" % len(libs),
                   present)
            v = subprocess.run(["chroot", mr, "/usr/bin/kubeboot", "version"], capture_output=True, text=True)
            lines = v.stdout.splitlines()
            tap.ok(v.returncode == 0 and lines[:1] == ["kubeboot " + VERSION] and len(lines) == 2
                   and lines[1].startswith("libcurl/") and "mbedTLS/3." in lines[1] and "OpenSSL" not in lines[1],
                   "kubeboot version runs there and names libcurl over mbedTLS 3 (curl_version())",
                   v.stdout + v.stderr)
            # the ini parser, the pin checks (mbedTLS) and the JSON writer all run
            os.makedirs(os.path.join(mr, "node/etc/kubeboot"))
            with open(os.path.join(mr, "node/etc/kubeboot/kubeboot.ini"), "w") as f:
                f.write("[join]\ntoken=07401b.f395accd246ae52d\nserver=https://192.0.2.10:6443\n"
                        "ca-cert-hash=sha256:%s\n" % ("ab" * 32))
            os.chmod(os.path.join(mr, "node/etc/kubeboot/kubeboot.ini"), 0o600)
            open(os.path.join(mr, "node/cmdline"), "w").close()
            config = ["chroot", mr, "/usr/bin/kubeboot", "--root=/node", "--cmdline=/node/cmdline", "config",
                      "--json"]
            # node paths are resolved beneath --root (openat2) and named through /proc/self/fd,
            # as on any running system: /proc is mounted in a private mount namespace
            os.makedirs(os.path.join(mr, "proc"))
            v = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                                'mount -t proc proc "$0/proc" && exec "$@"', mr] + config,
                               capture_output=True, text=True)
            tap.ok(v.returncode == 0 and '"source":"/node/etc/kubeboot/kubeboot.ini:2"' in v.stdout.replace(" ", ""),
                   "kubeboot config --json reads an ini there (inih, mbedTLS, json-c linked in)",
                   v.stderr + v.stdout[:1500])
            v = subprocess.run(config, capture_output=True, text=True)
            tap.ok(v.returncode == 70 and "/proc is not mounted" in v.stderr,
                   "without /proc it says so and fails (70) rather than read the node's files as missing",
                   v.stderr + v.stdout[:500])
            present = [f for _, _, fs in os.walk(mr) for f in fs
                       if f.startswith(("libcurl", "libssl", "libcrypto", "libmbed", "libsystemd"))]
            tap.ok(not present, "that root has no libcurl, libssl, libcrypto, mbedTLS or libsystemd at all", present)
        else:
            tap.skip("the binary runs in a root without the statically linked libraries", "needs root (chroot)")

        if imgbuild.real_root() and shutil.which("systemd-dissect"):
            r, j = dissect(raw)
            tap.ok(j is not None and j.get("extensionRelease") == ["ID=flatcar", "SYSEXT_LEVEL=1.0", "ARCHITECTURE=" + ARCH]
                   and j.get("useSystemExtension") is True,
                   "systemd-dissect reads the extension-release and calls it a system extension", r.stdout + r.stderr)
        else:
            tap.skip("systemd-dissect reads the extension-release", "needs root (loop devices)")

        # --- erofs: the same tree ---
        if shutil.which("mkfs.erofs") and shutil.which("fsck.erofs"):
            # systemd finds extension-release.NAME by the image's file name: NAME.raw
            r, ero = b.mksysext("--format", "erofs", "-o", os.path.join(b.mkdir("erofs"), "kubeboot.raw"),
                                builddir=builddir)
            tap.ok(ero is not None, "mksysext --format erofs builds", r.stderr[-2000:])
            if ero:
                print("# sysext (erofs, lz4hc): %d bytes" % os.path.getsize(ero), flush=True)
                extract(ero, "erofs", os.path.join(x, "ero"))
                tap.ok(tree(os.path.join(x, "ero")) == tree(root), "the erofs image holds the same files, modes and bytes")
                if imgbuild.real_root() and shutil.which("systemd-dissect"):
                    r, j = dissect(ero)
                    tap.ok(j is not None and j.get("extensionRelease", [""])[0] == "ID=flatcar"
                           and j["mounts"][0]["fstype"] == "erofs", "systemd-dissect reads the erofs image",
                           r.stdout + r.stderr)
        else:
            tap.skip("the erofs format", "needs erofs-utils")
    finally:
        shutil.rmtree(x, ignore_errors=True)

    # --- variants and refusals ---
    def release_of(*args):
        r, p = b.mksysext(*args, "-o", os.path.join(out, "variant.raw"), builddir=builddir)
        if p is None:
            return r, None
        y = tempfile.mkdtemp(prefix="kb-sysext-v-")
        try:
            extract(p, "squashfs", os.path.join(y, "t"))
            return r, read(os.path.join(y, "t/usr/lib/extension-release.d/extension-release.kubeboot")).decode()
        finally:
            shutil.rmtree(y, ignore_errors=True)

    r, rel = release_of("--id", "debian", "--version-id", "12")
    tap.ok(rel is not None and rel.splitlines() == ["ID=debian", "VERSION_ID=12", "ARCHITECTURE=" + ARCH],
           "the test variant: ID=debian VERSION_ID=12 (matches the system tests' Debian 12 root)", (rel, r.stderr[-500:]))
    r, rel = release_of("--id", "_any")
    tap.ok(rel is not None and rel.splitlines() == ["ID=_any", "ARCHITECTURE=" + ARCH], "--id _any: any OS", rel)
    r, rel = release_of("--id", "debian")
    tap.ok(rel is None and r.returncode != 0 and "--version-id" in r.stderr,
           "--id debian without --version-id or --sysext-level is refused, saying why", r.stderr[-500:])

    # --- reproducible: the same tree twice gives the same bytes ---
    r, again = b.mksysext("-o", os.path.join(out, "again.raw"), builddir=builddir)
    tap.ok(again is not None and hashlib.sha256(read(again)).digest() == hashlib.sha256(read(raw)).digest(),
           "building again gives a byte-identical image")
    tap.ok(not [f for f in os.listdir(out) if ".tmp." in f], "no temporary files left next to the images")
tap.done()

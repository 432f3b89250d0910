"""Issue 6, bare metal: the config media that image/media/mkmedia makes from an ini, as an
unprivileged user: a FAT image and an ISO 9660 image (and on request ext4), labelled
KUBEBOOT, kubeboot.ini inside, the images mode 0600; inspected with blkid, mtools
(mlabel -s, mtype), xorriso (-pvd_info, -lsl, -extract) and debugfs; recognised by
kubeboot's media reader. And its refusals: a directory other users can read or write,
an ini kubeboot would reject; the token never on its output."""
import os
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
import imgbuild  # noqa: E402
from kbtest import Tap  # noqa: E402

tap = Tap()
for tool in ("mkfs.vfat", "mcopy", "mlabel", "mtype", "xorriso", "mkfs.ext4", "debugfs", "blkid"):
    if not shutil.which(tool):
        print("1..0 # SKIP the media need %s (scripts/install-deps)" % tool)
        sys.exit(77)

TOKEN = "k7x2qa.0c9d8e7f6a5b4c3d"
SECRET = TOKEN.split(".")[1]
INI = ("[join]\ntoken = %s\nserver = https://192.0.2.10:6443\n"
       "ca-cert-hash = sha256:%s\nnode-name = metal-7\n" % (TOKEN, "cd" * 32))
KUBEBOOT = os.environ.get("KUBEBOOT_BIN") or os.path.join(imgbuild.SRC, "build", "agent", "kubeboot")
MTOOLS = dict(os.environ, MTOOLS_SKIP_CHECK="1")


def blkid(path):
    r = subprocess.run(["blkid", "-p", "-o", "export", path], capture_output=True, text=True)
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def out(r):
    return r.stdout + r.stderr


def kernel_has(fs):
    with open("/proc/filesystems") as f:
        return any(line.split()[-1] == fs for line in f if line.strip())


with imgbuild.Builder(unprivileged=True) as b:
    d = b.mkdir("media")
    ini = os.path.join(d, "node.ini")
    with open(ini, "w") as f:
        f.write(INI)
    os.chmod(ini, 0o600)
    b.give(ini)
    fat, iso, ext4 = (os.path.join(d, n) for n in ("kubeboot.img", "kubeboot.iso", "kubeboot.ext4"))

    r = b.mkmedia("--fat", fat, "--iso", iso, "--ext4", ext4, ini)
    tap.ok(r.returncode == 0 and r.stdout.split() == [fat, iso, ext4],
           "mkmedia makes the FAT, ISO and ext4 images%s and prints their paths" %
           (" as nobody" if b.uid is not None else ""), out(r))
    every_output = [out(r)]
    for p in (fat, iso, ext4):
        st = os.stat(p) if os.path.exists(p) else None
        tap.ok(st and stat.S_IMODE(st.st_mode) == 0o600 and (b.uid is None or st.st_uid == b.uid),
               "%s: mode 0600, the builder's" % os.path.basename(p), st)
    print("# FAT image %d bytes, ISO %d bytes, ext4 %d bytes" % tuple(os.path.getsize(p) for p in (fat, iso, ext4)))

    # --- FAT ---
    info = blkid(fat)
    tap.ok(info.get("TYPE") == "vfat" and info.get("LABEL") == "KUBEBOOT", "FAT: blkid sees vfat labelled KUBEBOOT",
           info)
    ml = subprocess.run(["mlabel", "-s", "-i", fat, "::"], capture_output=True, text=True, env=MTOOLS)
    tap.ok(ml.stdout.split() == ["Volume", "label", "is", "KUBEBOOT"], "FAT: mlabel -s says KUBEBOOT", out(ml))
    md = subprocess.run(["mdir", "-b", "-i", fat, "::"], capture_output=True, text=True, env=MTOOLS)
    mt = subprocess.run(["mtype", "-i", fat, "::kubeboot.ini"], capture_output=True, text=True, env=MTOOLS)
    tap.ok(md.stdout.split() == ["::/kubeboot.ini"] and mt.stdout == INI,
           "FAT: kubeboot.ini alone in the root directory, the ini's bytes", out(md) + out(mt))
    tap.ok(os.path.getsize(fat) == 1474560, "FAT: a 1.44 MB floppy image (BMC virtual floppies take it too)")

    # --- ISO 9660 ---
    info = blkid(iso)
    tap.ok(info.get("TYPE") == "iso9660" and info.get("LABEL") == "KUBEBOOT", "ISO: blkid sees iso9660 labelled KUBEBOOT",
           info)
    pvd = subprocess.run(["xorriso", "-indev", iso, "-pvd_info"], capture_output=True, text=True)
    tap.ok(any(line.split(":", 1)[0].strip() == "Volume Id" and line.split(":", 1)[1].strip() == "KUBEBOOT"
               for line in pvd.stdout.splitlines()), "ISO: xorriso -pvd_info says Volume Id KUBEBOOT", out(pvd))
    lsl = subprocess.run(["xorriso", "-indev", iso, "-lsl", "/"], capture_output=True, text=True)
    entry = [line for line in lsl.stdout.splitlines() if "kubeboot.ini" in line]
    tap.ok(len(entry) == 1 and entry[0].split()[0] == "-r--------" and entry[0].split()[2:4] == ["0", "0"],
           "ISO: Rock Ridge gives kubeboot.ini to root, mode 0400", out(lsl))
    x = tempfile.mkdtemp(prefix="kb-media-x-")
    try:
        subprocess.run(["xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/kubeboot.ini",
                        os.path.join(x, "ini")], capture_output=True, check=True)
        with open(os.path.join(x, "ini")) as f:
            tap.ok(f.read() == INI, "ISO: kubeboot.ini holds the ini's bytes")
    finally:
        shutil.rmtree(x, ignore_errors=True)

    # --- ext4 ---
    info = blkid(ext4)
    tap.ok(info.get("TYPE") == "ext4" and info.get("LABEL") == "KUBEBOOT", "ext4: blkid sees ext4 labelled KUBEBOOT",
           info)
    ds = subprocess.run(["debugfs", "-R", "stat /kubeboot.ini", ext4], capture_output=True, text=True)
    dc = subprocess.run(["debugfs", "-R", "cat /kubeboot.ini", ext4], capture_output=True, text=True)
    tap.ok("Mode:  0400" in ds.stdout and "User:     0   Group:     0" in ds.stdout and dc.stdout == INI,
           "ext4: kubeboot.ini owned by root, mode 0400, the ini's bytes", ds.stdout[:400])

    # --- kubeboot's reader recognises each (mounting needs root and the kernel's filesystem) ---
    for kind, img in (("vfat", fat), ("iso9660", iso), ("ext4", ext4)):
        if not imgbuild.real_root():
            tap.skip("%s: kubeboot reads the medium" % kind, "needs root (loop device, mount)")
            continue
        root = tempfile.mkdtemp(prefix="kb-media-root-")
        try:
            os.makedirs(os.path.join(root, "dev/disk/by-label"))
            os.symlink(img, os.path.join(root, "dev/disk/by-label/KUBEBOOT"))
            open(os.path.join(root, "cmdline"), "w").close()
            r = subprocess.run([KUBEBOOT, "--root=" + root, "--cmdline=" + os.path.join(root, "cmdline"), "config"],
                               capture_output=True, text=True, timeout=60)
            every_output.append(out(r))
            src = "media:/dev/disk/by-label/KUBEBOOT:kubeboot.ini:2"
            if kernel_has(kind):
                tap.ok(r.returncode == 0 and any(line.split()[0] == "token" and line.split()[-1] == src
                                                  for line in r.stdout.splitlines() if line.strip()),
                       "%s: kubeboot config reads the token from the medium" % kind, out(r))
            else:
                tap.ok("this kernel has no %s filesystem" % kind in r.stderr,
                       "%s: kubeboot recognises the filesystem (this kernel cannot mount it: the qemu boots do)" % kind,
                       out(r))
        finally:
            shutil.rmtree(root, ignore_errors=True)

    # --- refusals: directories others can read or write ---
    for mode, what in ((0o755, "readable"), (0o1777, "writable")):
        pub = b.mkdir("public-%o" % mode, mode)
        r = b.mkmedia("-o", pub, ini)
        every_output.append(out(r))
        tap.ok(r.returncode != 0 and "refusing" in r.stderr and ("%s by every user" % what) in r.stderr
               and "mkdir -m 0700" in r.stderr and not os.listdir(pub),
               "a directory %s by every user (mode %o) is refused, saying why and what to do, nothing written"
               % (what, mode), out(r))

    # --- an ini other users can read: made, with a warning ---
    os.chmod(ini, 0o644)
    r = b.mkmedia("--no-iso", "--fat", os.path.join(d, "warned.img"), ini)
    every_output.append(out(r))
    tap.ok(r.returncode == 0 and "readable by other users" in r.stderr and "chmod 600" in r.stderr,
           "an ini readable by others: the media are made, with a warning to chmod 600 it", out(r))
    os.chmod(ini, 0o600)

    # --- what kubeboot would reject is refused; the refusal names the line, not its text ---
    bad = os.path.join(d, "long.ini")
    with open(bad, "w") as f:
        f.write("[join]\ntoken = %s\nserver = https://%s.example:6443\n" % (TOKEN, "a" * 200))
    os.chmod(bad, 0o600)
    b.give(bad)
    r = b.mkmedia("--fat", os.path.join(d, "long.img"), "--no-iso", bad)
    every_output.append(out(r))
    tap.ok(r.returncode != 0 and "long.ini:3: longer than 199 characters" in r.stderr
           and not os.path.exists(os.path.join(d, "long.img")), "a line over inih's limit: refused, its number named",
           out(r))
    big = os.path.join(d, "big.ini")
    with open(big, "w") as f:
        f.write("[join]\ntoken = %s\n" % TOKEN + ("# padding\n" * 7000))
    os.chmod(big, 0o600)
    b.give(big)
    r = b.mkmedia("--fat", os.path.join(d, "big.img"), "--no-iso", big)
    every_output.append(out(r))
    tap.ok(r.returncode != 0 and "at most 65536" in r.stderr, "an ini over 64 KiB: refused", out(r))

    tap.ok(not any(SECRET in o for o in every_output), "the token's secret is on no output of mkmedia or kubeboot")
    left = [f for f in os.listdir(d) if f.startswith(".")] + [f for f in os.listdir(b.home) if f.startswith("kubeboot-media.")]
    tap.ok(not left, "no temporary files or directories are left behind", left)
tap.done()

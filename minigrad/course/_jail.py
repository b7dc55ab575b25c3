"""Enter the sealed process's jail, then exec the worker: ``python -I -S -B _jail.py CONFIG.json``.

Started by ``sandbox.py`` inside fresh mount, network and PID namespaces (``unshare``), as root
of those namespaces, and only with the kit's own code. It

1. makes every mount private (nothing done here is seen outside);
2. builds a new root on a tmpfs with only: ``/usr``, ``/lib*``, ``/bin``, ``/etc`` (read-only,
   any ``site-packages``/``dist-packages`` under them hidden by empty tmpfs), the Python
   installation (read-only, its ``site-packages`` hidden), NumPy alone at ``/sealed/site``, the
   grading copy at ``/sealed/copy`` (read-only), ``/dev/null``, ``/dev/urandom``, a fresh
   ``/proc`` and a small ``/tmp``. The instructor's tree, the hidden tests, the grader's
   temporary files and every other package are not in it;
3. ``chroot``s there, sets ``no_new_privs`` and limits, and, when it runs as real root,
   drops to the unprivileged user named in the config (``setgroups([])``, ``setgid``,
   ``setuid``);
4. execs the worker. If any step fails it exits with status 97 and says which.

Loaded by path, never imported: it uses ctypes (``mount``), which pieces may not.
"""

import ctypes
import json
import os
import resource
import signal
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS = 38
PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source, target, fstype, flags, data=None):
    enc = [None if s is None else s.encode() for s in (source, target, fstype, data)]
    if _libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _bind(source, target, read_only=True):
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    _mount(source, target, None, MS_BIND | MS_REC)
    if read_only:
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _hide(target):
    """An empty read-only tmpfs over ``target``: whatever was there cannot be read."""
    if os.path.isdir(target):
        _mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=755")


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        cfg = json.load(f)
    root = cfg["root"]
    step = "private mounts"
    try:
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        step = "new root"
        _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=755")
        for path in cfg["system"]:  # /usr, /lib, ... and the Python installation
            if os.path.exists(path):
                _bind(path, root + path)
        for path in cfg["hide"]:  # every site-packages: only NumPy is importable
            _hide(root + path)
        for source, target in cfg["binds"]:  # NumPy, the grading copy
            _bind(source, root + target)
        for dev in ("null", "zero", "urandom", "random"):
            _bind("/dev/" + dev, f"{root}/dev/{dev}", read_only=False)
        step = "/proc and /tmp"
        os.makedirs(root + "/proc", exist_ok=True)
        _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV)
        os.makedirs(root + "/tmp", exist_ok=True)
        _mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
        _mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
        step = "chroot"
        os.chroot(root)
        os.chdir(cfg["cwd"])
        step = "limits"
        if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        resource.setrlimit(resource.RLIMIT_NPROC, (cfg["nproc"], cfg["nproc"]))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if cfg.get("uid") is not None:
            step = "dropping to the unprivileged user"
            os.setgroups([])
            os.setgid(cfg["gid"])
            os.setuid(cfg["uid"])
            if os.getuid() == 0 or os.geteuid() == 0:
                raise OSError("still root after setuid")
        # Changing user clears the parent-death signal `unshare --kill-child` set, and a worker
        # orphaned by a killed grader then spun on for 40 minutes as PID 1 of its namespace:
        # set it again, so the worker dies with unshare whatever killed that.
        step = "parent-death signal"
        if _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
        step = "exec"
        os.execve(cfg["argv"][0], cfg["argv"], cfg["env"])
    except OSError as e:
        print(f"sealed jail: {step} failed: {e}", file=sys.stderr)
        return 97
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())

"""The sealed process, seen from the trusted side: start it, ask it to run probes, kill it.

Student code runs only in the sealed process (``_worker.py``); the graded tests run in the
grader's own process and call :meth:`Sealed.call` for what a piece computed, then compare it
with expected values the sealed process never sees. How tightly the process is sealed depends
on what the OS allows, tried in this order (:func:`protections` names the one in force):

* ``root``: run as root (Gradescope's autograder is): ``unshare`` gives the process new mount,
  network and PID namespaces; ``_jail.py`` builds a root holding only the OS, Python without
  its site-packages, NumPy and the grading copy, and drops to the unprivileged user
  ``nobody``. It cannot read the instructor's tree, the hidden tests or any other package,
  cannot write anything the grader reads, has no network, and its whole process tree dies
  with the namespace.
* ``userns``: not root, but user namespaces allowed: the same jail, as the caller's own user.
* ``plain``: neither: a separate process in its own session, ``-I -S`` (no site-packages on
  ``sys.path``), network blocked only by convention. It can read what the caller can; if the
  caller is root, it runs as ``nobody`` instead (never as root), or nothing runs (:func:`refusal`).

In every mode the process may use ``MEMORY_LIMIT`` bytes of address space.
"""

from __future__ import annotations

import ctypes
import glob
import json
import os
import pwd
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

from minigrad.course import _worker

try:
    import resource
except ImportError:  # not Unix: no limits (and no jail: mode 'plain')
    resource = None

_HERE = Path(__file__).resolve().parent
JAIL, WORKER = _HERE / "_jail.py", _HERE / "_worker.py"
_LIMIT = 256 * 2**20  # bytes of one answer
# The address space one sealed process may use (RLIMIT_AS, which it cannot raise): a worker
# grading the example course's reference peaked at 166 MB of it (VmPeak, a full grade), so
# honest pieces fit six times over, while a piece that allocates without end gets a MemoryError
# in its own task instead of the machine's memory. Forks get one each, and the jail caps them
# at NPROC processes of the sealed user.
MEMORY_LIMIT = 2**30
NPROC = 64
MEMORY = f"memory capped at {MEMORY_LIMIT / 2**30:g} GiB of address space per process"
PROTECTIONS = {
    "root": ["separate process; answers parsed as data", "unprivileged user 'nobody'", MEMORY,
             "own root: instructor's tree, hidden tests and other packages not visible",
             "grading copy read-only", "no network (empty network namespace)",
             "whole process tree killed (PID namespace)"],
    "userns": ["separate process; answers parsed as data", "runs as the grader's own user (not root)", MEMORY,
               "own root: instructor's tree, hidden tests and other packages not visible",
               "grading copy read-only", "no network (empty network namespace)",
               "whole process tree killed (PID namespace)"],
    "plain": ["separate process; answers parsed as data", "no site-packages on sys.path", MEMORY,
              "NOT in force: file isolation, network isolation, killing processes that leave the session"],
}  # fmt: skip
# Root without a jail (namespaces refused, or MINIGRAD_COURSE_SEAL=plain): the pieces still never
# run as root; they run as 'nobody' and read what file permissions let 'nobody' read.
PLAIN_AS_ROOT = [
    "separate process; answers parsed as data", "unprivileged user 'nobody' (no jail)", MEMORY,
    "no site-packages on sys.path", "grading copy read-only (owned by root)",
    "NOT in force: file isolation beyond permissions (keep your tree and hidden tests unreadable to other "
    "users: chmod -R go-rwx), network isolation, killing processes that leave the session",
]  # fmt: skip


class SealedError(Exception):
    """What went wrong in the sealed process: the piece's exception, a timeout or a crash."""


def _python() -> str:
    return os.path.realpath(sys.executable)


def _in_child(user: tuple[int, int] | None = None) -> None:
    """In the child before exec: cap its memory, become ``user`` (uid, gid) if given, and die
    with the grader (Linux; after the change of user, which clears the parent-death signal)."""
    if resource is not None:  # inherited by unshare, the jail and the worker, in every mode
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    if user is not None:
        os.setgroups([])
        os.setgid(user[1])
        os.setuid(user[0])
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def plain_user() -> tuple[int, int] | None:
    """Who runs the pieces in mode 'plain': ``nobody`` (uid, gid) when the grader is root (no
    jail, but never root), else None (the grader's own user)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        raise SealedError("refusing to run student code as root: no jail here, and no user 'nobody' to "
                          "become (create one, or grade as an unprivileged user)") from None  # fmt: skip
    return entry.pw_uid, entry.pw_gid


def _site_dirs() -> list[str]:
    """Every site-packages and dist-packages folder the jail's system folders would show."""
    roots = ["/usr", "/usr/local", sys.base_prefix]
    found = []
    for root in roots:
        for pattern in ("lib/python3*/site-packages", "lib/python3*/dist-packages", "lib/python3/dist-packages"):
            found += glob.glob(os.path.join(root, pattern))
    return sorted({os.path.realpath(p) for p in found})


def _numpy_dirs() -> list[str]:
    import numpy

    pkg = os.path.dirname(os.path.realpath(numpy.__file__))
    libs = pkg + ".libs"
    return [pkg] + ([libs] if os.path.isdir(libs) else [])


def _jail_config(workdir: Path, copy: Path, probes: str, user: bool) -> dict:
    binds = [(d, "/sealed/site/" + os.path.basename(d)) for d in _numpy_dirs()]
    binds.append((str(copy), "/sealed/copy"))
    cfg = {
        "root": str(workdir / "root"), "cwd": "/sealed/copy", "nproc": NPROC,
        "system": ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/etc", sys.base_prefix],
        "hide": _site_dirs(), "binds": binds,
        "argv": [_python(), "-I", "-S", "-B", "/sealed/copy/minigrad/course/_worker.py", "/sealed/copy",
                 "/sealed/copy/" + probes, "/sealed/site"],
        "env": {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
                "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    }  # fmt: skip
    if user:
        entry = pwd.getpwnam("nobody")
        cfg["uid"], cfg["gid"] = entry.pw_uid, entry.pw_gid
    return cfg


def command(mode: str, workdir: Path, copy: Path, probes: str) -> list[str]:
    """The command that starts the sealed worker on the grading ``copy`` in ``mode``."""
    workdir.mkdir(parents=True, exist_ok=True)
    if mode == "plain":
        site = workdir / "site"
        site.mkdir(exist_ok=True)
        for d in _numpy_dirs():
            if not (site / os.path.basename(d)).exists():
                os.symlink(d, site / os.path.basename(d))
        return [_python(), "-I", "-S", "-B", str(copy / "minigrad" / "course" / "_worker.py"), str(copy),
                str(copy / probes), str(site)]  # fmt: skip
    (workdir / "root").mkdir(exist_ok=True)
    cfg = workdir / "jail.json"
    cfg.write_text(json.dumps(_jail_config(workdir, copy, probes, user=mode == "root")), encoding="utf-8")
    os.chmod(cfg, 0o600)
    user = [] if mode == "root" else ["--user", "--map-root-user"]
    return ["unshare", *user, "--mount", "--net", "--pid", "--fork", "--kill-child",
            _python(), "-I", "-S", "-B", str(JAIL), str(cfg)]  # fmt: skip


@cache
def mode() -> str:
    """The strongest sealing this machine allows: 'root', 'userns' or 'plain' (tried once).

    ``MINIGRAD_COURSE_SEAL=plain`` (or ``userns``) asks for a weaker one, to compare.
    """
    asked = os.environ.get("MINIGRAD_COURSE_SEAL", "")
    if asked in ("plain", "userns"):
        return asked if asked == "plain" or _try(asked) else "plain"
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return "plain"
    wanted = ["root"] if os.geteuid() == 0 else []
    for m in wanted + ["userns"]:
        if _try(m):
            return m
    return "plain"


def _try(m: str) -> bool:
    """Whether a jail in mode ``m`` starts and imports NumPy (a throwaway grading copy)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="minigrad-sealed-try-") as tmp:
        copy = Path(tmp) / "copy"
        (copy / "minigrad" / "course").mkdir(parents=True)
        shutil.copy(WORKER, copy / "minigrad" / "course" / "_worker.py")
        (copy / "probes").mkdir()
        (copy / "probes" / "probe_try.py").write_text("def ping():\n    import numpy\n    return 1.0\n")
        os.chmod(tmp, 0o755)
        sealed = Sealed(m, Path(tmp) / "work", copy, "probes", call_timeout=30)
        try:
            return sealed.call("probe_try", "ping") == 1.0
        except SealedError:
            return False
        finally:
            sealed.close()


@cache
def refusal() -> str:
    """Why no piece may run here at all ('' when they may): as root without a jail, the pieces run
    as 'nobody', who must be able to run this Python and NumPy (a throwaway worker tries)."""
    try:
        if mode() != "plain" or plain_user() is None or _try("plain"):
            return ""
    except SealedError as e:
        return str(e)
    return (f"refusing to run student code as root: there is no jail here, and the user 'nobody' cannot run "
            f"{_python()} with NumPy (a folder on the way is not readable by other users); install Python and "
            "NumPy where other users can read them, or grade as an unprivileged user")


def protections() -> list[str]:
    """What holds in this machine's mode, in words (for the report)."""
    if mode() == "plain" and hasattr(os, "geteuid") and os.geteuid() == 0:
        return ["mode plain"] + PLAIN_AS_ROOT
    return [f"mode {mode()}"] + PROTECTIONS[mode()]


def encode(value):
    """Arrays (and anything inside lists, tuples, dicts) as JSON data for the worker."""
    import numpy as np

    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return {"__ndarray__": [list(value.shape), value.astype(float).ravel().tolist()]}
    if isinstance(value, np.generic):
        return value.item()
    return value


def decode(value):
    """The worker's answer as data: arrays become float64 arrays; anything malformed raises."""
    import numpy as np

    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__ndarray__"}:
            try:
                shape, data = value["__ndarray__"]
                return np.array(data, dtype=float).reshape([int(n) for n in shape])
            except (TypeError, ValueError) as e:
                raise SealedError(f"the sealed process sent a malformed array: {e}") from None
        return {str(k): decode(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, str, float, int)):
        return value
    raise SealedError(f"the sealed process sent {type(value).__name__}")


class Sealed:
    """One sealed worker on a grading copy; restarted after a crash or a timeout."""

    def __init__(self, mode: str, workdir: Path, copy: Path, probes: str, call_timeout: float = 20.0):
        self.mode, self.workdir, self.copy, self.probes = mode, Path(workdir), Path(copy), probes
        self.call_timeout = call_timeout
        self.proc: subprocess.Popen | None = None
        self.failures = 0  # timeouts and crashes in a row

    def _start(self) -> None:
        cmd = command(self.mode, self.workdir, self.copy, self.probes)
        # One BLAS thread, as in the jail: OpenBLAS reserves address space per thread.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}  # fmt: skip
        user = plain_user() if self.mode == "plain" else None  # the jail drops to 'nobody' itself
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, cwd=self.copy, start_new_session=True,
                                         preexec_fn=lambda: _in_child(user), env=env)  # fmt: skip
        except (OSError, subprocess.SubprocessError) as e:
            raise SealedError(f"the sealed process did not start: {e}") from None

    def call(self, module: str, function: str, **args):
        """Run ``module.function(**args)`` in the sealed process; its value, as data."""
        if self.failures >= 2:
            raise SealedError("skipped: the sealed process crashed or timed out twice in a row in this task")
        if self.proc is None:
            self._start()
        nonce = secrets.token_hex(16)
        request = json.dumps({"nonce": nonce, "module": module, "function": function, "args": encode(args)})
        try:
            self.proc.stdin.write(request.encode() + b"\n")
            self.proc.stdin.flush()
            answer = self._read(nonce)
        except (BrokenPipeError, SealedError) as e:
            self.failures += 1
            self.close()
            text = str(e) if isinstance(e, SealedError) else "the sealed process exited"
            raise SealedError(text) from None
        self.failures = 0
        if "error" in answer:
            raise SealedError(str(answer["error"]))
        return decode(answer.get("value"))

    def _read(self, nonce: str) -> dict:
        """The next answer line carrying ``nonce`` (anything else is skipped), within the time limit."""
        deadline = time.monotonic() + self.call_timeout
        fd, buf = self.proc.stdout.fileno(), b""
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise SealedError(f"no answer within {self.call_timeout:g} s (an endless loop, or too slow?)")
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise SealedError("the sealed process exited before answering (a crash, or os._exit?)")
                buf += chunk
                if len(buf) > _LIMIT:
                    raise SealedError("the sealed process sent more than 256 MB")
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    try:
                        answer = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(answer, dict) and answer.get("nonce") == nonce:
                        return answer

    def close(self) -> None:
        """Kill the worker and everything it started (its namespace, or its session)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
        for f in (proc.stdin, proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        proc.wait()


class Local:
    """The probes run in this process on this tree: for an instructor running the hidden tests
    directly (``pytest course/hidden``). Nothing is sealed; values still travel as data."""

    def __init__(self, probes: Path):
        self.probes = Path(probes)

    def call(self, module: str, function: str, **args):
        import importlib

        import numpy as np

        if str(self.probes) not in sys.path:
            sys.path.insert(0, str(self.probes))
        try:
            value = getattr(importlib.import_module(module), function)(**_worker.decode(encode(args), np))
            return decode(json.loads(json.dumps(_worker.encode(value, np))))
        except Exception as e:  # noqa: BLE001 - reported as the sealed process would
            raise SealedError(f"{type(e).__name__}: {e}") from None

    def close(self) -> None:
        pass


ENV = "MINIGRAD_COURSE_SEALED"


def from_env(probes: Path) -> Sealed | Local:
    """What the hidden tests' ``sealed`` fixture uses: the sealed process ``grade`` configured
    (the ``MINIGRAD_COURSE_SEALED`` file), else :class:`Local` on the probes in ``probes``."""
    path = os.environ.get(ENV)
    if not path:
        return Local(probes)
    cfg = json.loads(Path(path).read_text(encoding="utf-8"))
    return Sealed(cfg["mode"], Path(cfg["workdir"]), Path(cfg["copy"]), cfg["probes"], cfg["call_timeout"])

"""The Python zygote: started once by the host (sandbox/python_zygote.cpp) with its control socket on fd 3, it
imports numpy, pandas, matplotlib, sympy and IPython, warms them up, locks itself down, says it is ready and then
clones one jailed session per request (libagentrt_jail.so: the same jail as the Lua worker's). Single-threaded
by construction when it clones: every numeric library is pinned to one thread by the environment the host
gives it."""

import fcntl
import json
import os
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CONTROL_FD = 3
MAX_MESSAGE = 64 << 10


def warm_up():
    """Everything a session would otherwise load on its first cell."""
    # matplotlib wants a writable folder for its font cache: a private one, gone before any session exists
    # (the font list stays in memory).
    config_dir = tempfile.mkdtemp(prefix="agentrt-mpl-")
    os.environ["MPLCONFIGDIR"] = config_dir
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import sympy  # noqa: F401

    import agentrt_cell
    import agentrt_figures
    agentrt_figures.warm_up()
    shell = agentrt_cell.make_shell()
    # One cell of each outcome, so that the first cell of a session finds IPython's paths loaded.
    session = agentrt_cell.Session(shell, {"timeout_ms": 10000}, {})
    for code in ("x = 1", "x + 1", "print(x)", "1/0", "x = = 1", "import pandas as pd\npd.DataFrame({'a': [1]})"):
        session.run_cell(code, 10000)
    shell.reset(new_session=False)
    shell.execution_count = 1
    # matplotlib keeps the font files it drew with open; a clone must not inherit a descriptor a Python object
    # believes it owns (the jail closes it, and the number is reused for the session's socket).
    import matplotlib.font_manager
    matplotlib.font_manager._get_font.cache_clear()
    import gc
    gc.collect()
    # Everything loaded so far stays out of the collector's sight: a session's collections would otherwise
    # touch (and so copy) every page it shares with the zygote.
    gc.freeze()
    for name in os.listdir(config_dir):
        path = os.path.join(config_dir, name)
        if os.path.isfile(path):
            os.unlink(path)
    os.rmdir(config_dir)
    return shell


def threads():
    return len(os.listdir("/proc/self/task"))


def stray_descriptors(own):
    """Descriptors beyond stdio and the zygote's own (a clone would inherit them)."""
    out = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd in (0, 1, 2) or fd in own:
            continue
        try:
            out.append((fd, os.readlink(f"/proc/self/fd/{fd}")))
        except OSError:  # the listing's own descriptor, closed by now
            pass
    return sorted(out)


def load_jail():
    import ctypes
    lib = ctypes.PyDLL(os.path.join(HERE, "libagentrt_jail.so"))
    lib.agentrt_jail_spawn.restype = ctypes.c_long
    lib.agentrt_jail_spawn.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                       ctypes.c_char_p, ctypes.c_size_t]
    lib.agentrt_host_id_namespace.restype = ctypes.c_int
    lib.agentrt_host_id_namespace.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    lib.agentrt_zygote_lock_down.restype = ctypes.c_int
    lib.agentrt_zygote_lock_down.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    api = ctypes.pythonapi
    for name in ("PyOS_BeforeFork", "PyOS_AfterFork_Parent", "PyOS_AfterFork_Child"):
        getattr(api, name).restype = None
        getattr(api, name).argtypes = []
    return lib, api, ctypes


class Zygote:
    def __init__(self, lib, api, ctypes, control, shell):
        self.lib, self.api, self.ctypes, self.control, self.shell = lib, api, ctypes, control, shell
        err = ctypes.create_string_buffer(1024)
        # Root on the host: one user namespace for every session's idmapped workspace.
        self.userns = lib.agentrt_host_id_namespace(err, len(err))
        self.sessions = []  # pidfds of the sessions cloned so far (the host's children, not ours)

    def own_fds(self):
        return {self.control.fileno(), self.userns, *self.sessions}

    def spawn(self, request, fds):
        """Clones a session. Returns the reply for the host; in the jailed session it runs the session and
        never returns."""
        refusal = None
        null_fds = []
        if len(fds) != 2:
            refusal = "a spawn request needs two descriptors"
        elif threads() != 1:
            refusal = f"the zygote has {threads()} threads; it clones only when it has one"
        else:
            stray = [(fd, what) for fd, what in stray_descriptors(self.own_fds()) if fd not in fds]
            # /dev/null held by a library (IPython keeps one open) is given back to the session, at the same
            # number.
            null_fds = [fd for fd, what in stray if what == "/dev/null"]
            stray = [(fd, what) for fd, what in stray if what != "/dev/null"]
            if stray:
                refusal = f"the zygote holds descriptors a session would inherit: {stray}"
        if refusal:
            for fd in fds:
                os.close(fd)
            return {"error": refusal}
        jail = json.dumps({**request.get("jail", {}), "null_fds": null_fds}).encode()
        out = self.ctypes.create_string_buffer(4096)
        self.api.PyOS_BeforeFork()
        pid = self.lib.agentrt_jail_spawn(jail, fds[0], fds[1], self.userns, out, len(out))
        if pid == 0:
            self.api.PyOS_AfterFork_Child()
            # The jail closed every descriptor but the session's: forget the socket object that held another.
            self.control.detach()
            run_session(self.shell, request.get("limits", {}), json.loads(out.value.decode() or "{}"))
            os._exit(0)
        self.api.PyOS_AfterFork_Parent()
        for fd in fds:
            os.close(fd)
        if pid < 0:
            return {"error": out.value.decode("utf-8", "replace") or "the session could not be cloned"}
        try:
            self.sessions.append(os.pidfd_open(pid))
        except OSError:
            pass
        return {"pid": pid}

    def prune(self):
        """Forgets sessions that have ended."""
        import select
        alive = []
        for fd in self.sessions:
            if select.select([fd], [], [], 0)[0]:
                os.close(fd)
            else:
                alive.append(fd)
        self.sessions = alive

    def end_sessions(self):
        """The host is gone: nothing it started may outlive it."""
        import signal
        for fd in self.sessions:
            try:
                signal.pidfd_send_signal(fd, signal.SIGKILL)
            except OSError:
                pass


def run_session(shell, limits, report):
    import agentrt_cell
    try:
        agentrt_cell.Session(shell, limits, report).serve()
    except BaseException as e:  # the session cannot go on: say why if the host still listens
        agentrt_cell.write_frame({"ready": False, "error": f"the Python session failed: {type(e).__name__}: {e}"})
    os._exit(0)


def main():
    started = time.monotonic()
    sys.path.insert(0, HERE)
    # Descriptors the host leaked without close-on-exec are not the sessions' business.
    os.closerange(CONTROL_FD + 1, os.sysconf("SC_OPEN_MAX"))
    # The control socket moves off fd 3: a session's own socket is given that number in the clone.
    control_fd = fcntl.fcntl(CONTROL_FD, fcntl.F_DUPFD_CLOEXEC, 100)
    os.close(CONTROL_FD)
    control = socket.socket(fileno=control_fd)
    try:
        shell = warm_up()
        lib, api, ctypes = load_jail()
        err = ctypes.create_string_buffer(1024)
        if lib.agentrt_zygote_lock_down(err, len(err)) != 0:
            raise RuntimeError(err.value.decode("utf-8", "replace"))
        if threads() != 1:
            raise RuntimeError(f"the zygote has {threads()} threads after its imports; it needs one")
    except BaseException as e:
        control.send(json.dumps({"ready": False, "error": f"{type(e).__name__}: {e}"}).encode())
        return 1
    zygote = Zygote(lib, api, ctypes, control, shell)
    control.send(json.dumps({"ready": True, "python": sys.version.split()[0],
                             "startup_ms": round((time.monotonic() - started) * 1000)}).encode())
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(control, MAX_MESSAGE, 8)
        except InterruptedError:
            continue
        except OSError:
            data, fds = b"", []
        if not data:
            zygote.end_sessions()
            return 0  # the host is gone
        try:
            request = json.loads(data.decode("utf-8", "replace"))
            reply = zygote.spawn(request, fds) if request.get("op") == "spawn" \
                else {"error": f"unknown request '{request.get('op')}'"}
        except Exception as e:
            reply = {"error": f"{type(e).__name__}: {e}"}
        zygote.prune()
        try:
            control.send(json.dumps(reply).encode())
        except OSError:
            zygote.end_sessions()
            return 0


if __name__ == "__main__":
    sys.exit(main())

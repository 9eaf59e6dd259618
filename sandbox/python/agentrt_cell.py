"""One jailed Python session: Jupyter cell semantics on IPython's own InteractiveShell (state persists, the
last expression's value is shown, stdout and stderr captured, tracebacks without colours trimmed to the cell's
frames, a deadline per cell), matplotlib figures saved as files, and the wire to the host (length-prefixed
JSON frames on fd 3, the same as the Lua worker's; see sandbox/worker_protocol.h). Its replies are the host's
CellResult JSON (sandbox/cell_result.h)."""

import collections
import gc
import io
import json
import mimetypes
import os
import re
import resource
import signal
import struct
import sys
import time
import traceback

import agentrt_figures

SESSION_FD = 3
MAX_FRAME_BYTES = 64 << 20
MAX_FRAMES_SHOWN = 30
MAX_LISTED_FILES = 50
# After a MemoryError, less address space than this left means the session is full for good.
MEMORY_HEADROOM = 64 << 20
CELL_FILE = re.compile(r'File "<ipython-input-(\d+)-[0-9a-f]+>"')


class CellTimeout(BaseException):
    """Raised by the deadline timer inside the cell's code (a BaseException: `except Exception` in the code
    does not swallow it)."""


# ---- the wire ---------------------------------------------------------------------------------------------

def read_frame(fd=SESSION_FD):
    header = _read_exactly(fd, 4)
    if header is None:
        return None
    (n,) = struct.unpack("<I", header)
    if n > MAX_FRAME_BYTES:
        return None
    payload = _read_exactly(fd, n)
    return None if payload is None else json.loads(payload.decode("utf-8", "replace"))


def _read_exactly(fd, n):
    chunks, got = [], 0
    while got < n:
        try:
            chunk = os.read(fd, n - got)
        except InterruptedError:
            continue
        except OSError:
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def write_frame(obj, fd=SESSION_FD):
    data = json.dumps(obj, ensure_ascii=False).encode("utf-8", "replace")
    data = struct.pack("<I", len(data)) + data
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except InterruptedError:
            continue
        except OSError:
            return False
        view = view[n:]
    return True


# ---- captured output --------------------------------------------------------------------------------------

class CappedStream(io.TextIOBase):
    """stdout and stderr of a cell, in the order written, keeping at most `limit` bytes."""

    def __init__(self, limit):
        super().__init__()
        self.limit = limit
        self.parts = []
        self.size = 0
        self.dropped = 0

    def writable(self):
        return True

    def isatty(self):
        return False

    @property
    def encoding(self):
        return "utf-8"

    def write(self, text):
        if not isinstance(text, str):
            text = str(text)
        data = text.encode("utf-8", "replace")
        room = max(self.limit - self.size, 0)
        if len(data) > room:
            self.dropped += len(data) - room
            data = data[:room]
        if data:
            self.parts.append(data)
            self.size += len(data)
        return len(text)

    def text(self):
        return b"".join(self.parts).decode("utf-8", "replace")


# ---- the shell --------------------------------------------------------------------------------------------

def make_shell():
    """IPython's InteractiveShell as a notebook kernel has it, minus what a jail cannot or need not do: no
    history database (no file, no saving thread), no colours; the last expression's value is kept for the
    reply instead of printed as "Out[n]: ..."."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets import Type
    from traitlets.config import Config

    class ValueHook(DisplayHook):
        value = None

        def start_displayhook(self):
            pass

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            self.value = format_dict.get("text/plain", "")

        def finish_displayhook(self):
            pass

        def log_output(self, format_dict):
            pass

    class Shell(InteractiveShell):
        displayhook_class = Type(ValueHook)

    config = Config()
    config.HistoryManager.enabled = False
    config.HistoryAccessor.enabled = False
    config.InteractiveShell.colors = "NoColor"
    config.InteractiveShell.autocall = 0
    return Shell.instance(config=config)


# ---- the session ------------------------------------------------------------------------------------------

class Session:
    def __init__(self, shell, limits, report):
        self.shell = shell
        self.limits = limits
        self.report = report
        self.figure_counter = 1
        self.in_cell = False
        self.failure = None  # (exc_type, exc, tb) recorded by the shell's error display
        shell.showtraceback = self._record_error
        shell.showsyntaxerror = self._record_error
        shell.showindentationerror = self._record_error
        signal.signal(signal.SIGALRM, self._deadline)

    def _record_error(self, *args, **kwargs):
        self.failure = sys.exc_info()

    def _deadline(self, signum, frame):
        if self.in_cell:
            raise CellTimeout()

    def serve(self):
        if not write_frame({"ready": True, **self.report}):
            return
        while True:
            request = read_frame()
            if request is None:
                return
            op = request.get("op")
            try:
                if op == "run":
                    timeout_ms = int(request.get("timeout_ms", self.limits.get("timeout_ms", 10000)))
                    reply = self.run_cell(str(request.get("code", "")), timeout_ms)
                elif op == "reset":
                    self.shell.reset(new_session=False)
                    agentrt_figures.plt.close("all")
                    reply = {"ok": True}
                else:
                    reply = {"ok": False, "failure": "rejected", "error": f"unknown request '{op}'"}
            except MemoryError:
                reply = self._memory_full_reply()
            except BaseException as e:  # the harness itself must answer, whatever happened
                reply = {"ok": False, "failure": "runtime", "error": f"internal error: {type(e).__name__}: {e}"}
            if not write_frame(reply):
                return
            if reply.get("state_reset"):
                return  # the host starts a fresh session for the next cell

    def _memory_full_reply(self):
        self.failure = None
        gc.collect()
        cap_mb = self.limits.get("memory_bytes", 0) >> 20
        return {"ok": False, "failure": "memory", "output": "", "output_truncated": False, "value": "",
                "error": f"MemoryError: the session's memory cap ({cap_mb} MB) was reached and stayed full; "
                         "the interpreter state was reset",
                "error_line": 0, "traceback": "", "files": [], "state_reset": True, "duration_ms": 0.0,
                "memory_bytes": 0}

    def run_cell(self, code, timeout_ms):
        result = self._run_cell(code, timeout_ms)
        if result["failure"] == "memory":
            # Jupyter keeps what the cell made; if that fills the cap, no later cell could run: reset instead.
            self.failure = None
            gc.collect()
            if memory_left() < MEMORY_HEADROOM:
                result["state_reset"] = True
                result["error"] += "; it stayed full, so the interpreter state was reset"
        return result

    def _run_cell(self, code, timeout_ms):
        started = time.monotonic()
        result = {"ok": True, "failure": "none", "output": "", "output_truncated": False, "value": "",
                  "error": "", "error_line": 0, "traceback": "", "files": [], "state_reset": False,
                  "duration_ms": 0.0, "memory_bytes": 0}
        if len(code.encode("utf-8", "replace")) > self.limits.get("max_source_bytes", 256 << 10):
            result.update(ok=False, failure="rejected", error="the cell is larger than the source limit")
            return result
        before = snapshot()
        stream = CappedStream(self.limits.get("max_output_bytes", 256 << 10))
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = stream
        self.failure = None
        self.shell.displayhook.value = None
        cell_number = self.shell.execution_count
        timed_out = False
        figures, notes = [], []
        try:
            self.in_cell = True
            signal.setitimer(signal.ITIMER_REAL, max(timeout_ms, 1) / 1000.0)
            try:
                outcome = self.shell.run_cell(code, store_history=True)
                error = outcome.error_before_exec or outcome.error_in_exec
                figures, notes, self.figure_counter = agentrt_figures.save_open_figures(self.figure_counter)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                self.in_cell = False
        except CellTimeout as e:  # the deadline struck outside the code (while saving figures)
            error = e
            self.failure = sys.exc_info()
        except BaseException as e:
            error = e
            self.failure = sys.exc_info()
        finally:
            sys.stdout, sys.stderr = saved
        if error is not None:
            timed_out = isinstance(error, CellTimeout)
            self._describe_error(error, cell_number, timeout_ms, result)
            if timed_out:
                agentrt_figures.plt.close("all")
        elif self.shell.displayhook.value is not None:
            result["value"] = cap(self.shell.displayhook.value, self.limits.get("max_output_bytes", 256 << 10))
        output = stream.text()
        if notes:
            output += ("" if not output or output.endswith("\n") else "\n") + "\n".join(notes) + "\n"
        if stream.dropped:
            result["output_truncated"] = True
            output += f"\n[output truncated: {stream.dropped} more bytes not shown]\n"
        result["output"] = output
        result["files"] = figures + changed_files(before, snapshot(), {f["path"] for f in figures})
        result["memory_bytes"] = resident_bytes()
        result["duration_ms"] = (time.monotonic() - started) * 1000.0
        return result

    def _describe_error(self, error, cell_number, timeout_ms, result):
        result["ok"] = False
        if isinstance(error, CellTimeout):
            result["failure"] = "timeout"
            result["error"] = (f"TimeoutError: the cell ran longer than {timeout_ms} ms and was stopped; "
                               "the variables it had set are kept")
        elif isinstance(error, MemoryError):
            result["failure"] = "memory"
            cap_mb = self.limits.get("memory_bytes", 0) >> 20
            result["error"] = f"MemoryError: the session's memory cap ({cap_mb} MB) was reached"
        elif isinstance(error, SyntaxError):
            result["failure"] = "syntax"
            result["error"] = f"{type(error).__name__}: {error.msg}"
            result["error_line"] = error.lineno or 0
            result["traceback"] = "".join(traceback.format_exception_only(type(error), error))
            result["traceback"] = CELL_FILE.sub(lambda m: f"Cell In[{m.group(1)}]", result["traceback"])
            return
        else:
            result["failure"] = "runtime"
            result["error"] = "".join(traceback.format_exception_only(type(error), error)).strip()
        result["error"] = cap(result["error"], 4096)
        text, line = format_traceback(error, cell_number)
        if isinstance(error, CellTimeout):
            text = text[:text.rstrip("\n").rfind("\n") + 1] + result["error"].split(";")[0] + "\n"
        result["traceback"] = cap(text, 16 << 10)
        result["error_line"] = line


def format_traceback(error, cell_number):
    """The traceback from the first frame of a cell on (the shell's and this harness's frames are not the
    code's), cells named as IPython names them ("Cell In[3]"); at most MAX_FRAMES_SHOWN frames, the middle of a
    deep one (a recursion) left out with a count. Returns the text and the line of the failing cell's last frame
    (0 when the cell has none)."""
    first, last, total, started = [], collections.deque(maxlen=MAX_FRAMES_SHOWN // 2), 0, False
    for frame, where in _walk(error.__traceback__):
        lineno = where[0] if isinstance(where, tuple) else where
        name = frame.f_code.co_filename
        started = started or name.startswith("<ipython-input-")
        # Before the cell: the shell's frames; the deadline's handler: this harness's.
        if not started or os.path.basename(name) == "agentrt_cell.py":
            continue
        total += 1
        if len(first) < MAX_FRAMES_SHOWN // 2:
            first.append((frame, where))
        else:
            last.append((frame, where))
    line = 0
    for frame, where in list(first) + list(last):
        m = re.match(r"<ipython-input-(\d+)-", frame.f_code.co_filename)
        if m and int(m.group(1)) == cell_number:
            line = (where[0] if isinstance(where, tuple) else where) or 0

    def summary(frames):
        return _summary(frames).format()
    lines = summary(first)
    if total > len(first) + len(last):
        lines.append(f"  ... {total - len(first) - len(last)} more frames ...\n")
    lines += summary(last)
    text = "Traceback (most recent call last):\n" + "".join(lines) + \
        "".join(traceback.format_exception_only(type(error), error))
    return CELL_FILE.sub(lambda m: f"Cell In[{m.group(1)}]", text), line


# Python 3.11's traceback keeps each frame's columns (the ^^^ under the failing expression) through helpers it
# does not export; without them, lines only.
_walk = getattr(traceback, "_walk_tb_with_full_positions", traceback.walk_tb)


def _summary(frames):
    extended = getattr(traceback.StackSummary, "_extract_from_extended_frame_gen", None)
    if extended is not None and _walk is not traceback.walk_tb:
        return extended(iter(frames), limit=None, lookup_lines=True, capture_locals=False)
    return traceback.StackSummary.extract(iter(frames), lookup_lines=True)


def cap(text, limit):
    if len(text) <= limit:
        return text
    return text[:limit] + f"... [{len(text) - limit} more characters cut]"


def snapshot():
    """The regular files under the workspace (the current folder): path -> (size, mtime)."""
    seen = {}
    count = 0
    for root, dirs, files in os.walk(".", followlinks=False):
        for name in files:
            count += 1
            if count > 2000:
                return seen
            path = os.path.join(root, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if not os.path.islink(path):
                seen[os.path.normpath(path)] = (st.st_size, st.st_mtime_ns)
    return seen


def changed_files(before, after, skip):
    out = []
    for path, (size, mtime) in sorted(after.items()):
        if path in skip or before.get(path) == (size, mtime):
            continue
        mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
        out.append({"path": path, "mime": mime, "summary": "", "bytes": size})
        if len(out) >= MAX_LISTED_FILES:
            break
    return out


def memory_left():
    """Address space left under RLIMIT_AS (the session's memory cap), in bytes."""
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY:
        return 1 << 62
    try:
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 1 << 62
    return limit - used


def resident_bytes():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0

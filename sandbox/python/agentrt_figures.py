"""Matplotlib figures of a cell: every figure still open when a cell ends is saved into the workspace as PNG and
SVG and described in a short sentence for the model (the kind, the series, their extremes), like the Lua
worker's charts. Runs inside the jailed session."""

import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.container import BarContainer  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.patches import Wedge  # noqa: E402

# The largest picture saved: a side of at most this many pixels and inches (a figure asked bigger is scaled
# down and the summary says so), so a huge figure costs neither the memory cap nor the disk cap.
MAX_SIDE_PIXELS = 4000
MAX_PIXELS = 16_000_000
MAX_SIDE_INCHES = 60.0
MAX_SUMMARY_CHARS = 600
# Figures saved per cell; more are closed unsaved (a note says so).
MAX_FIGURES = 20


def _num(v):
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(v) or math.isinf(v):
        return str(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.4g}"


def _finite(values):
    out = []
    for i, v in enumerate(values):
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out.append((i, f))
    return out


def _tick_label(ax, x):
    """The category a bar at x stands for: the tick label at that position, else the number."""
    for tick, text in zip(ax.get_xticks(), ax.get_xticklabels()):
        if abs(tick - x) < 1e-9 and text.get_text():
            return text.get_text()
    return _num(x)


def _describe_lines(ax):
    parts = []
    lines = [ln for ln in ax.get_lines() if ln.get_visible() and len(ln.get_xdata()) > 0]
    for k, ln in enumerate(lines[:6]):
        xs, ys = list(ln.get_xdata()), list(ln.get_ydata())
        pts = _finite(ys)
        label = ln.get_label()
        name = f"'{label}'" if label and not label.startswith("_") else f"line {k + 1}"
        if not pts:
            parts.append(f"{name} ({len(ys)} points)")
            continue
        lo = min(pts, key=lambda p: p[1])
        hi = max(pts, key=lambda p: p[1])
        parts.append(f"{name} {len(ys)} points, y from {_num(lo[1])} (x={_num(xs[lo[0]])}) "
                     f"to {_num(hi[1])} (x={_num(xs[hi[0]])})")
    if len(lines) > 6:
        parts.append(f"{len(lines) - 6} more lines")
    return parts


def _describe_bars(ax):
    parts = []
    for c in [c for c in ax.containers if isinstance(c, BarContainer)][:4]:
        bars = list(c.patches)
        if not bars:
            continue
        horizontal = getattr(c, "orientation", "vertical") == "horizontal"
        values = [(b.get_width() if horizontal else b.get_height()) for b in bars]
        where = [(b.get_y() + b.get_height() / 2 if horizontal else b.get_x() + b.get_width() / 2)
                 for b in bars]
        pts = _finite(values)
        if not pts:
            continue
        hi = max(pts, key=lambda p: p[1])
        lo = min(pts, key=lambda p: p[1])
        label = c.get_label()
        name = f"'{label}' " if label and not label.startswith("_") else ""
        parts.append(f"{name}{len(bars)} bars; highest '{_tick_label(ax, where[hi[0]])}' = {_num(hi[1])}, "
                     f"lowest '{_tick_label(ax, where[lo[0]])}' = {_num(lo[1])}, "
                     f"total {_num(sum(v for _, v in pts))}")
    return parts


def _describe_scatter(ax):
    parts = []
    for col in [c for c in ax.collections if isinstance(c, PathCollection)][:4]:
        offsets = col.get_offsets()
        if len(offsets) == 0:
            continue
        xs = [float(p[0]) for p in offsets]
        ys = [float(p[1]) for p in offsets]
        parts.append(f"{len(xs)} points, x {_num(min(xs))}..{_num(max(xs))}, y {_num(min(ys))}..{_num(max(ys))}")
    return parts


def _describe_pie(ax):
    wedges = [p for p in ax.patches if isinstance(p, Wedge)]
    if not wedges:
        return []
    labels = [t.get_text() for t in ax.texts if t.get_text() and not t.get_text().endswith("%")]
    shares = []
    for k, w in enumerate(wedges[:8]):
        share = (w.theta2 - w.theta1) / 360 * 100
        name = labels[k] if k < len(labels) else f"slice {k + 1}"
        shares.append(f"{name} {share:.1f}%")
    return [f"{len(wedges)} slices: " + ", ".join(shares)]


def describe(fig):
    """One sentence per axes: the kind of chart, its title and what its series show."""
    out = []
    title = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    for ax in fig.get_axes():
        kinds = []
        pie = _describe_pie(ax)
        bars = [] if pie else _describe_bars(ax)
        lines = _describe_lines(ax)
        scatter = _describe_scatter(ax)
        if pie:
            kinds.append(("pie chart", pie))
        if bars:
            kinds.append(("bar chart", bars))
        if lines:
            kinds.append(("line chart", lines))
        if scatter:
            kinds.append(("scatter plot", scatter))
        if ax.images:
            shape = ax.images[0].get_array().shape
            kinds.append(("image", [f"{shape[1]}x{shape[0]} values"]))
        if not kinds:
            continue
        head = " + ".join(k for k, _ in kinds)
        name = ax.get_title() or title
        text = head + (f" \"{name}\"" if name else "")
        axis = [a for a in (ax.get_xlabel(), ax.get_ylabel()) if a]
        if axis:
            text += " (" + " vs ".join(reversed(axis)) + ")"
        text += ": " + "; ".join(p for _, parts in kinds for p in parts)
        out.append(text)
    summary = " | ".join(out) if out else "an empty figure"
    if len(summary) > MAX_SUMMARY_CHARS:
        summary = summary[:MAX_SUMMARY_CHARS - 3] + "..."
    return summary


def _free_name(counter, taken):
    while True:
        base = f"figure_{counter}"
        if base + ".png" not in taken and base + ".svg" not in taken and \
                not os.path.exists(base + ".png") and not os.path.exists(base + ".svg"):
            return base, counter + 1
        counter += 1


def save_open_figures(counter):
    """Saves and closes every open figure. Returns (files, notes, next counter): files as the host's
    CreatedFile dicts (PNG then SVG per figure), notes for figures that could not be saved."""
    files, notes, taken = [], [], set()
    numbers = list(plt.get_fignums())
    if len(numbers) > MAX_FIGURES:
        notes.append(f"{len(numbers) - MAX_FIGURES} more figures were closed without being saved "
                     f"(at most {MAX_FIGURES} a cell)")
        numbers = numbers[:MAX_FIGURES]
    for num in numbers:
        fig = plt.figure(num)
        base, counter = _free_name(counter, taken)
        taken.update({base + ".png", base + ".svg"})
        try:
            width, height = fig.get_size_inches()
            note = ""
            if max(width, height) > MAX_SIDE_INCHES:
                scale = MAX_SIDE_INCHES / max(width, height)
                fig.set_size_inches(max(width * scale, 1), max(height * scale, 1))
                note = f" (asked {_num(width)}x{_num(height)} in, drawn {_num(width * scale)}x{_num(height * scale)} in)"
                width, height = fig.get_size_inches()
            dpi = float(fig.dpi)
            dpi = min(dpi, MAX_SIDE_PIXELS / max(width, height), math.sqrt(MAX_PIXELS / (width * height)))
            dpi = max(dpi, 1.0)
            fig.savefig(base + ".png", dpi=dpi, format="png")
            summary = describe(fig) + note
            files.append({"path": base + ".png", "mime": "image/png", "summary": summary,
                          "bytes": os.path.getsize(base + ".png")})
            try:
                fig.savefig(base + ".svg", format="svg")
                files.append({"path": base + ".svg", "mime": "image/svg+xml", "summary": summary,
                              "bytes": os.path.getsize(base + ".svg")})
            except Exception as e:  # an SVG past the file size cap: the PNG stands alone
                _remove(base + ".svg")
                notes.append(f"{base}.svg was not saved: {type(e).__name__}: {e}")
        except Exception as e:
            _remove(base + ".png")
            notes.append(f"figure {num} could not be saved: {type(e).__name__}: {e}")
    plt.close("all")
    return files, notes, counter


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def warm_up():
    """Draws one figure of each kind to memory, so a session's first chart does not pay for loading the Agg
    backend, fonts and the SVG writer."""
    import io
    fig, axes = plt.subplots(1, 3)
    axes[0].plot([1, 2, 3], [3, 1, 2], label="a")
    axes[1].bar(["x", "y"], [1, 2])
    axes[2].pie([1, 2], labels=["p", "q"])
    axes[0].scatter([1, 2], [2, 1])
    fig.suptitle("warm-up")
    for fmt in ("png", "svg"):
        fig.savefig(io.BytesIO(), format=fmt)
    describe(fig)
    plt.close("all")

#!/usr/bin/env python3
"""Plot batchudp-bench results: ns per datagram against batch size, one line
per method, one panel per datagram size.

    plot-bench.py [-o OUT.svg] [--metric cpu_ns|wall_ns] FILE.json...

Each FILE.json is what `batchudp-bench --json FILE` wrote (one run: one size,
one batch size).  The plot is plain SVG, written by hand: no plotting library
is needed.  Rows that did not run (n/a, skipped, failed) are left out.
"""

import argparse
import json
import math
import sys
from xml.sax.saxutils import escape

COLORS = {
    "recvfrom": "#d62728",
    "raw-recvmmsg": "#222222",
    "mmsg": "#1f77b4",
    "msgx": "#17becf",
    "loop": "#ff7f0e",
    "threaded": "#2ca02c",
    "threaded-cb": "#9467bd",
    "gro": "#8c564b",
    "gro-off": "#e377c2",
}
EXTRA_COLORS = ["#7f7f7f", "#bcbd22", "#aec7e8", "#ffbb78"]
DASHED = {"raw-recvmmsg": "6,3", "recvfrom": "2,3"}

PANEL_W, PANEL_H = 460, 330
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 70, 20, 60, 55
LEGEND_W = 150

METRIC_LABEL = {
    "cpu_ns": "process CPU ns per datagram",
    "wall_ns": "wall ns per datagram",
}


def load(paths, metric):
    """{size: {method: {batch: value}}}, and the runs' descriptions."""
    data = {}
    machines, modes = set(), set()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            run = json.load(f)
        cfg = run["config"]
        machines.add(run.get("machine", "?"))
        modes.add(cfg["mode"])
        size, batch = cfg["size"], cfg["batch"]
        for row in run["results"]:
            if row["status"] != "ok":
                continue
            value = row["median"].get(metric, 0)
            if not value or value <= 0:
                continue
            data.setdefault(size, {}).setdefault(row["method"], {})[batch] = value
    return data, machines, modes


def nice_step(span, ticks=6):
    raw = span / ticks
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def color_of(method, order):
    if method in COLORS:
        return COLORS[method]
    return EXTRA_COLORS[order.index(method) % len(EXTRA_COLORS)]


def panel(out, x0, y0, size, methods, order, metric):
    batches = sorted({b for m in methods.values() for b in m})
    ymax = max(v for m in methods.values() for v in m.values()) * 1.1
    step = nice_step(ymax)
    ymax = math.ceil(ymax / step) * step
    pw = PANEL_W - MARGIN_L - MARGIN_R
    ph = PANEL_H - MARGIN_T - MARGIN_B
    lo, hi = math.log2(min(batches)), math.log2(max(batches))
    span = hi - lo if hi > lo else 1.0

    def px(b):
        if hi == lo:
            return x0 + MARGIN_L + pw / 2
        return x0 + MARGIN_L + (math.log2(b) - lo) / span * pw

    def py(v):
        return y0 + MARGIN_T + ph - v / ymax * ph

    out.append(f'<text x="{x0 + MARGIN_L + pw / 2:.1f}" y="{y0 + MARGIN_T - 12}" '
               f'text-anchor="middle" font-weight="bold">{size}-byte datagrams</text>')
    # grid and y axis
    v = 0.0
    while v <= ymax + 1e-9:
        y = py(v)
        out.append(f'<line x1="{x0 + MARGIN_L}" y1="{y:.1f}" x2="{x0 + MARGIN_L + pw}" '
                   f'y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{x0 + MARGIN_L - 6}" y="{y + 4:.1f}" text-anchor="end">'
                   f'{v:g}</text>')
        v += step
    for b in batches:
        x = px(b)
        out.append(f'<line x1="{x:.1f}" y1="{y0 + MARGIN_T}" x2="{x:.1f}" '
                   f'y2="{y0 + MARGIN_T + ph}" stroke="#f0f0f0"/>')
        out.append(f'<text x="{x:.1f}" y="{y0 + MARGIN_T + ph + 16}" '
                   f'text-anchor="middle">{b}</text>')
    out.append(f'<rect x="{x0 + MARGIN_L}" y="{y0 + MARGIN_T}" width="{pw}" height="{ph}" '
               f'fill="none" stroke="#888"/>')
    out.append(f'<text x="{x0 + MARGIN_L + pw / 2:.1f}" y="{y0 + PANEL_H - 14}" '
               f'text-anchor="middle">batch size (datagrams per call)</text>')
    yc = y0 + MARGIN_T + ph / 2
    out.append(f'<text x="{x0 + 16}" y="{yc:.1f}" text-anchor="middle" '
               f'transform="rotate(-90 {x0 + 16} {yc:.1f})">'
               f'{escape(METRIC_LABEL.get(metric, metric))}</text>')
    for method in order:
        pts = methods.get(method)
        if not pts:
            continue
        color = color_of(method, order)
        dash = DASHED.get(method)
        coords = " ".join(f"{px(b):.1f},{py(pts[b]):.1f}" for b in sorted(pts))
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline points="{coords}" fill="none" stroke="{color}" '
                   f'stroke-width="2"{extra}><title>{escape(method)}</title></polyline>')
        for b in sorted(pts):
            out.append(f'<circle cx="{px(b):.1f}" cy="{py(pts[b]):.1f}" r="3" fill="{color}">'
                       f'<title>{escape(method)}, batch {b}: {pts[b]:.1f}</title></circle>')


def render(data, machines, modes, metric):
    sizes = sorted(data)
    order = []
    for size in sizes:
        for method in data[size]:
            if method not in order:
                order.append(method)
    known = list(COLORS)
    order.sort(key=lambda m: known.index(m) if m in known else len(known))
    width = PANEL_W * len(sizes) + LEGEND_W
    height = PANEL_H + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    title = (f'batchudp-bench, {"/".join(sorted(modes))} mode, loopback: '
             f'{METRIC_LABEL.get(metric, metric)} (median)')
    out.append(f'<text x="12" y="22" font-size="14" font-weight="bold">{escape(title)}</text>')
    out.append(f'<text x="12" y="40" fill="#555">{escape("; ".join(sorted(machines)))}</text>')
    for i, size in enumerate(sizes):
        panel(out, i * PANEL_W, 20, size, data[size], order, metric)
    lx = PANEL_W * len(sizes) + 10
    for i, method in enumerate(order):
        y = 20 + MARGIN_T + 10 + i * 20
        color = color_of(method, order)
        dash = DASHED.get(method)
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{lx}" y1="{y}" x2="{lx + 24}" y2="{y}" stroke="{color}" '
                   f'stroke-width="2"{extra}/>')
        out.append(f'<text x="{lx + 30}" y="{y + 4}">{escape(method)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", nargs="+", help="files written by batchudp-bench --json")
    ap.add_argument("-o", "--output", default="bench.svg", help="SVG file to write")
    ap.add_argument("--metric", default="cpu_ns", choices=sorted(METRIC_LABEL),
                    help="median field to plot")
    args = ap.parse_args(argv)
    data, machines, modes = load(args.json, args.metric)
    if not data:
        print("plot-bench: no successful rows in the input", file=sys.stderr)
        return 1
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(render(data, machines, modes, args.metric))
    print(f"plot-bench: wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

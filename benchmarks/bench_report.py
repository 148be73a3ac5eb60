"""Report export timings on demo data: one force's report by stage, and every force's reports for one year."""
from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from analysis.export import FORMATS, Renderer, figure_bytes
from analysis.report import build_report
from analysis.report_cli import main as report_main
from analysis.selection import Selection
from data.demo import demo_manifest, demo_records

START, END = "2024-04", "2025-03"


def _clock() -> callable:
    t0 = time.perf_counter()
    return lambda: time.perf_counter() - t0


def single_force(force: str = "kent") -> None:
    records, manifest = demo_records(), demo_manifest()
    selection = Selection.build(force, START, END)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        t = _clock()
        renderer = Renderer(tabs=2).open()
        start = t()
        try:
            t = _clock()
            report = build_report(records, manifest, selection, demo=True)
            build = t()
            charts = [s for s in report.sections if s.figure is not None]
            t = _clock()
            report.write_html(out / "report.html")
            html = t()
            t = _clock()
            report.write_figures(out / "figures", FORMATS, renderer=renderer)
            figures = t()
            t = _clock()
            report.write_csv(out / "tables")
            csv = t()
            t = _clock()
            report.write_pdf(out / "report.pdf", renderer=renderer)
            pdf = t()
            t = _clock()
            report.write_pdf(out / "report-cli.pdf", renderer=renderer, method="cli")
            pdf_cli = t()
            if charts:
                fig, ctx = charts[0].figure, charts[0].context
                per = {}
                for fmt in FORMATS:
                    t = _clock()
                    for _ in range(3):
                        figure_bytes(fig, ctx, fmt, renderer=renderer)
                    per[fmt] = t() / 3
        finally:
            renderer.close()
    total = build + html + figures + csv + pdf
    print(f"   single force ({force}, 12 months, {len(charts)} charts): {total:.1f} s after a {start:.1f} s "
          f"Chromium start")
    print(f"     build {build:.2f} s | html {html:.2f} s | {len(charts)} charts x png+svg+pdf {figures:.2f} s | "
          f"csv {csv:.2f} s | pdf (svg charts + CDP print) {pdf:.2f} s | pdf via chromium CLI {pdf_cli:.2f} s")
    if charts:
        print("     one chart: " + ", ".join(f"{fmt} {sec:.2f} s" for fmt, sec in per.items()))


def plotly_to_image_baseline(n: int = 3) -> None:
    """What a fresh browser per figure would cost (plotly's fig.to_image without a session)."""
    import plotly.graph_objects as go
    import plotly.io as pio

    pio.defaults.mathjax = None
    fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))
    t = _clock()
    for _ in range(n):
        fig.to_image(format="png", width=1200, height=700, scale=3)
    print(f"   plotly fig.to_image without a session: {t() / n:.2f} s a figure (browser started each time)")


def _cpu() -> tuple[float, float]:
    """(this process, reaped children = Chromium) CPU seconds so far."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def all_forces(workers: int = 2, formats: str = "html,pdf,png,svg,csv") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cpu0 = _cpu()
        t = _clock()
        code = report_main(["--forces", "all", "--each-force", "--from", START, "--to", END, "--out", tmp,
                            "--formats", formats, "--demo", "--workers", str(workers)])
        seconds = t()
        cpu1 = _cpu()  # Chromium has exited (the command closes its session), so its CPU is counted
        reports = len(list(Path(tmp).glob("*/report.html")))
        files = sum(1 for p in Path(tmp).rglob("*") if p.is_file())
    print(f"   all forces, one year, {formats}, {workers} worker(s): {reports} reports, {files} files in "
          f"{seconds:.1f} s ({seconds / max(reports, 1):.2f} s a report; exit {code}); CPU: python "
          f"{cpu1[0] - cpu0[0]:.0f} s, chromium {cpu1[1] - cpu0[1]:.0f} s")


def _load() -> str:
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="single force only")
    p.add_argument("--workers-1", action="store_true", help="also time the all-forces run with one worker")
    args = p.parse_args(argv or [])
    print(f"   load average at start: {_load()} ({__import__('os').cpu_count()} cores)")
    single_force()
    plotly_to_image_baseline()
    if not args.quick:
        all_forces(workers=2)
        if args.workers_1:
            all_forces(workers=1)
        all_forces(workers=2, formats="html,csv")
    print(f"   load average at end: {_load()}")


if __name__ == "__main__":
    main()

"""The suites' results files: one section of ``results/bench_<host>.md`` and its rows of the
``.csv`` per suite (the other suites' sections and rows are kept)."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

from lra import atomic
from lra.bench.measure import LoadLog, hardware
from lra.provenance import REPO

CSV_FIELDS = ("suite", "section", "case", "metric", "value", "unit", "load_min", "load_max", "other_cores", "date",
              "hardware")


def write_report(host: str, suite: str, markdown: str, rows: list[dict], out_dir: Path | None = None) -> Path:
    """Replace ``suite``'s section of ``bench_<host>.md`` and its rows of ``bench_<host>.csv``."""
    out_dir = Path(out_dir or REPO / "results")
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path, csv_path = out_dir / f"bench_{host}.md", out_dir / f"bench_{host}.csv"
    begin, end = f"<!-- suite:{suite} -->", f"<!-- /suite:{suite} -->"
    text = md_path.read_text() if md_path.exists() else (
        f"# Benchmarks on `{host}`\n\nWritten by `python -m lra.bench --suite <name> --host {host}`; each "
        "section is replaced when its suite is rerun. No GPU or TPU was available for these runs.\n")
    block = f"{begin}\n{markdown.rstrip()}\n{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    atomic.write_text(md_path, text if text.endswith("\n") else text + "\n")
    kept = []
    if csv_path.exists():
        with open(csv_path, newline="") as handle:
            kept = [r for r in csv.DictReader(handle) if r.get("suite") != suite]
    handle = io.StringIO()
    writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for r in kept + [{"suite": suite, **r} for r in rows]:
        writer.writerow({k: r.get(k, "") for k in CSV_FIELDS})
    atomic.write_text(csv_path, handle.getvalue())
    return md_path


def header(title: str, command: str, loads: LoadLog, extra: str = "") -> str:
    return (f"## {title}\n\nCommand: `{command}`  \nDate: {datetime.datetime.now().isoformat(timespec='minutes')}  \n"
            f"Hardware: {hardware()}  \n{loads.note()}  \n{extra}\n")


def entry(section, case, metric, value, unit, loads: LoadLog) -> dict:
    shown = f"{value:.6g}" if isinstance(value, float) else value
    return {"section": section, "case": case, "metric": metric, "value": shown,
            "unit": unit, "load_min": f"{min(loads.samples):.2f}", "load_max": f"{max(loads.samples):.2f}",
            "other_cores": "" if loads.other_cores() is None else f"{loads.other_cores():.2f}",
            "date": datetime.date.today().isoformat(), "hardware": hardware()}


def table(columns: list[str], lines: list[list[str]]) -> str:
    out = io.StringIO()
    out.write("| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n")
    for line in lines:
        out.write("| " + " | ".join(line) + " |\n")
    return out.getvalue()

#!/usr/bin/env python3
"""Validate a large fMP4 with msetool, mp4box.js and ffprobe, side by side in one run.

  python benchmarks/bench_validate.py [--fragments 600] [--scale10] [--runs 3]

Builds benchmarks/work/big-<N>.mp4 (make_big_fmp4.py; ~1.8 MB per fragment, so 600 fragments is ~1 GB),
installs the peers on first use (mp4box.js from npm into benchmarks/node, ffprobe from Debian's ffmpeg
package), warms the page cache, then times each tool `--runs` times and reports the median wall time and the
peak resident memory (ru_maxrss of the child, from wait4). Peers never become msetool dependencies.

What each tool does, kept comparable:
- msetool: `msetool validate FILE --format json`: every box header, every moof/traf/trun decoded into the
  sample tables, all rules (mdat payloads are seeked past).
- mp4box.js: parses every box and every moof/trun, mdat data not kept, reading the file where it asks
  (benchmarks/node/mp4box_parse.mjs).
- ffprobe: `ffprobe -show_entries packet=pts,dts,duration,size,flags -of csv`: the demuxer's per-sample view.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"


def ensure_peers() -> None:
    if not (HERE / "node" / "node_modules" / "mp4box").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE / "node", check=True)
    if not shutil.which("ffprobe"):
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "ffmpeg"], check=True)


def measure(cmd: list[str]) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in MB, exit code) of one run of cmd, output discarded."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss // 1024, p.returncode


def bench(path: Path, runs: int) -> dict[str, tuple[float, int, int]]:
    tools = {
        "msetool": [sys.executable, "-m", "msetool", "validate", str(path), "--format", "json"],
        "mp4box.js": ["node", str(HERE / "node" / "mp4box_parse.mjs"), str(path)],
        "ffprobe": ["ffprobe", "-v", "error", "-show_entries", "packet=pts,dts,duration,size,flags",
                    "-of", "csv", str(path)],
    }
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    out = {}
    for name, cmd in tools.items():
        results = [measure(cmd) for _ in range(runs)]
        wall = statistics.median(r[0] for r in results)
        out[name] = (wall, max(r[1] for r in results), results[-1][2])
        print(f"  {name:10s} {wall:7.2f} s  peak {out[name][1]:5d} MB  exit {results[-1][2]}", file=sys.stderr)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fragments", type=int, default=600)
    ap.add_argument("--scale10", action="store_true", help="also measure msetool's memory on a 10x file")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    ensure_peers()
    WORK.mkdir(exist_ok=True)
    sizes = [args.fragments] + ([args.fragments * 10] if args.scale10 else [])
    rows = []
    for n in sizes:
        path = WORK / f"big-{n}.mp4"
        if not path.exists():
            subprocess.run([sys.executable, str(HERE / "make_big_fmp4.py"), str(path), "--fragments", str(n)],
                           check=True)
        gb = path.stat().st_size / 1e9
        print(f"{path.name}: {gb:.2f} GB, {n} fragments", file=sys.stderr)
        res = bench(path, args.runs if n == args.fragments else 1)
        rows.append((n, gb, res))
    print("| file | tool | median wall (s) | peak RSS (MB) | msetool speed-up |")
    print("|---|---|---:|---:|---:|")
    for n, gb, res in rows:
        base = res["msetool"][0]
        for name, (wall, rss, _rc) in res.items():
            ratio = "1.00x" if name == "msetool" else f"{wall / base:.2f}x"
            print(f"| {n} fragments, {gb:.2f} GB | {name} | {wall:.2f} | {rss} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

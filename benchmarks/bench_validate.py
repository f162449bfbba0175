#!/usr/bin/env python3
"""Validate large fMP4, WebM and MPEG-TS files with msetool and with peers, side by side in one run.

  python benchmarks/bench_validate.py [--fragments 600] [--scale10] [--runs 3] [--formats mp4,webm,ts]

Builds the inputs in benchmarks/work (not committed): big-<N>.mp4 (make_big_fmp4.py; ~1.8 MB per fragment,
so 600 fragments is ~1 GB), big-<N>.webm (make_big_webm.py; VP9 video, ~1.7 MB per Cluster) and big-<N>.ts
(the fMP4's H.264+AAC remuxed by ffmpeg with ``-c copy -f mpegts``). Installs the peers on first use
(mp4box.js from npm into benchmarks/node, ffprobe from Debian's ffmpeg package), warms the page cache, then
times each tool ``--runs`` times and reports the median wall time and the peak resident memory (ru_maxrss of
the child, from wait4). Peers never become msetool dependencies. ``--scale10`` adds a ten times larger fMP4
(one run) to show that memory does not grow with the file.

msetool runs as an installed package would: the working tree is installed (not editable, with its
dependencies) into a virtual environment of its own, ``benchmarks/work/venv``, refreshed on every run, and its
``msetool`` console script is timed; one untimed warm-up run writes the bytecode (this environment sets
PYTHONDONTWRITEBYTECODE, which the benchmark clears for msetool). ``--in-place`` times
``python -m msetool`` of the current interpreter instead (an editable development install pays for its
import hooks and for whatever ``.pth`` files its site-packages holds).

The tools take turns (run 1 of every tool, then run 2, ...), so a change of machine load hits all of them;
the table gives each tool's median wall time and median CPU time (user + system of the child, from wait4).

What each tool does, kept comparable:
- msetool: ``msetool validate FILE --format json``: every box header / EBML element / TS packet, every
  moof/traf/trun decoded into the sample tables, all rules, the random-access samples' H.264 bytes analysed;
  other sample bytes are skipped, not read. ``msetool --deep`` also reads and analyses every H.264 sample.
- mp4box.js (MP4 only): parses every box and every moof/trun, mdat data not kept, reading the file where it
  asks (benchmarks/node/mp4box_parse.mjs).
- ffprobe: ``ffprobe -show_entries packet=pts,dts,duration,size,flags -of csv``: the demuxer's per-sample
  view (reads every packet).
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
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE / "node",
                       check=True)
    if not shutil.which("ffprobe"):
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "ffmpeg"], check=True)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    node = subprocess.run(["node", "--version"], check=False, capture_output=True, text=True).stdout.strip()
    ffp = subprocess.run(["ffprobe", "-version"], check=False, capture_output=True, text=True).stdout
    ffp = ffp.split("\n")[0]
    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Python {sys.version.split()[0]}, "
            f"node {node}, {ffp}")


def msetool_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


VENV = WORK / "venv"


def install_msetool() -> list[str]:
    """Install the working tree into benchmarks/work/venv as a user's ``pip install`` would; the command."""
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "--force-reinstall", "--no-deps", str(HERE.parent)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    str(HERE.parent)], check=True)  # dependencies, once
    return [str(VENV / "bin" / "msetool")]


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, peak RSS in MB, exit code) of one run of cmd, output discarded."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, p.returncode


MSETOOL: list[str] = [sys.executable, "-m", "msetool"]


def tools(path: Path, deep: bool) -> dict[str, tuple[list[str], dict[str, str] | None]]:
    validate = [*MSETOOL, "validate", str(path), "--format", "json"]
    out: dict[str, tuple[list[str], dict[str, str] | None]] = {"msetool": (validate, msetool_env())}
    if deep:
        out["msetool --deep"] = ([*validate, "--deep"], msetool_env())
    if path.suffix == ".mp4":
        out["mp4box.js"] = (["node", str(HERE / "node" / "mp4box_parse.mjs"), str(path)], None)
    out["ffprobe"] = (["ffprobe", "-v", "error", "-show_entries", "packet=pts,dts,duration,size,flags",
                       "-of", "csv", str(path)], None)
    return out


def bench(path: Path, runs: int, deep: bool = False) -> dict[str, tuple[float, float, int, int]]:
    """Per tool: (median wall, median CPU, peak RSS, last exit code); the tools take turns."""
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    todo = tools(path, deep)
    measure(*todo["msetool"])  # untimed: writes the bytecode an installed package would have
    results: dict[str, list[tuple[float, float, int, int]]] = {name: [] for name in todo}
    for _ in range(runs):
        for name, (cmd, env) in todo.items():
            results[name].append(measure(cmd, env))
    out = {}
    for name, rs in results.items():
        wall = statistics.median(r[0] for r in rs)
        cpu = statistics.median(r[1] for r in rs)
        out[name] = (wall, cpu, max(r[2] for r in rs), rs[-1][3])
        print(f"  {name:15s} {wall:7.2f} s  cpu {cpu:6.2f} s  peak {out[name][2]:5d} MB  exit {rs[-1][3]}",
              file=sys.stderr)
    return out


def build(fmt: str, n: int) -> Path:
    path = WORK / f"big-{n}.{fmt}"
    if path.exists():
        return path
    if fmt == "mp4":
        subprocess.run([sys.executable, str(HERE / "make_big_fmp4.py"), str(path), "--fragments", str(n)],
                       check=True)
    elif fmt == "webm":
        subprocess.run([sys.executable, str(HERE / "make_big_webm.py"), str(path), "--clusters", str(n)],
                       check=True)
    else:
        src = build("mp4", n)
        from make_big_fmp4 import ffmpeg

        tmp = path.with_name(path.name + ".part")
        subprocess.run([ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(src), "-c", "copy",
                        "-f", "mpegts", str(tmp)], check=True, stdin=subprocess.DEVNULL)
        os.replace(tmp, path)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fragments", type=int, default=600, help="fragments (MP4, TS) / Clusters (WebM)")
    ap.add_argument("--scale10", action="store_true", help="also measure a 10x fMP4 (one run)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--formats", default="mp4,webm,ts")
    ap.add_argument("--in-place", action="store_true",
                    help="time `python -m msetool` of this interpreter instead of a fresh installed copy")
    args = ap.parse_args()
    ensure_peers()
    WORK.mkdir(exist_ok=True)
    if not args.in_place:
        MSETOOL[:] = install_msetool()
    sys.path.insert(0, str(HERE))
    jobs = [(fmt, args.fragments, args.runs) for fmt in args.formats.split(",")]
    if args.scale10:
        jobs.append(("mp4", args.fragments * 10, 1))
    rows = []
    for fmt, n, runs in jobs:
        path = build(fmt, n)
        gb = path.stat().st_size / 1e9
        unit = "Clusters" if fmt == "webm" else "fragments"
        print(f"{path.name}: {gb:.2f} GB, {n} {unit}", file=sys.stderr)
        res = bench(path, runs, deep=fmt == "mp4" and n == args.fragments)
        rows.append((path.name, gb, runs, res))
    print(f"Machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the end\n")
    print("| file | tool | runs | median wall (s) | median CPU (s) | peak RSS (MB) | wall / msetool's |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, gb, runs, res in rows:
        base = res["msetool"][0]
        for tool, (wall, cpu, rss, rc) in res.items():
            ratio = "1.00" if tool == "msetool" else f"{wall / base:.2f}"
            flag = "" if rc in (0, 1) else f" (exit {rc})"
            print(f"| {name} ({gb:.2f} GB) | {tool}{flag} | {runs} | {wall:.2f} | {cpu:.2f} | {rss} "
                  f"| {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

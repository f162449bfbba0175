"""``msetool simulate`` without click: run appends (files, a folder, a manifest or a scenario) through the MSE
model. The click declaration and help text are in :mod:`msetool.cli.simulate_cmd`; plain argument lists
reach :func:`run_simulate` without click (:mod:`msetool.cli.fast`)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from msetool.cli.run import echo
from msetool.errors import UsageError
from msetool.report import exitcodes


def _natural(name: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _sniff_type(path: Path, profile: str) -> str:
    """The addSourceBuffer() type for an init segment: container by magic, codecs from its tracks."""
    from msetool.mime import parse_mime
    from msetool.rules.engine import default_mime, sniff_format
    from msetool.stream import InitSegmentParsed, parser_for

    try:
        data = path.read_bytes()
    except OSError as e:
        raise UsageError(f"{path}: cannot read: {e.strerror or e}") from None
    fmt = sniff_format(data[:512])
    if fmt is None:
        raise UsageError(f"{path}: not a recognised MSE byte stream (give the type with --type)")
    mime = default_mime(fmt, data[:512])
    if fmt == "mpeg":
        return mime.essence
    try:
        parser = parser_for(mime, profile)  # type: ignore[arg-type]
        events = parser.feed(data)
    except Exception:
        return mime.essence
    for ev in events:
        if isinstance(ev, InitSegmentParsed):
            tracks = [t for t in ev.init.tracks if t.kind in ("audio", "video")]
            kind = "video" if any(t.kind == "video" for t in tracks) else "audio"
            codecs = ",".join(t.codec for t in tracks if t.codec)
            sub = parse_mime(mime.essence).subtype
            return f'{kind}/{sub}; codecs="{codecs}"' if codecs else f"{kind}/{sub}"
    return mime.essence


def _scenario_from_files(paths: list[Path], type_: str | None, profile: str) -> Any:
    """Files in the given order into one SourceBuffer; a folder holds one SourceBuffer per track set; an
    mse.json manifest (msetool fragment) gives one SourceBuffer per rendition kind (its first rendition)."""
    from msetool.scenario import parse_scenario

    if len(paths) == 1 and paths[0].is_dir():
        return _scenario_from_dir(paths[0], type_, profile)
    if len(paths) == 1 and paths[0].suffix == ".json" and paths[0].name != "case.json":
        return _scenario_from_manifest(paths[0], type_, profile)
    for p in paths:
        if not p.is_file():
            raise UsageError(f"{p}: no such file")
    base = Path(paths[0]).parent
    t = type_ or _sniff_type(paths[0], profile)
    ops = [{"op": "append", "file": str(p.resolve())} for p in paths]
    return parse_scenario({"id": "files", "sourceBuffers": [{"id": "sb0", "type": t}], "ops": ops}, base)


def _scenario_from_dir(folder: Path, type_: str | None, profile: str) -> Any:
    from msetool.scenario import parse_scenario

    if (folder / "mse.json").is_file():
        return _scenario_from_manifest(folder / "mse.json", type_, profile)
    if (folder / "case.json").is_file():
        from msetool.scenario import load_scenario

        return load_scenario(folder / "case.json")
    files = sorted(
        (p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
        key=lambda p: _natural(p.name),
    )
    inits = [p for p in files if "init" in p.name.lower()]
    if not inits:
        inits = files[:1]
    if not inits:
        raise UsageError(f"{folder}: no media files")
    sets: dict[Path, list[Path]] = {i: [] for i in inits}
    prefixes = {i: i.name.lower().split("init")[0] for i in inits}
    for p in files:
        if p in sets:
            continue
        best = max(inits, key=lambda i: (p.name.lower().startswith(prefixes[i]), len(prefixes[i])))
        sets[best].append(p)
    sbs, ops = [], []
    for n, init in enumerate(sets):
        sb_id = f"sb{n}"
        sbs.append({"id": sb_id, "type": type_ or _sniff_type(init, profile)})
        ops.append({"op": "append", "file": init.name, "sb": sb_id})
    longest = max(len(s) for s in sets.values())
    for k in range(longest):  # interleave the track sets segment by segment, like a player does
        for n, segs in enumerate(sets.values()):
            if k < len(segs):
                ops.append({"op": "append", "file": segs[k].name, "sb": f"sb{n}"})
    return parse_scenario({"id": folder.name, "sourceBuffers": sbs, "ops": ops}, folder)


def _scenario_from_manifest(path: Path, type_: str | None, profile: str) -> Any:
    from msetool.scenario import parse_scenario

    try:
        man = json.loads(path.read_text(encoding="utf-8"))
        rends = man["renditions"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UsageError(f"{path}: not an mse.json manifest ({e})") from None
    sbs, ops, segs = [], [], []
    seen_kinds: set[str] = set()
    chosen = []
    for r in rends:  # a player plays one rendition per kind: the first of each
        kind = str(r.get("kind", r.get("id", "")))
        if kind not in seen_kinds:
            seen_kinds.add(kind)
            chosen.append(r)
    for n, r in enumerate(chosen):
        sb_id = str(r.get("id", f"sb{n}"))
        t = type_ or r.get("type") or _sniff_type(path.parent / r["init"], profile)
        sbs.append({"id": sb_id, "type": t})
        ops.append({"op": "append", "file": r["init"], "sb": sb_id})
        for s in r.get("segments", []):
            segs.append((float(s.get("start", 0)), n, s["file"], sb_id))
    for _start, _n, f, sb_id in sorted(segs, key=lambda x: (x[0], x[1])):
        ops.append({"op": "append", "file": f, "sb": sb_id})
    return parse_scenario({"id": path.parent.name, "sourceBuffers": sbs, "ops": ops}, path.parent)


def _op_text(op: dict[str, Any]) -> str:
    name = str(op.get("op", "?"))
    args = {k: v for k, v in op.items() if k not in ("op", "ops")}
    if name == "append":
        f = Path(str(args.pop("file"))).name
        extra = f" [{args['range'][0]}:{args['range'][1]}]" if "range" in args else ""
        return f"append {f}{extra}" + (f" -> {args['sb']}" if "sb" in args else "")
    if name == "batch":
        return "batch(" + ", ".join(_op_text(o) for o in op.get("ops", [])) + ")"
    return name + (" " + " ".join(f"{k}={v}" for k, v in args.items()) if args else "")


def _fmt_ranges(r: list[list[Any]] | None) -> str:
    if r is None:
        return "(detached)"
    if not r:
        return "{ }"
    return "{ " + " ".join(f"[{_t(a)}, {_t(b)})" for a, b in r) + " }"


def _t(v: Any) -> str:
    return v if isinstance(v, str) else f"{v:.6f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


def _timeline(ranges: list[list[Any]], lo: float, hi: float, width: int = 48) -> str:
    if hi <= lo:
        return ""
    cells = [" "] * width
    for a, b in ranges:
        if isinstance(a, str) or isinstance(b, str):
            continue
        i0 = int((a - lo) / (hi - lo) * width)
        i1 = max(i0 + 1, int((b - lo) / (hi - lo) * width + 0.999))
        for i in range(max(0, i0), min(width, i1)):
            cells[i] = "█"
    return "".join(cells)


def render_text(result: dict[str, Any]) -> str:
    from io import StringIO

    from rich.console import Console

    buf = StringIO()
    con = Console(file=buf, force_terminal=sys.stdout.isatty(), width=110, highlight=False)
    con.print(f"[bold]simulate[/] {result['scenario']}  (profile {result['profile']})")
    for s in result["setup"]["addSourceBuffer"]:
        mark = "[green]ok[/]" if s["ok"] else f"[red]{s['exception']}[/] {s.get('message', '')}"
        con.print(f"  addSourceBuffer {s['id']} {s['type']}: {mark}")
    hi = 0.0
    for st in result["steps"]:
        for sbst in st["state"]["sourceBuffers"].values():
            for _a, b in sbst.get("buffered") or []:
                if not isinstance(b, str):
                    hi = max(hi, float(b))
    for st in result["steps"]:
        status = "[green]ok[/]"
        if st["error"]:
            status = f"[red]append error[/]: {st['error']['message']}"
            if st["error"].get("file"):
                e = st["error"]
                box = f" {e['box']}" if e.get("box") else ""
                status += f" ({e['file']}@{e['offset']}{box})"
        elif st["exception"]:
            status = f"[red]{st['exception']}[/]: {st.get('exceptionMessage') or ''}"
        con.print(f"[bold]{st['index']:>3}[/] {_op_text(st['op'])}: {status}")
        for b in st.get("batch") or []:
            if b["exception"]:
                con.print(f"      {_op_text(b['op'])}: [red]{b['exception']}[/]")
        ms = st["state"]["mediaSource"]
        con.print(f"      mediaSource {ms['readyState']} duration={_t(ms['duration'])}")
        for sb_id, sbst in st["state"]["sourceBuffers"].items():
            line = f"      {sb_id:<6} {_fmt_ranges(sbst['buffered']):<40}"
            if sbst.get("buffered") and hi > 0:
                line += f" |{_timeline(sbst['buffered'], 0.0, hi)}|"
            con.print(line)
        if st["events"]:
            con.print(
                "      events: " + " ".join(f"{e['type']}@{e['target']}" for e in st["events"]), style="dim"
            )
        for w in st["warnings"]:
            con.print(f"      [yellow]warning[/] {w['message']}")
    failed = [s for s in result["steps"] if s["error"] or s["exception"]]
    con.print(f"{len(result['steps'])} operation(s), {len(failed)} failed")
    return str(buf.getvalue())


def run_simulate(
    files: tuple[Path, ...],
    scenario_path: Path | None,
    type_: str | None,
    profile: str,
    fmt: str,
    *,
    html_path: str | None = None,
) -> None:
    """``msetool simulate`` (help text in :mod:`msetool.cli.simulate_cmd`); exits 0 or 1."""
    from msetool.mse.scenario_runner import run_scenario
    from msetool.scenario import load_scenario

    if scenario_path is not None and files:
        raise UsageError("give either FILES or --scenario, not both")
    if scenario_path is not None:
        scn = load_scenario(scenario_path)
    elif files:
        scn = _scenario_from_files(list(files), type_, profile)
    else:
        raise UsageError("nothing to simulate: give FILES, a folder, or --scenario FILE")
    result = run_scenario(scn, profile)
    if html_path:
        from msetool.report.html import simulate_page, write_html

        write_html(html_path, simulate_page(result, scn))
    if fmt == "json":
        echo(json.dumps(result, indent=1))
    else:
        echo(render_text(result), nl=False)
    # an append error, a throwing call, or a media element error (e.g. a decode error after an append that
    # itself succeeded): the stream does not play
    failed = any(
        s["error"] or s["exception"] or (s["state"].get("video") or {}).get("error") for s in result["steps"]
    )
    sys.exit(exitcodes.FINDINGS if failed else exitcodes.OK)

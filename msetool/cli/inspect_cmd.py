"""``msetool inspect FILE...``: the box tree and the segment model, the way msetool reads them.

For a user this answers "what is in this file, where": every box with its offset, size and path (the same
paths findings use), the fields that matter for MSE, structural problems, and the segment model (tracks,
codec strings, per-fragment sample counts and time spans). ISO BMFF is read fully; WebM gets its element
tree. Memory stays constant: boxes are printed as they are read and mdat payloads are never read.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from msetool.bmff.reader import iter_boxes
from msetool.bmff.segments import Mp4Init, SegmentError, expand_fragment, read_init
from msetool.bmff.tree import Box, BoxIssue
from msetool.cli.common import CONTEXT_SETTINGS, handle_errors
from msetool.errors import ParseError, UsageError
from msetool.report import exitcodes
from msetool.source import FileSource

#: Fields shown in the text tree per box type (all fields go to JSON).
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "ftyp": ("major_brand", "minor_version", "compatible_brands"),
    "styp": ("major_brand", "compatible_brands"),
    "mvhd": ("timescale", "duration", "next_track_ID"),
    "tkhd": ("track_ID", "duration", "width", "height"),
    "mdhd": ("timescale", "duration", "language"),
    "hdlr": ("handler_type", "name"),
    "elst": ("entries",),
    "mehd": ("fragment_duration",),
    "trex": ("track_ID", "default_sample_description_index", "default_sample_duration", "default_sample_size",
             "default_sample_flags"),
    "stsd": ("entry_count",),
    "stts": ("entry_count",), "stsc": ("entry_count",), "stco": ("entry_count",), "co64": ("entry_count",),
    "stsz": ("sample_size", "sample_count"),
    "avcC": ("AVCProfileIndication", "profile_compatibility", "AVCLevelIndication", "lengthSizeMinusOne"),
    "hvcC": ("general_profile_idc", "general_tier_flag", "general_level_idc"),
    "av1C": ("seq_profile", "seq_level_idx_0", "seq_tier_0", "high_bitdepth"),
    "vpcC": ("profile", "level", "bitDepth"),
    "esds": ("objectTypeIndication", "AudioSpecificConfig"),
    "dOps": ("OutputChannelCount", "PreSkip", "InputSampleRate"),
    "dfLa": ("sample_rate", "channels", "bits_per_sample"),
    "mfhd": ("sequence_number",),
    "tfhd": ("track_ID", "default_base_is_moof", "base_data_offset", "default_sample_duration",
             "default_sample_size", "default_sample_flags"),
    "tfdt": ("base_media_decode_time",),
    "trun": ("sample_count", "data_offset", "first_sample_flags"),
    "sidx": ("reference_ID", "timescale", "earliest_presentation_time", "reference_count"),
    "emsg": ("scheme_id_uri", "value", "timescale", "event_duration", "id"),
    "prft": ("reference_track_ID", "media_time"),
    "pssh": ("SystemID", "DataSize"),
    "schm": ("scheme_type",), "frma": ("data_format",),
    "tenc": ("default_isProtected", "default_Per_Sample_IV_Size", "default_KID"),
    "senc": ("sample_count",), "saiz": ("default_sample_info_size", "sample_count"), "saio": ("entry_count",),
}
_ENTRY_FIELDS = ("width", "height", "channelcount", "samplesize", "samplerate")


def _short(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_short(x) for x in v[:6]) + (", ..." if len(v) > 6 else "") + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_short(x)}" for k, x in v.items()) + "}"
    if isinstance(v, bytes):
        return v[:16].hex() + ("..." if len(v) > 16 else "")
    to_json = getattr(v, "to_json", None)
    if callable(to_json):
        return _short(to_json())
    return str(v)


def _fields_text(box: Box) -> str:
    names = KEY_FIELDS.get(box.type)
    if names is None and box.type in _SAMPLE_ENTRY_TYPES:
        names = _ENTRY_FIELDS
    if not names:
        return ""
    parts = [f"{n}={_short(box.fields[n])}" for n in names if n in box.fields]
    return " ".join(parts)


def _sample_entry_types() -> frozenset[str]:
    from msetool.bmff.boxes import SAMPLE_ENTRIES

    return SAMPLE_ENTRIES


_SAMPLE_ENTRY_TYPES = _sample_entry_types()


class _Mp4Inspection:
    """Walks one file once, producing tree lines / JSON and the segment model as it goes."""

    def __init__(self, path: Path, *, samples: bool, use_pymp4: bool, max_depth: int | None,
                 init: Mp4Init | None = None) -> None:
        self.path = path
        self.samples = samples
        self.use_pymp4 = use_pymp4
        self.max_depth = max_depth
        self.issues: list[BoxIssue] = []
        #: the init segment media segments are read against (carried over from earlier files)
        self.init: Mp4Init | None = init
        self.own_init = False
        self.problems: list[dict[str, Any]] = []
        self.fragments: list[dict[str, Any]] = []

    def run(self) -> Iterator[tuple[Box, list[dict[str, Any]]]]:
        with FileSource(self.path) as src:
            ftyp: Box | None = None
            for box in iter_boxes(src, issues=self.issues):
                notes: list[dict[str, Any]] = []
                if box.type == "ftyp":
                    ftyp = box
                elif box.type == "moov":
                    try:
                        self.init = read_init(box, ftyp)
                        self.own_init = True
                    except SegmentError as e:
                        self.problems.append({"message": e.message, "offset": e.offset, "box": e.path,
                                              "rule": e.rule})
                elif box.type == "moof":
                    notes.extend(self._fragment(box))
                if self.use_pymp4 and not box.truncated and box.type != "mdat" and box.size <= 16 << 20:
                    notes.append(self._pymp4(src, box))
                yield box, notes

    def _fragment(self, moof: Box) -> list[dict[str, Any]]:
        if self.init is None:
            self.problems.append({"message": "media segment before any initialization segment",
                                  "offset": moof.offset, "box": moof.path, "rule": "GEN-11"})
            return []
        frag = expand_fragment(moof, self.init, dialect="iso")
        for msg, off, p, rule in frag.problems:
            self.problems.append({"message": msg, "offset": off, "box": p, "rule": rule})
        out: dict[str, Any] = {"moof": moof.path, "offset": moof.offset,
                               "sequence_number": frag.sequence_number, "tracks": []}
        for t in frag.tables:
            entry: dict[str, Any] = {
                "track_ID": t.track_id, "samples": len(t), "timescale": t.timescale,
                "base_media_decode_time": t.base_media_decode_time,
                "first_dts": t.dts[0] if t.dts else None, "end_dts": t.end_dts,
                "first_pts": min(t.pts) if t.pts else None,
                "end_pts": max(p + d for p, d in zip(t.pts, t.duration, strict=True)) if t.pts else None,
                "keyframes": sum(t.keyframe), "first_is_keyframe": bool(t.keyframe and t.keyframe[0]),
                "data": [t.data_start, t.data_end],
            }
            if self.samples:
                entry["sample_table"] = [
                    {"dts": d, "pts": p, "duration": du, "size": s, "offset": o, "sync": k}
                    for d, p, du, s, o, k in zip(t.dts, t.pts, t.duration, t.size, t.offset, t.keyframe,
                                                 strict=True)
                ]
            out["tracks"].append(entry)
        self.fragments.append(out)
        return [{"fragment": out}]

    def _pymp4(self, src: FileSource, box: Box) -> dict[str, Any]:
        from msetool.bmff import _pymp4

        data = src.read_at(box.offset, box.size)
        try:
            return {"pymp4": _pymp4.decode(data, base=box.offset, path=box.path)}
        except ParseError as e:
            return {"pymp4_error": {"message": e.reason, "offset": e.offset, "box": e.path}}

    def tracks_json(self) -> list[dict[str, Any]]:
        if self.init is None:
            return []
        out = []
        for info in self.init.init.tracks:
            d = {k: getattr(info, k) for k in info.__slots__}
            t = self.init.track(info.track_id)
            if t is not None:
                d["trex"] = t.trex
                d["edit_list"] = t.edits
                d["codec_problem"] = next((c.problem for c in t.codecs if c.problem), None)
            out.append(d)
        return out


def _tree_lines(box: Box, max_depth: int | None) -> Iterator[tuple[int, Box]]:
    def rec(b: Box, depth: int) -> Iterator[tuple[int, Box]]:
        yield depth, b
        if max_depth is None or depth < max_depth:
            for c in b.children:
                yield from rec(c, depth + 1)

    yield from rec(box, 0)


def _is_mp4(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    return head != b"\x1a\x45\xdf\xa3"


def _inspect_webm_json(path: Path) -> dict[str, Any]:
    from msetool.webm.tree import Element, Problem, walk

    elements: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    with FileSource(path) as src:
        for ev in walk(src):
            if isinstance(ev, Element):
                elements.append({"name": ev.name, "id": f"0x{ev.id:X}", "offset": ev.offset,
                                 "size": ev.size, "path": ev.path, "depth": ev.depth})
            elif isinstance(ev, Problem):
                problems.append({"kind": ev.kind, "message": ev.message, "offset": ev.offset,
                                 "path": ev.path})
    return {"path": str(path), "format": "webm", "elements": elements, "issues": problems}


@click.command("inspect", context_settings=CONTEXT_SETTINGS)
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="Output format.",
)
@click.option("--samples", is_flag=True,
              help="Include every sample (DTS, PTS, duration, size, offset, sync).")
@click.option("--depth", type=int, default=None, help="Print the tree down to this depth only (text).")
@click.option("--pymp4", "use_pymp4", is_flag=True, help="Also decode each top-level box with pymp4.")
@handle_errors
def inspect(files: tuple[Path, ...], fmt: str, samples: bool, depth: int | None, use_pymp4: bool) -> None:
    """Print the box tree (offsets, sizes, paths, key fields) and the segment model of FILES.

    Exit codes: 0 readable, 1 structural problems found, 2 usage or I/O error.
    """
    problems = False
    results: list[dict[str, Any]] = []
    # Files are read in append order: media segments use the last init segment seen, as in MSE.
    init: Mp4Init | None = None
    for path in files:
        if not _is_mp4(path):
            res = _inspect_webm_json(path)
            problems |= bool(res["issues"])
            if fmt == "json":
                results.append(res)
            else:
                _print_webm_text(res)
            continue
        insp = _Mp4Inspection(path, samples=samples, use_pymp4=use_pymp4, max_depth=depth, init=init)
        if fmt == "json":
            boxes = []
            for box, notes in insp.run():
                j = box.to_json()
                for n in notes:
                    if "pymp4" in n or "pymp4_error" in n:
                        j.update(n)
                boxes.append(j)
            results.append({
                "path": str(path), "format": "mp4", "boxes": boxes,
                "issues": [i.to_json() for i in insp.issues],
                "init": {"tracks": insp.tracks_json(),
                         "duration": str(insp.init.init.duration) if insp.init and insp.init.init.duration
                         else None} if insp.init and insp.own_init else None,
                "fragments": insp.fragments, "problems": insp.problems,
            })
        else:
            _print_mp4_text(insp, depth)
        problems |= bool(insp.issues or insp.problems)
        init = insp.init
    if fmt == "json":
        json.dump({"files": results}, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
    sys.exit(exitcodes.FINDINGS if problems else exitcodes.OK)


def _print_mp4_text(insp: _Mp4Inspection, depth: int | None) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    console.print(f"[bold]{escape(str(insp.path))}[/bold]")
    for box, notes in insp.run():
        for d, b in _tree_lines(box, depth):
            flags = " [red](truncated)[/red]" if b.truncated else ""
            fields = _fields_text(b)
            console.print(f"{'  ' * d}[cyan]{escape(b.type)}[/cyan] @{b.offset} size={b.size} "
                          f"[dim]{escape(b.path)}[/dim]{flags} {escape(fields)}")
        for n in notes:
            if "fragment" in n:
                for t in n["fragment"]["tracks"]:
                    console.print(
                        f"    [green]track {t['track_ID']}[/green]: {t['samples']} samples, dts "
                        f"{t['first_dts']}..{t['end_dts']} pts {t['first_pts']}..{t['end_pts']} "
                        f"(/{t['timescale']}), {t['keyframes']} sync, first sync={t['first_is_keyframe']}, "
                        f"data {t['data'][0]}..{t['data'][1]}")
                    for s in t.get("sample_table", []):
                        console.print(f"      dts={s['dts']} pts={s['pts']} dur={s['duration']} "
                                      f"size={s['size']} @{s['offset']}{' sync' if s['sync'] else ''}")
            elif "pymp4_error" in n:
                e = n["pymp4_error"]
                console.print(f"    [yellow]pymp4: {escape(e['message'])} at {e['offset']} {escape(e['box'])}"
                              "[/yellow]")
            elif "pymp4" in n:
                console.print(f"    [dim]pymp4: {escape(json.dumps(n['pymp4'], default=str)[:300])}[/dim]")
    if insp.init is not None and insp.own_init:
        console.print("[bold]init segment[/bold]")
        for t in insp.tracks_json():
            extra = f" {t['width']}x{t['height']}" if t.get("width") else ""
            extra += f" {t['sample_rate']} Hz {t['channels']} ch" if t.get("sample_rate") else ""
            off = f" presentation_offset={t['presentation_offset']}" if t["presentation_offset"] else ""
            console.print(f"  track {t['track_id']} {t['kind']} [bold]{escape(t['codec'])}[/bold] "
                          f"timescale={t['timescale']}{extra}{off}")
    for i in insp.issues:
        console.print(f"[red]{escape(i.kind)}[/red] @{i.offset} {escape(i.path)}: {escape(i.message)}")
    for p in insp.problems:
        console.print(f"[red]{escape(p['rule'])}[/red] @{p['offset']} {escape(p['box'])}: "
                      f"{escape(p['message'])}")


def _print_webm_text(res: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    console.print(f"[bold]{escape(res['path'])}[/bold] (WebM)")
    for e in res["elements"]:
        console.print(f"{'  ' * e['depth']}[cyan]{escape(e['name'])}[/cyan] @{e['offset']} size={e['size']} "
                      f"[dim]{escape(e['path'])}[/dim]")
    for p in res["issues"]:
        console.print(f"[red]{escape(p['kind'])}[/red] @{p['offset']} {escape(p['path'])}: "
                      f"{escape(p['message'])}")

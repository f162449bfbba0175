"""Read back what ffmpeg wrote: per-track timescale and codec from the init segment, per-segment timing
from ``moof`` (never the ``mdat`` payload), and splitting a fragmented MP4 into init + media segments.

The manifests are built from these readings, not from what we asked ffmpeg for, so a manifest can never
disagree with the bytes it points at.

The codec string comes from :func:`msetool.codecs.derive.derive` (the same derivation ``msetool codecs``
prints); this module only reads the few fields packaging needs (timescale, edit list, trex defaults,
tfdt/trun timing) and flags the Chromium traps it can see on the way.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate
from operator import add
from pathlib import Path

from msetool.errors import ParseError
from msetool.fragment.boxwalk import esds_fields, walk

_CONTAINERS = {"moov", "trak", "mdia", "minf", "stbl", "mvex", "edts", "moof", "traf", "dinf"}


@dataclass(frozen=True, slots=True)
class Box:
    type: str
    offset: int
    size: int
    header: int

    @property
    def end(self) -> int:
        return self.offset + self.size

    @property
    def body(self) -> int:
        return self.offset + self.header


def iter_boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Box]:
    for typ, pos, size, header in walk(data, start, len(data) if end is None else end):
        yield Box(typ.decode("latin-1"), pos, size, header)


def _children(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int, int]]:
    """Every box in [start, end) as plain tuples, for the per-segment read-back (one scan of a traf
    instead of one per box looked up, and no record per box)."""
    return list(walk(data, start, end))


def find(data: bytes, path: str, start: int = 0, end: int | None = None) -> Box | None:
    """First box along ``a/b/c`` below [start, end)."""
    first, _, rest = path.partition("/")
    for b in iter_boxes(data, start, end):
        if b.type == first:
            return b if not rest else find(data, rest, b.body, b.end)
    return None


def find_all(data: bytes, box_type: str, start: int = 0, end: int | None = None) -> list[Box]:
    return [b for b in iter_boxes(data, start, end) if b.type == box_type]


@dataclass(frozen=True, slots=True)
class TrackLayout:
    track_id: int
    kind: str  # "video" | "audio" | "other"
    timescale: int
    coding_name: str
    codec: str
    width: int | None = None
    height: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    #: edit list media_time (ticks), subtracted from composition times to get presentation times.
    media_time: int = 0
    default_sample_duration: int = 0
    #: True when esds lacks a DecoderSpecificInfo (AudioSpecificConfig): Chromium cannot decode that.
    missing_asc: bool = False


def read_init(data: bytes, name: str = "") -> list[TrackLayout]:
    moov = find(data, "moov")
    if moov is None:
        raise ParseError("no moov box: not an initialization segment", 0, "", name)
    trex: dict[int, int] = {}
    mvex = find(data, "mvex", moov.body, moov.end)
    if mvex is not None:
        for b in find_all(data, "trex", mvex.body, mvex.end):
            tid, _, dur = struct.unpack_from(">III", data, b.body + 4)
            trex[tid] = dur
    tracks = []
    derived = derived_codecs(data)
    for n, trak in enumerate(find_all(data, "trak", moov.body, moov.end)):
        tkhd = find(data, "tkhd", trak.body, trak.end)
        mdhd = find(data, "mdia/mdhd", trak.body, trak.end)
        hdlr = find(data, "mdia/hdlr", trak.body, trak.end)
        stsd = find(data, "mdia/minf/stbl/stsd", trak.body, trak.end)
        if not (tkhd and mdhd and hdlr and stsd):
            raise ParseError("trak without tkhd/mdhd/hdlr/stsd", trak.offset, "moov/trak", name)
        v = data[tkhd.body]
        track_id = struct.unpack_from(">I", data, tkhd.body + (20 if v == 1 else 12))[0]
        mv = data[mdhd.body]
        timescale = struct.unpack_from(">I", data, mdhd.body + (20 if mv == 1 else 12))[0]
        handler = data[hdlr.body + 8 : hdlr.body + 12].decode("latin-1")
        kind = {"vide": "video", "soun": "audio"}.get(handler, "other")
        media_time = 0
        elst = find(data, "edts/elst", trak.body, trak.end)
        if elst is not None:
            ev = data[elst.body]
            count = struct.unpack_from(">I", data, elst.body + 4)[0]
            pos = elst.body + 8
            for _ in range(count):
                if ev == 1:
                    _dur, mt = struct.unpack_from(">Qq", data, pos)
                    pos += 20
                else:
                    _dur32, mt = struct.unpack_from(">Ii", data, pos)
                    pos += 12
                if mt >= 0:
                    media_time = mt
                    break
        entry = next(iter_boxes(data, stsd.body + 8, stsd.end), None)
        if entry is None:
            raise ParseError("empty stsd", stsd.offset, "stsd", name)
        info = _sample_entry(data, entry, kind)
        codec = entry.type
        if derived is not None and n < len(derived):
            codec, details = derived[n]
            # the AudioSpecificConfig, not the sample entry's channelcount (ffmpeg writes 2 for mono AAC)
            if _int(details.get("channelConfiguration")):
                info["channels"] = details["channelConfiguration"]
        tracks.append(
            TrackLayout(
                track_id=track_id, kind=kind, timescale=timescale, coding_name=entry.type,
                codec=str(codec), width=_int(info.get("width")), height=_int(info.get("height")),
                sample_rate=_int(info.get("sample_rate")), channels=_int(info.get("channels")),
                media_time=media_time, default_sample_duration=trex.get(track_id, 0),
                missing_asc=bool(info.get("missing_asc")),
            )
        )
    return tracks


def _int(v: object) -> int | None:
    return v if isinstance(v, int) else None


def _sample_entry(data: bytes, entry: Box, kind: str) -> dict[str, object]:
    out: dict[str, object] = {}
    if kind == "video":
        w, h = struct.unpack_from(">HH", data, entry.body + 24)
        out.update(width=w, height=h)
        children = entry.body + 78
    elif kind == "audio":
        ch, _bits = struct.unpack_from(">HH", data, entry.body + 16)
        rate = struct.unpack_from(">I", data, entry.body + 24)[0] >> 16
        out.update(channels=ch, sample_rate=rate)
        children = entry.body + 28
    else:
        return out
    _asc_check(data, entry, children, out)
    return out


def _asc_check(data: bytes, entry: Box, children: int, out: dict[str, object]) -> None:
    """Flag an AAC entry whose esds has no DecoderSpecificInfo (the ffmpeg-from-ADTS trap)."""
    if entry.type != "mp4a" or children >= entry.end:
        return
    esds = next((b for b in iter_boxes(data, children, entry.end) if b.type == "esds"), None)
    if esds is None:
        out["missing_asc"] = True
        return
    oti, aot = _esds(data, esds)
    if oti == 0x40 and aot == 0:
        out["missing_asc"] = True


def _esds(data: bytes, esds: Box) -> tuple[int, int]:
    """(objectTypeIndication, audioObjectType or 0 when there is no DecoderSpecificInfo)."""
    return esds_fields(data, esds.body, esds.end)


def derived_codecs(data: bytes) -> list[tuple[str, dict[str, object]]] | None:
    """(codec string, decoded details) per trak in order, from msetool.codecs.derive."""
    try:
        from msetool.bmff import parse_bytes
        from msetool.codecs.derive import derive
    except ImportError:
        return None
    try:
        boxes = parse_bytes(data)
    except Exception:
        return None
    moov = next((b for b in boxes if b.type == "moov"), None)
    if moov is None:
        return None
    out: list[tuple[str, dict[str, object]]] = []
    for trak in moov.all("trak"):
        stsd = trak.find("mdia/minf/stbl/stsd")
        if stsd is None or not stsd.children:
            return None
        d = derive(stsd.children[0])
        out.append((d.codec, dict(d.details)))
    return out


@dataclass(slots=True)
class SegmentTiming:
    """One media segment of one init's tracks, in ticks of each track's timescale."""

    file: str
    size: int
    #: track_id -> (earliest presentation time, decode start, total duration)
    tracks: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    fragments: int = 0
    #: Chromium traps found while reading (plain text, shown by the self-check).
    traps: list[str] = field(default_factory=list)
    keyframe_start: bool = True


def moofs_in_bytes(data: bytes) -> Iterator[tuple[int, bytes]]:
    for b in iter_boxes(data):
        if b.type == "moof":
            yield b.offset, data[b.offset : b.end]


def moofs_in_data(data: bytes, name: str = "") -> tuple[int, list[tuple[int, bytes]]]:
    """:func:`moofs_in_file` on a file already in memory (the self-check reads each segment once, for the
    simulator, and takes the moofs from those bytes)."""
    out: list[tuple[int, bytes]] = []
    size = len(data)
    pos = 0
    while pos + 8 <= size:
        box_size, typ = struct.unpack_from(">I4s", data, pos)
        if box_size == 1 and pos + 16 <= size:
            box_size = struct.unpack_from(">Q", data, pos + 8)[0]
        elif box_size == 0:
            box_size = size - pos
        if box_size < 8:
            raise ParseError(f"box size {box_size} is too small", pos, typ.decode("latin-1"), name)
        if typ == b"moof":
            out.append((pos, data[pos : pos + box_size]))
        pos += box_size
    return size, out


def moofs_in_file(path: Path) -> tuple[int, list[tuple[int, bytes]]]:
    """(file size, every top-level moof with its offset), seeking past mdat payloads."""
    out: list[tuple[int, bytes]] = []
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        pos = 0
        while pos + 8 <= size:
            fh.seek(pos)
            head = fh.read(16)
            box_size, typ = struct.unpack_from(">I4s", head)
            if box_size == 1 and len(head) >= 16:
                box_size = struct.unpack_from(">Q", head, 8)[0]
            elif box_size == 0:
                box_size = size - pos
            if box_size < 8:
                raise ParseError(f"box size {box_size} is too small", pos, typ.decode("latin-1"), str(path))
            if typ == b"moof":
                fh.seek(pos)
                out.append((pos, fh.read(box_size)))
            pos += box_size
    return size, out


def read_segment(moofs: Iterable[tuple[int, bytes]], init: list[TrackLayout], name: str = "",
                 size: int = 0) -> SegmentTiming:
    """Timing of every fragment in a media segment, from its moof boxes (mdat payloads never read)."""
    by_id = {t.track_id: t for t in init}
    seg = SegmentTiming(name, size)
    first_sample_checked: set[int] = set()
    for base_off, data in moofs:
        seg.fragments += 1
        trafs = [c for c in _children(data, 8, len(data)) if c[0] == b"traf"]
        for _t, traf_off, traf_size, traf_header in trafs:
            kids = _children(data, traf_off + traf_header, traf_off + traf_size)
            tfhd = next((c for c in kids if c[0] == b"tfhd"), None)
            if tfhd is None:
                raise ParseError("traf without tfhd", base_off + traf_off, "moof/traf", name)
            tfhd_body = tfhd[1] + tfhd[3]
            flags = struct.unpack_from(">I", data, tfhd_body)[0] & 0xFFFFFF
            tid = struct.unpack_from(">I", data, tfhd_body + 4)[0]
            pos = tfhd_body + 8
            where = f"{name}@{base_off + tfhd[1]} moof[{seg.fragments - 1}]/traf/tfhd"
            if flags & 0x1:
                seg.traps.append(f"{where}: base-data-offset present (Chromium rejects it)")
                pos += 8
            if flags & 0x2:
                pos += 4
            default_dur = by_id[tid].default_sample_duration if tid in by_id else 0
            if flags & 0x8:
                default_dur = struct.unpack_from(">I", data, pos)[0]
                pos += 4
            default_flags = None
            if flags & 0x10:
                pos += 4
            if flags & 0x20:
                default_flags = struct.unpack_from(">I", data, pos)[0]
            if len(trafs) > 1 and not flags & 0x1 and not flags & 0x020000:
                seg.traps.append(
                    f"{where}: multi-track fragment without default-base-is-moof "
                    "(Chromium fails to decode it)"
                )
            tfdt = next((c for c in kids if c[0] == b"tfdt"), None)
            if tfdt is None:
                seg.traps.append(f"{name}@{base_off + traf_off}: traf without tfdt")
                base = 0
            else:
                tfdt_body = tfdt[1] + tfdt[3]
                v = data[tfdt_body]
                base = (struct.unpack_from(">Q", data, tfdt_body + 4)[0] if v == 1
                        else struct.unpack_from(">I", data, tfdt_body + 4)[0])
            dts = base
            earliest: int | None = None
            track = by_id.get(tid)
            media_time = track.media_time if track else 0
            for kind, trun_off, _size, trun_header in kids:
                if kind != b"trun":
                    continue
                trun_body = trun_off + trun_header
                tv = data[trun_body]
                tflags = struct.unpack_from(">I", data, trun_body)[0] & 0xFFFFFF
                count = struct.unpack_from(">I", data, trun_body + 4)[0]
                p = trun_body + 8
                if tflags & 0x1:
                    p += 4
                first_flags = None
                if tflags & 0x4:
                    first_flags = struct.unpack_from(">I", data, p)[0]
                    p += 4
                if not count:
                    continue
                # the sample table as columns: one unpack for the whole run, every k-th value a field
                k, cols = _trun_layout(tflags & 0xF00)
                vals = _trun_struct(k * count).unpack_from(data, p) if k else ()
                durs = vals[cols[0x100]::k] if 0x100 in cols else None
                sflags = first_flags
                if sflags is None:
                    sflags = vals[cols[0x400]] if 0x400 in cols else default_flags
                if (tid not in first_sample_checked and sflags is not None and track is not None
                        and track.kind == "video"):
                    first_sample_checked.add(tid)
                    if sflags & 0x10000:  # sample_is_non_sync_sample
                        seg.keyframe_start = False
                if 0x800 in cols:
                    ctos: Iterable[int] = vals[cols[0x800]::k]
                    if tv and max(ctos) >= 0x80000000:  # version 1: signed offsets
                        ctos = [c - 0x100000000 if c >= 0x80000000 else c for c in ctos]
                    starts = (accumulate(durs[:-1], initial=dts) if durs is not None
                              else range(dts, dts + count * default_dur, default_dur) if default_dur
                              else [dts] * count)
                    pts = min(map(add, starts, ctos)) - media_time
                else:
                    pts = dts - media_time  # durations are unsigned: the first sample is the earliest
                earliest = pts if earliest is None else min(earliest, pts)
                dts += sum(durs) if durs is not None else count * default_dur
            prev = seg.tracks.get(tid)
            e = earliest if earliest is not None else base - media_time
            if prev is None:
                seg.tracks[tid] = (e, base, dts - base)
            else:
                seg.tracks[tid] = (min(prev[0], e), prev[1], prev[2] + dts - base)
    return seg


_TRUN_FIELDS = (0x100, 0x200, 0x400, 0x800)  # sample_duration, _size, _flags, _composition_time_offset


@lru_cache(maxsize=16)
def _trun_layout(present: int) -> tuple[int, dict[int, int]]:
    """(values per sample, trun flag -> index of its value within a sample) for the present fields."""
    cols = {bit: i for i, bit in enumerate(b for b in _TRUN_FIELDS if present & b)}
    return len(cols), cols


@lru_cache(maxsize=64)
def _trun_struct(n: int) -> struct.Struct:
    """n big-endian unsigned 32-bit values (a trun's per-sample fields, all samples at once)."""
    return struct.Struct(f">{n}I")


def split_fragmented(data: bytes, target_ticks: int, timescale: int, video_track: int | None
                     ) -> tuple[bytes, list[bytes]]:
    """Split a fragmented MP4 into its init (ftyp+moov) and media segments of about ``target_ticks``.

    A new segment starts at a fragment whose decode time reaches the next multiple of the target, so
    segments stay on keyframes (ffmpeg fragments only on keyframes) and close to the wanted duration.
    """
    init = b""
    segments: list[bytes] = []
    cur: list[bytes] = []
    pending: list[bytes] = []  # styp/sidx/prft that belong to the next moof
    next_cut = 0
    for b in iter_boxes(data):
        chunk = data[b.offset : b.end]
        if b.type in ("ftyp", "moov"):
            init += chunk
            continue
        if b.type in ("mfra", "free", "skip"):
            continue
        if b.type == "moof":
            t = _moof_time(data, b, video_track)
            if cur and t * 1 >= next_cut:
                segments.append(b"".join(cur))
                cur = []
            if not cur:
                while next_cut <= t:
                    next_cut += target_ticks
            cur.extend(pending)
            pending = []
            cur.append(chunk)
            continue
        if b.type == "mdat":
            cur.append(chunk)
            continue
        pending.append(chunk)
    if cur:
        segments.append(b"".join(cur))
    return init, segments


def _moof_time(data: bytes, moof: Box, track: int | None) -> int:
    for traf in find_all(data, "traf", moof.body, moof.end):
        tfhd = find(data, "tfhd", traf.body, traf.end)
        tfdt = find(data, "tfdt", traf.body, traf.end)
        if tfhd is None or tfdt is None:
            continue
        tid = struct.unpack_from(">I", data, tfhd.body + 4)[0]
        if track is not None and tid != track:
            continue
        v = data[tfdt.body]
        return int(struct.unpack_from(">Q" if v == 1 else ">I", data, tfdt.body + 4)[0])
    return 0

"""From boxes to the segment model: init segments (tracks) and media segments (per-sample tables).

Two addressing/timing dialects exist and both are needed:

* ``"iso"`` (ISO/IEC 14496-12 §8.8): a trun without data_offset continues after the previous run, a traf
  without default-base-is-moof after the previous traf's data; tfhd base_data_offset is honoured;
  version 0 composition offsets are unsigned; a sample is a random access point when it is a sync sample.
* ``"chromium"`` (track_run_iterator.cc, box_definitions.cc): every trun is read from
  ``moof start + data_offset`` (0 when absent), composition offsets are always signed, and a video sample
  that depends on others is not a keyframe even when flagged sync.

Both apply the edit list the way MSE requires (§iso-init-segments): the first edit's media_time, when
non-negative, is subtracted from every PTS (presentation_offset).

Entry points: :func:`read_init` (moov -> :class:`Mp4Init`), :func:`expand_fragment` (moof ->
:class:`Fragment` with one :class:`SampleTable` per traf), and :func:`iter_segments` which walks a whole
source with constant memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import accumulate, repeat
from operator import add, sub
from typing import TYPE_CHECKING, Any, Literal

from msetool.bmff.boxes import (
    TFHD_BASE_DATA_OFFSET,
    TRUN_DATA_OFFSET,
)
from msetool.bmff.reader import iter_boxes
from msetool.bmff.tree import Box, BoxIssue
from msetool.codecs.derive import DerivedCodec, derive
from msetool.model import CodedFrame, InitSegment, MediaSegment, TrackInfo, TrackKind
from msetool.records import Record
from msetool.source import ByteSource

if TYPE_CHECKING:
    from fractions import Fraction

Dialect = Literal["iso", "chromium"]

HANDLER_KIND: dict[str, TrackKind] = {"vide": "video", "soun": "audio", "text": "text", "subt": "text",
                                      "sbtl": "text"}


class SegmentError(Exception):
    """A problem that stops building the model; ``rule`` names the catalog rule that predicts it."""

    def __init__(self, message: str, offset: int, path: str = "", rule: str = "BMFF-BOX-03") -> None:
        self.message = message
        self.offset = offset
        self.path = path
        self.rule = rule
        super().__init__(message)


class Mp4Track(Record):
    """Everything about one trak that expanding fragments needs (beyond the neutral TrackInfo)."""

    __slots__ = __match_args__ = ("info", "handler_type", "trak", "entries", "codecs", "trex", "edits")
    info: TrackInfo
    handler_type: str
    trak: Box
    entries: list[Box]
    codecs: list[DerivedCodec]
    trex: dict[str, int] | None
    #: edts/elst entries as decoded
    edits: list[dict[str, int]]

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        info: TrackInfo,
        handler_type: str,
        trak: Box,
        entries: list[Box],
        codecs: list[DerivedCodec],
        trex: dict[str, int] | None,
        edits: list[dict[str, int]] | None = None,
    ) -> None:
        self.info = info
        self.handler_type = handler_type
        self.trak = trak
        self.entries = entries
        self.codecs = codecs
        self.trex = trex
        self.edits = [] if edits is None else edits

    @property
    def track_id(self) -> int:
        return self.info.track_id

    @property
    def kind(self) -> TrackKind:
        return self.info.kind


class Mp4Init(Record):
    """A parsed initialization segment: the neutral model plus the boxes rules may want."""

    __slots__ = __match_args__ = ("init", "tracks", "moov", "ftyp")
    init: InitSegment
    tracks: dict[int, Mp4Track]
    moov: Box
    ftyp: Box | None

    def __init__(
        self,
        init: InitSegment,
        tracks: dict[int, Mp4Track],
        moov: Box,
        ftyp: Box | None = None,
    ) -> None:
        self.init = init
        self.tracks = tracks
        self.moov = moov
        self.ftyp = ftyp

    def track(self, track_id: int) -> Mp4Track | None:
        return self.tracks.get(track_id)


def edit_offset(edits: list[dict[str, int]]) -> int:
    """The ticks MSE subtracts from every PTS: the first edit's media_time when it is not an empty edit."""
    if not edits:
        return 0
    t = edits[0].get("media_time", -1)
    return t if t >= 0 else 0


def read_init(moov: Box, ftyp: Box | None = None, *, offset: int | None = None,
              size: int | None = None) -> Mp4Init:
    """Build the init segment model from a decoded ``moov``; raises :class:`SegmentError` if a track
    lacks a box the model needs (tkhd, mdhd, hdlr, stsd)."""
    tracks: dict[int, Mp4Track] = {}
    trexs: dict[int, dict[str, int]] = {}
    for trex_box in moov.find_all("mvex/trex"):
        if trex_box.decoded:
            trexs.setdefault(trex_box.get("track_ID"), dict(trex_box.fields))
    infos: list[TrackInfo] = []
    for trak in moov.all("trak"):
        tkhd = trak.child("tkhd")
        mdhd = trak.find("mdia/mdhd")
        hdlr = trak.find("mdia/hdlr")
        stsd = trak.find("mdia/minf/stbl/stsd")
        for need, name in ((tkhd, "tkhd"), (mdhd, "mdia/mdhd"), (hdlr, "mdia/hdlr"),
                           (stsd, "mdia/minf/stbl/stsd")):
            if need is None or not need.decoded:
                raise SegmentError(f"trak has no readable {name}", trak.offset, trak.path, "BMFF-INIT-21")
        assert tkhd is not None and mdhd is not None and hdlr is not None and stsd is not None
        tid = tkhd.get("track_ID")
        handler = hdlr.get("handler_type")
        kind: TrackKind = HANDLER_KIND.get(handler, "other")
        entries = list(stsd.children)
        codecs = [derive(e) for e in entries]
        trex = trexs.get(tid)
        idx = (trex or {}).get("default_sample_description_index", 1) or 1
        if idx > len(entries):
            idx = 1
        entry = entries[idx - 1] if entries else None
        dc = codecs[idx - 1] if codecs else None
        elst = trak.find("edts/elst")
        edits = list(elst.get("entries", [])) if elst is not None and elst.decoded else []
        f: dict[str, Any] = entry.fields if entry is not None else {}
        sample_rate = f.get("samplerate")
        channels = f.get("channelcount")
        if dc is not None and dc.coding_name == "Opus":
            channels = dc.details.get("channels", channels)
            sample_rate = dc.details.get("input_sample_rate", sample_rate)
        if dc is not None and dc.coding_name == "fLaC":
            sample_rate = dc.details.get("sample_rate", sample_rate)
        info = TrackInfo(
            track_id=tid,
            kind=kind,
            codec=dc.codec if dc is not None else "",
            timescale=mdhd.get("timescale"),
            coding_name=entry.type if entry is not None else "",
            width=f.get("width") if kind == "video" else None,
            height=f.get("height") if kind == "video" else None,
            sample_rate=sample_rate if kind == "audio" else None,
            channels=channels if kind == "audio" else None,
            language=mdhd.get("language"),
            encrypted=entry is not None and entry.type in ("encv", "enca"),
            presentation_offset=edit_offset(edits),
            default_duration=(trex or {}).get("default_sample_duration") or None,
        )
        infos.append(info)
        tracks.setdefault(tid, Mp4Track(info, handler, trak, entries, codecs, trex, edits))
    duration: Fraction | None = None
    mvhd = moov.child("mvhd")
    mehd = moov.find("mvex/mehd")
    ts = mvhd.get("timescale") if mvhd is not None else 0
    ticks = 0
    if ts:
        if mehd is not None and mehd.get("fragment_duration"):
            ticks = mehd.get("fragment_duration")
        elif mvhd is not None:
            d = mvhd.get("duration", 0)
            if d and d not in (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
                ticks = d
    if ticks:
        from fractions import Fraction  # only where one is built: importing it costs every run

        duration = Fraction(ticks, ts)
    start = (ftyp.offset if ftyp is not None else moov.offset) if offset is None else offset
    end = moov.end
    init = InitSegment("mp4", tuple(infos), duration, start, end - start if size is None else size)
    return Mp4Init(init, tracks, moov, ftyp)


# --- fragments
class SampleTable(Record):
    """The samples of one traf, as columns (index i is the i-th sample in decode order)."""

    __slots__ = __match_args__ = (
        "track_id", "timescale", "path", "base_media_decode_time", "dts", "pts", "duration", "size",
        "offset", "keyframe", "flags", "run", "runs",
    )  # fmt: skip
    track_id: int
    timescale: int
    path: str
    base_media_decode_time: int | None
    dts: list[int]
    pts: list[int]
    duration: list[int]
    size: list[int]
    #: absolute byte offset of each sample's data
    offset: list[int]
    keyframe: list[bool]
    flags: list[int]
    #: index of the trun each sample came from
    run: list[int]
    #: per trun: (absolute data start, sample count)
    runs: list[tuple[int, int]]

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        track_id: int,
        timescale: int,
        path: str,
        base_media_decode_time: int | None,
        dts: list[int] | None = None,
        pts: list[int] | None = None,
        duration: list[int] | None = None,
        size: list[int] | None = None,
        offset: list[int] | None = None,
        keyframe: list[bool] | None = None,
        flags: list[int] | None = None,
        run: list[int] | None = None,
        runs: list[tuple[int, int]] | None = None,
    ) -> None:
        self.track_id = track_id
        self.timescale = timescale
        self.path = path
        self.base_media_decode_time = base_media_decode_time
        self.dts = [] if dts is None else dts
        self.pts = [] if pts is None else pts
        self.duration = [] if duration is None else duration
        self.size = [] if size is None else size
        self.offset = [] if offset is None else offset
        self.keyframe = [] if keyframe is None else keyframe
        self.flags = [] if flags is None else flags
        self.run = [] if run is None else run
        self.runs = [] if runs is None else runs

    def __len__(self) -> int:
        return len(self.dts)

    @property
    def data_start(self) -> int | None:
        return min(self.offset) if self.offset else None

    @property
    def data_end(self) -> int | None:
        return max(o + s for o, s in zip(self.offset, self.size, strict=True)) if self.offset else None

    @property
    def end_dts(self) -> int | None:
        return self.dts[-1] + self.duration[-1] if self.dts else None

    def frames(self) -> list[CodedFrame]:
        ts, tid = self.timescale, self.track_id
        return [CodedFrame(tid, d, p, du, ts, k, s, o) for d, p, du, k, s, o in
                zip(self.dts, self.pts, self.duration, self.keyframe, self.size, self.offset, strict=True)]


class Fragment(Record):
    """One moof expanded: its sample tables (one per traf whose track is known) and what went wrong."""

    __slots__ = __match_args__ = ("moof", "sequence_number", "tables", "problems", "mdats")
    moof: Box
    sequence_number: int | None
    tables: list[SampleTable]
    #: (message, offset, path, rule) of problems met while expanding (unknown track, ...)
    problems: list[tuple[str, int, str, str]]
    mdats: list[Box]

    def __init__(
        self,
        moof: Box,
        sequence_number: int | None,
        tables: list[SampleTable] | None = None,
        problems: list[tuple[str, int, str, str]] | None = None,
        mdats: list[Box] | None = None,
    ) -> None:
        self.moof = moof
        self.sequence_number = sequence_number
        self.tables = [] if tables is None else tables
        self.problems = [] if problems is None else problems
        self.mdats = [] if mdats is None else mdats

    @property
    def data_end(self) -> int | None:
        ends = [e for t in self.tables if (e := t.data_end) is not None]
        return max(ends) if ends else None

    def to_media_segment(self) -> MediaSegment:
        frames = [f for t in self.tables for f in t.frames()]
        end = max([self.moof.end, *[m.end for m in self.mdats]])
        return MediaSegment(self.moof.offset, end - self.moof.offset, frames, self.moof.path,
                            self.sequence_number)


SAMPLE_IS_NON_SYNC = 0x10000


def sample_flags_of(i: int, trun: Box, tfhd: Box, trex: dict[str, int] | None) -> int:
    """ISO/Chromium precedence: trun per-sample flags, first_sample_flags (sample 0), tfhd, trex."""
    flags = trun.fields.get("sample_flags")
    if flags is not None and i < len(flags):
        if i == 0 and "first_sample_flags" in trun.fields:
            return int(trun.fields["first_sample_flags"])
        return int(flags[i])
    if i == 0 and "first_sample_flags" in trun.fields:
        return int(trun.fields["first_sample_flags"])
    if "default_sample_flags" in tfhd.fields:
        return int(tfhd.fields["default_sample_flags"])
    return int((trex or {}).get("default_sample_flags", 0))


#: Samples a moof may declare beyond what its bytes hold (see :func:`sample_budget_error`).
UNIFORM_SAMPLE_BUDGET = 1 << 18


def sample_budget_error(moof: Box) -> SegmentError | None:
    """Every sample becomes a row of a sample table, so the moof's declared sample count must be bounded by
    its bytes, never by a count field alone: runs with per-sample fields spend at least 4 bytes of the moof
    per sample; runs without them share a fixed budget (truns are 16 bytes, so many small runs could
    otherwise declare billions of samples)."""
    total = 0
    for traf in moof.all("traf"):
        for trun in traf.all("trun"):
            total += int(trun.fields.get("sample_count", 0))
    limit = UNIFORM_SAMPLE_BUDGET + moof.size // 4
    if total > limit:
        return SegmentError(f"the moof declares {total} samples, more than its {moof.size} bytes can "
                            f"describe (implementation limit {limit})", moof.offset, moof.path, "BMFF-BOX-03")
    return None


def _keyframe(fl: int, sdtp_entry: int, video: bool, iso: bool, trun: Box) -> bool:
    """Random access per the sample's flags: a sync sample; for Chromium also not "depends on others" in
    video (sdtp's sample_depends_on when the flags leave it unknown)."""
    depends = (fl >> 24) & 3
    if depends == 0:
        depends = (sdtp_entry >> 4) & 3
    if depends == 3 and not iso:
        raise SegmentError("Reserved value used in sample dependency info.", trun.offset, trun.path,
                           "BMFF-MEDIA-16")
    sync = not fl & SAMPLE_IS_NON_SYNC
    return sync and not (depends == 1 and video) if not iso else sync


def _run_columns(trun: Box, n: int, dts: int, data_pos: int, d_dur: int, d_size: int, d_flags: int,  # noqa: PLR0917
                 shift: int, sdtp_entries: list[int], *, video: bool, iso: bool) -> tuple[list[Any], ...]:
    """One trun's columns (dts, pts, duration, size, offset, keyframe, flags), not per-sample objects: the
    same precedence as :func:`sample_flags_of`, computed once per run; uniform columns are ranges."""
    tf = trun.fields
    durs = tf.get("sample_duration")
    sizes = tf.get("sample_size")
    ctos = tf.get("sample_composition_time_offset")
    if ctos is not None and not iso and trun.version == 0:
        ctos = [c - (1 << 32) if c & 0x80000000 else c for c in ctos]
    fcol = tf.get("sample_flags")
    uniform = fcol is None
    fcol = list(fcol) if fcol is not None else [d_flags] * n
    if "first_sample_flags" in tf:
        fcol[0] = int(tf["first_sample_flags"])
    keys: list[bool]
    if sdtp_entries:
        keys = []
        for i, fl in enumerate(fcol):
            keys.append(_keyframe(fl, sdtp_entries[i] if i < len(sdtp_entries) else 0, video, iso, trun))
    elif uniform:  # the default flags, the first sample's maybe replaced: two values at most
        head = fcol[0]
        known = {fl: _keyframe(fl, 0, video, iso, trun) for fl in ({head, d_flags} if n > 1 else {head})}
        keys = [known[head]] + [known[d_flags]] * (n - 1) if n > 1 else [known[head]]
    else:
        known = {fl: _keyframe(fl, 0, video, iso, trun) for fl in set(fcol)}
        keys = [known[fcol[0]]] * len(fcol) if len(known) == 1 else list(map(known.__getitem__, fcol))
    if durs is not None:
        durs = list(durs)
        dcol = list(accumulate(durs[:-1], initial=dts))
    else:
        durs = [d_dur] * n
        dcol = list(range(dts, dts + d_dur * n, d_dur)) if d_dur > 0 else [dts] * n
    if sizes is not None:
        sizes = list(sizes)
        ocol = list(accumulate(sizes[:-1], initial=data_pos))
    else:
        sizes = [d_size] * n
        ocol = list(range(data_pos, data_pos + d_size * n, d_size)) if d_size > 0 else [data_pos] * n
    if ctos is not None:
        if len(ctos) == len(dcol):
            pcol = list(map(add, dcol, ctos))
            if shift:
                pcol = list(map(sub, pcol, repeat(shift)))
        else:
            pcol = [d + c - shift for d, c in zip(dcol, ctos, strict=True)]
    elif shift:
        pcol = list(map(sub, dcol, repeat(shift)))
    else:
        pcol = list(dcol)
    return dcol, pcol, durs, sizes, ocol, keys, fcol


def expand_traf(
    traf: Box,
    moof: Box,
    track: Mp4Track,
    *,
    dialect: Dialect = "chromium",
    base_offset: int | None = None,
) -> SampleTable:
    """Expand one traf into its sample table. Raises :class:`SegmentError` with Chromium's message for the
    failures Chromium's TrackRunIterator reports (reserved sample_depends_on)."""
    tfhd = tfdt = sdtp = None
    truns: list[Box] = []
    for c in traf.children:  # one pass instead of a child() scan per box type
        ct = c.type
        if ct == "trun":
            truns.append(c)
        elif ct == "tfhd":
            tfhd = tfhd or c
        elif ct == "tfdt":
            tfdt = tfdt or c
        elif ct == "sdtp":
            sdtp = sdtp or c
    if tfhd is None or not tfhd.decoded:
        raise SegmentError("traf has no readable tfhd", traf.offset, traf.path, "BMFF-INIT-21")
    bmdt = tfdt.fields.get("base_media_decode_time") if tfdt is not None and tfdt.decoded else None
    trex = track.trex or {}
    th = tfhd.fields
    d_dur = th.get("default_sample_duration", 0) or trex.get("default_sample_duration", 0)
    d_size = th.get("default_sample_size", 0) or trex.get("default_sample_size", 0)
    # sample_flags_of for a sample other than the first of a run without per-sample flags
    d_flags = int(th["default_sample_flags"] if "default_sample_flags" in th
                  else trex.get("default_sample_flags", 0))
    info = track.info
    shift = info.presentation_offset
    video = info.kind == "video"
    sdtp_entries: list[int] = sdtp.fields.get("entries", []) if sdtp is not None else []
    table = SampleTable(info.track_id, info.timescale, traf.path, bmdt)
    dts = bmdt or 0
    iso = dialect == "iso"
    if iso:
        if tfhd.flags is not None and tfhd.flags & TFHD_BASE_DATA_OFFSET:
            data_pos = th.get("base_data_offset", 0)
        elif base_offset is not None:
            data_pos = base_offset
        else:
            data_pos = moof.offset
        base = data_pos
    else:
        base = data_pos = moof.offset
    for ri, trun in enumerate(truns):
        if not trun.decoded:
            raise SegmentError("trun could not be decoded", trun.offset, trun.path, "BMFF-BOX-03")
        tf = trun.fields
        n = tf["sample_count"]
        rflags = trun.flags
        if tf.get("data_offset") is not None and rflags is not None and rflags & TRUN_DATA_OFFSET:
            off = tf["data_offset"]
            if not iso and off < 0:
                off += 1 << 32  # Chromium reads data_offset into an unsigned field
            data_pos = base + off
        elif not iso:
            data_pos = base
        table.runs.append((data_pos, n))
        if not n:
            continue
        dcol, pcol, durs, sizes, ocol, keys, fcol = _run_columns(
            trun, n, dts, data_pos, d_dur, d_size, d_flags, shift, sdtp_entries, video=video, iso=iso)
        if table.dts:
            table.dts += dcol
            table.pts += pcol
            table.duration += durs
            table.size += sizes
            table.offset += ocol
            table.keyframe += keys
            table.flags += fcol
            table.run += [ri] * n
        else:  # the first run: its fresh columns become the table's
            table.dts, table.pts, table.duration, table.size = dcol, pcol, durs, sizes
            table.offset, table.keyframe, table.flags, table.run = ocol, keys, fcol, [ri] * n
        dts = dcol[-1] + durs[-1]
        data_pos = ocol[-1] + sizes[-1]
    return table


def expand_fragment(moof: Box, init: Mp4Init, *, dialect: Dialect = "chromium") -> Fragment:
    """Expand every traf of ``moof`` against ``init``; unknown tracks become problems, not exceptions."""
    mfhd = moof.child("mfhd")
    frag = Fragment(moof, mfhd.get("sequence_number") if mfhd is not None else None)
    too_many = sample_budget_error(moof)
    if too_many is not None:
        frag.problems.append((too_many.message, too_many.offset, too_many.path, too_many.rule))
        return frag
    next_base: int | None = None
    for traf in moof.all("traf"):
        tfhd = traf.child("tfhd")
        if tfhd is None or not tfhd.decoded:
            frag.problems.append(("traf has no readable tfhd", traf.offset, traf.path, "BMFF-INIT-21"))
            continue
        tid = tfhd.get("track_ID")
        track = init.track(tid)
        if track is None:
            frag.problems.append((f"tfhd track_ID {tid} is not declared in the initialization segment",
                                  tfhd.offset, tfhd.path, "BMFF-MEDIA-13"))
            continue
        base = None
        if dialect == "iso" and not tfhd.get("default_base_is_moof"):
            base = next_base
        try:
            table = expand_traf(traf, moof, track, dialect=dialect, base_offset=base)
        except SegmentError as e:
            frag.problems.append((e.message, e.offset, e.path, e.rule))
            continue
        next_base = table.data_end if table.data_end is not None else next_base
        frag.tables.append(table)
    return frag


# --- whole sources
class SegmentEvent(Record):
    """One item of :func:`iter_segments`: an init segment, a fragment, or a problem."""

    __slots__ = __match_args__ = ("kind", "init", "fragment", "problem")
    kind: Literal["init", "fragment", "problem"]
    init: Mp4Init | None
    fragment: Fragment | None
    problem: tuple[str, int, str, str] | None

    def __init__(
        self,
        kind: Literal["init", "fragment", "problem"],
        init: Mp4Init | None = None,
        fragment: Fragment | None = None,
        problem: tuple[str, int, str, str] | None = None,
    ) -> None:
        self.kind = kind
        self.init = init
        self.fragment = fragment
        self.problem = problem


def iter_segments(source: ByteSource, *, dialect: Dialect = "iso",
                  issues: list[BoxIssue] | None = None) -> Iterator[SegmentEvent]:
    """Init segments and fragments of a whole file/stream, one at a time (constant memory).

    A fragment is yielded once the top-level box after its mdat(s) is seen (or at the end), so its
    ``mdats`` list is complete.
    """
    issues = [] if issues is None else issues
    init: Mp4Init | None = None
    ftyp: Box | None = None
    pending: Fragment | None = None
    for box in iter_boxes(source, issues=issues):
        if box.type == "mdat" and pending is not None:
            pending.mdats.append(box)
            continue
        if pending is not None:
            yield SegmentEvent("fragment", fragment=pending)
            pending = None
        if box.type == "ftyp":
            ftyp = box
        elif box.type == "moov":
            try:
                init = read_init(box, ftyp)
            except SegmentError as e:
                yield SegmentEvent("problem", problem=(e.message, e.offset, e.path, e.rule))
                init = None
            else:
                yield SegmentEvent("init", init=init)
            ftyp = None
        elif box.type == "moof":
            if init is None:
                yield SegmentEvent("problem", problem=("media segment before any initialization segment",
                                                        box.offset, box.path, "GEN-11"))
                continue
            pending = expand_fragment(box, init, dialect=dialect)
    if pending is not None:
        yield SegmentEvent("fragment", fragment=pending)

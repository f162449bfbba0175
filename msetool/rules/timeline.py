"""Rules across a segment set, on the format-neutral segment model (so they serve every format).

Each segment may be valid alone and the set still play badly: a gap between fragments becomes a hole in
``buffered`` that stalls playback, an overlap makes the browser remove frames it already has, a segment
that does not start on a random access point drops every frame up to the next one whenever the track
buffer needs a RAP, audio and video that start apart or drift apart lose lip sync, and an initialization
segment that changes the track layout or codec mid-set fails the append. The checks work on per-segment
summaries (:class:`~msetool.rules.engine.TrackSpan`), never on every frame, so memory stays flat.

Gap and overlap are measured in decode time between a segment's first frame and the previous segment's
last frame end (the MSE coded frame processing view), and reported in milliseconds and in frames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from msetool.model import InitSegment
from msetool.rules.catalog import ensure_rule, finding
from msetool.rules.engine import (
    SPEC_ERRORS,
    InitRecord,
    SegmentRecord,
    StreamModel,
    TrackSpan,
    ValidateOptions,
)
from msetool.rules.findings import Finding, Severity

if TYPE_CHECKING:
    from fractions import Fraction

MSE = "media-source"
for _r in (
    (
        "GEN-TIME-01",
        "warning",
        "Gap between consecutive segments of a track",
        "buffered gets a hole: playback stalls at the gap unless the player seeks over it (Chromium also "
        "starts a new coded frame group and needs a random access point after a jump over 2 frame "
        "durations).",
        f"{MSE} §sourcebuffer-coded-frame-processing steps 6, 13; §byte-stream-formats (GEN-09)",
    ),
    (
        "GEN-TIME-02",
        "warning",
        "Overlap between consecutive segments of a track",
        "The browser removes the already-buffered frames the new ones overlap (and their dependants up "
        "to the next keyframe); audio is spliced. Usually harmless for exact re-appends, a sign of bad "
        "timestamps otherwise.",
        f"{MSE} §sourcebuffer-coded-frame-processing step 14",
    ),
    (
        "GEN-TIME-03",
        "warning",
        "A segment starts before the previous one (appended out of order)",
        "In 'segments' mode frames land at their own timestamps, so the set still plays if complete; in "
        "'sequence' mode they are laid end to end in append order and the timeline is scrambled.",
        f"{MSE} §sourcebuffer-coded-frame-processing",
    ),
    (
        "GEN-RAP-01",
        "warning",
        "A video segment does not start with a random access point",
        "Whenever the track buffer needs a random access point (first append, after a gap, abort() or an "
        "append-window drop) every frame up to the next keyframe is dropped.",
        f"{MSE} §sourcebuffer-coded-frame-processing step 10; mse-byte-stream-format-isobmff "
        "§iso-random-access-points",
    ),
    (
        "GEN-TIME-04",
        "warning",
        "Audio and video start at different times",
        "buffered (the intersection of the tracks) starts at the later one, and playback starts out of sync "
        "by the difference.",
        f"{MSE} §dom-sourcebuffer-buffered",
    ),
    (
        "GEN-TIME-05",
        "warning",
        "Audio and video drift apart over the set",
        "The end of buffered follows the shorter track; over time the tracks' timelines diverge and lip sync "
        "or a stall at the end follows.",
        f"{MSE} §dom-sourcebuffer-buffered",
    ),
    (
        "GEN-TIME-06",
        "warning",
        "Segment duration far from the target",
        "Players size their buffers and requests on the target duration; a much longer segment delays "
        "start-up and quality switches, a much shorter one wastes requests.",
        "RFC 8216 §4.3.3.1 (EXT-X-TARGETDURATION); DASH-IF IOP",
    ),
    (
        "GEN-04",
        "error",
        "An initialization segment changes the number or type of tracks",
        "The init segment received algorithm fails: append error.",
        f"{MSE} §sourcebuffer-init-segment-received step 3.1",
    ),
    (
        "GEN-05",
        "error",
        "Track IDs change across initialization segments with several tracks of a type",
        "The browser cannot match the new tracks to the old ones: append error.",
        f"{MSE} §byte-stream-formats",
    ),
    (
        "GEN-06",
        "error",
        "The codec changes across initialization segments without changeType()",
        "Chromium: 'Video codec changes not allowed unless using experimental changeType()': append error. "
        "Call changeType() before appending the new initialization segment.",
        f"{MSE} §byte-stream-formats; §dom-sourcebuffer-changetype",
    ),
    (
        "GEN-CODEC-01",
        "info",
        "The sample entry / decoder configuration changes inside the set",
        "Browsers reconfigure the decoder (supported for resolution and profile changes within a codec); "
        "some hardware decoders glitch at the switch.",
        f"{MSE} §byte-stream-formats",
    ),
):
    ensure_rule(*_r)
SPEC_ERRORS.add("GEN-04")  # fewer tracks than the first init segment: Chromium tolerates it


def _ms(ticks: int, timescale: int) -> str:
    if timescale <= 0:
        return f"{ticks} ticks"
    v = ticks * 1000 / timescale  # int division rounds correctly: float(Fraction(ticks, timescale) * 1000)
    return f"{v:.3f}".rstrip("0").rstrip(".") + " ms"


def _frames(ticks: int, span: TrackSpan) -> str:
    dur = span.max_duration or span.last_duration
    if dur <= 0:
        return ""
    n = ticks / dur
    return (
        f", {n:.2f} frames"
        if abs(n - round(n)) > 0.005
        else f", {round(n)} frame{'s' if round(n) != 1 else ''}"
    )


class _Kinds:
    """Track kinds per init segment, looked up once per init instead of once per segment and track (a set
    of thousands of fragments shares one or a few init segments)."""

    __slots__ = ("_by_init",)

    def __init__(self) -> None:
        self._by_init: dict[int, tuple[InitSegment, dict[int, str]]] = {}

    def of(self, seg: SegmentRecord) -> dict[int, str]:
        """track_id -> kind for the tracks of ``seg``'s init segment (missing ids are "other")."""
        init = seg.init
        if init is None:
            return {}
        hit = self._by_init.get(id(init))
        if hit is None or hit[0] is not init:
            kinds: dict[int, str] = {}
            for t in init.tracks:
                kinds.setdefault(t.track_id, t.kind)  # InitSegment.track(): the first track with the id
            hit = self._by_init[id(init)] = (init, kinds)
        return hit[1]


def _continuity(model: StreamModel, raps_only: bool = False) -> list[Finding]:
    out: list[Finding] = []
    prev: dict[int, tuple[TrackSpan, SegmentRecord]] = {}
    kinds = _Kinds()
    for seg in model.segments:
        if seg.init is not None and seg.init.format == "mpeg":
            continue  # generated timestamps: every append restarts at 0 by design (sequence mode)
        seg_kinds = kinds.of(seg)
        for tid, sp in seg.tracks.items():
            if sp.count == 0:
                continue
            kind = seg_kinds.get(tid, "other")
            if kind == "video" and not sp.first_keyframe:
                out.append(
                    finding(
                        "GEN-RAP-01",
                        f"track {tid}: the first frame (DTS {_ms(sp.first_dts, sp.timescale)}) is not a "
                        "keyframe: when the browser needs a random access point here, frames up to the next "
                        "keyframe are dropped",
                        file=seg.file,
                        offset=seg.offset,
                        box=seg.path,
                    )
                )
            if raps_only:
                continue
            p = prev.get(tid)
            prev[tid] = (sp, seg)
            if p is None:
                continue
            psp, pseg = p
            if psp.timescale != sp.timescale or sp.timescale <= 0:
                continue
            delta = sp.first_dts - psp.end_dts
            if delta == 0:
                continue
            frame = max(psp.last_duration, sp.max_duration, 1)
            where = f"track {tid} ({kind})"
            if sp.first_dts < psp.first_dts:
                out.append(
                    finding(
                        "GEN-TIME-03",
                        f"{where}: starts at DTS {_ms(sp.first_dts, sp.timescale)}, before the previous "
                        f"segment ({pseg.file} at {_ms(psp.first_dts, sp.timescale)}): out of append order, "
                        "harmless in 'segments' mode only",
                        file=seg.file,
                        offset=seg.offset,
                        box=seg.path,
                    )
                )
            elif delta > 0:
                sev = Severity.WARNING if delta * 2 >= frame else Severity.INFO
                out.append(
                    finding(
                        "GEN-TIME-01",
                        f"{where}: gap of {_ms(delta, sp.timescale)}{_frames(delta, sp)} after the previous "
                        f"segment (ends at DTS {_ms(psp.end_dts, sp.timescale)}, this one starts at "
                        f"{_ms(sp.first_dts, sp.timescale)}): buffered gets a hole where playback stalls",
                        file=seg.file,
                        offset=seg.offset,
                        box=seg.path,
                        severity=sev,
                    )
                )
            else:
                sev = Severity.WARNING if -delta * 2 >= frame else Severity.INFO
                out.append(
                    finding(
                        "GEN-TIME-02",
                        f"{where}: overlaps the previous segment by "
                        f"{_ms(-delta, sp.timescale)}{_frames(-delta, sp)} "
                        f"(previous ends at DTS {_ms(psp.end_dts, sp.timescale)}, this one starts at "
                        f"{_ms(sp.first_dts, sp.timescale)}): the browser removes the overlapped frames",
                        file=seg.file,
                        offset=seg.offset,
                        box=seg.path,
                        severity=sev,
                    )
                )
    return out


def _raps_only(model: StreamModel) -> list[Finding]:
    return _continuity(model, raps_only=True)


def _av_tracks(seg: SegmentRecord, kinds: _Kinds) -> tuple[TrackSpan | None, TrackSpan | None]:
    audio = video = None
    seg_kinds = kinds.of(seg)
    for tid, sp in seg.tracks.items():
        k = seg_kinds.get(tid, "other")
        if k == "audio" and audio is None:
            audio = sp
        elif k == "video" and video is None:
            video = sp
    return audio, video


def _sync(model: StreamModel) -> list[Finding]:
    """Start offset at the first segment carrying both tracks; then drift: how far the difference between
    the audio and video ends moves from its value at that first segment (fragment ends are never exactly
    aligned, so only a trend beyond 200 ms is reported, once)."""
    # Exact rationals as integer pairs (numerator, denominator > 0), compared by cross-multiplying; int / int
    # rounds correctly, so each float in a message is float() of the same Fraction.
    out: list[Finding] = []
    first_gap: tuple[int, int] | None = None
    kinds = _Kinds()
    for seg in model.segments:
        a, v = _av_tracks(seg, kinds)
        if a is None or v is None or a.timescale <= 0 or v.timescale <= 0:
            continue
        # a_end - v_end = x / d
        d = a.timescale * v.timescale
        x = a.max_end_pts * v.timescale - v.max_end_pts * a.timescale
        if first_gap is None:
            # start_offset = a_start - v_start = so / d
            so = a.min_pts * v.timescale - v.min_pts * a.timescale
            first_gap = (x, d)
            if 10 * abs(so) > d:
                lead = "audio" if so < 0 else "video"
                out.append(
                    finding(
                        "GEN-TIME-04",
                        f"audio starts at {a.min_pts / a.timescale:.3f} s, video at "
                        f"{v.min_pts / v.timescale:.3f} s: {lead} leads by {abs(so / d) * 1000:.1f} ms",
                        file=seg.file,
                        offset=seg.offset,
                        box=seg.path,
                    )
                )
            continue
        # drift = (a_end - v_end) - first_gap = dn / (d * gd); reported when |drift| > 1/5
        gn, gd = first_gap
        dn = x * gd - gn * d
        if 5 * abs(dn) <= d * gd:
            continue
        drift = dn / (d * gd)
        out.append(
            finding(
                "GEN-TIME-05",
                f"by this segment audio ends at {a.max_end_pts / a.timescale:.3f} s and video at "
                f"{v.max_end_pts / v.timescale:.3f} s: {drift * 1000:+.0f} ms of drift since the first "
                "segment",
                file=seg.file,
                offset=seg.offset,
                box=seg.path,
            )
        )
        break  # drift is reported once
    return out


def _median(data: list[float]) -> float:
    """statistics.median (the mean of the middle two of an even count), without importing statistics."""
    data = sorted(data)
    n = len(data)
    if n % 2:
        return data[n // 2]
    return (data[n // 2 - 1] + data[n // 2]) / 2


def _durations(model: StreamModel, target: float | None) -> list[Finding]:
    out: list[Finding] = []
    rows: list[tuple[SegmentRecord, float]] = []
    kinds = _Kinds()
    for seg in model.segments:
        _, v = _av_tracks(seg, kinds)
        sp = v or next(iter(seg.tracks.values()), None)
        if sp is None or sp.timescale <= 0 or sp.count == 0:
            continue
        rows.append((seg, (sp.end_dts - sp.first_dts) / sp.timescale))
    if not rows or (target is None and len(rows) < 3):
        return out
    ref = target if target is not None else _median([d for _, d in rows[:-1]])
    if ref <= 0:
        return out
    what = "the target" if target is not None else "the median"
    for i, (seg, d) in enumerate(rows):
        last = i == len(rows) - 1
        if d > ref * 1.5 or (d < ref * 0.5 and not last):
            out.append(
                finding(
                    "GEN-TIME-06",
                    f"segment lasts {d:.3f} s, {what} is {ref:.3f} s",
                    file=seg.file,
                    offset=seg.offset,
                    box=seg.path,
                    severity=Severity.WARNING if target is not None else Severity.INFO,
                )
            )
    return out


def _init_changes(model: StreamModel) -> list[Finding]:
    """Each init segment against the first (track layout: the track buffers are created once) and against the
    previous one (codec: what the decoder was last configured with)."""
    out: list[Finding] = []
    if not model.inits:
        return out
    first = model.inits[0]
    prev = first
    for rec in model.inits[1:]:
        out.extend(_compare_inits(first, prev, rec))
        prev = rec
    return out


def _compare_inits(first: InitRecord, prev: InitRecord, rec: InitRecord) -> list[Finding]:
    from msetool.codecs.rfc6381 import codec_family

    out: list[Finding] = []
    box = "moov" if rec.init.format == "mp4" else ""

    def add(rid: str, msg: str) -> None:
        out.append(finding(rid, msg, file=rec.file, offset=rec.offset, box=box))

    for kind in ("audio", "video"):
        old = [t for t in first.init.tracks if t.kind == kind]
        new = [t for t in rec.init.tracks if t.kind == kind]
        if len(new) > len(old):
            # Chromium: "Got unexpected <kind> track track_id=N": the append fails.
            add(
                "GEN-04",
                f"{len(new)} {kind} track(s) where the first initialization segment "
                f"({first.file}) had {len(old)}",
            )
            continue
        if len(new) < len(old):
            out.append(
                finding(
                    "GEN-04",
                    f"{len(new)} {kind} track(s) where the first initialization segment had {len(old)}: "
                    "the spec makes this an append error; Chromium accepts it and the missing track stops "
                    "buffering",
                    file=rec.file,
                    offset=rec.offset,
                    box=box,
                    severity=Severity.WARNING,
                )
            )
        if len(old) > 1 and any(t.track_id not in {o.track_id for o in old} for t in new):
            add(
                "GEN-05",
                f"{kind} track IDs change from {[t.track_id for t in old]} to {[t.track_id for t in new]}",
            )
        for o, n in zip([t for t in prev.init.tracks if t.kind == kind], new, strict=False):
            try:
                fo, fn = codec_family(o.codec), codec_family(n.codec)
            except ValueError:
                fo, fn = o.codec, n.codec
            if fo != fn:
                if not rec.after_change_type:
                    add("GEN-06", f"{kind} codec changes from {o.codec} to {n.codec} without changeType()")
            elif (o.codec, o.width, o.height, o.sample_rate, o.channels) != (
                n.codec,
                n.width,
                n.height,
                n.sample_rate,
                n.channels,
            ):
                add("GEN-CODEC-01", f"{kind} configuration changes: {_desc(o)} -> {_desc(n)}")
    return out


def _desc(t: object) -> str:
    codec = getattr(t, "codec", "?")
    w, h = getattr(t, "width", None), getattr(t, "height", None)
    rate, ch = getattr(t, "sample_rate", None), getattr(t, "channels", None)
    extra = f" {w}x{h}" if w and h else ""
    extra += f" {rate} Hz" if rate else ""
    extra += f" {ch} ch" if ch else ""
    return f"{codec}{extra}"


def check(model: StreamModel, options: ValidateOptions) -> list[Finding]:
    """Every cross-segment rule over the model of one byte stream."""
    return [
        *_init_changes(model),
        *(_continuity(model) if options.raw_timeline else _raps_only(model)),
        *_sync(model),
        *_durations(model, options.target_duration),
    ]


#: (first presentation time, last end, first segment, last segment), times as (ticks, timescale)
_Span = tuple[tuple[int, int], tuple[int, int], SegmentRecord, SegmentRecord]


def _kind_extent(
    model: StreamModel, kind: str
) -> tuple[Fraction, Fraction, SegmentRecord, SegmentRecord] | None:
    """(first presentation time, last end, first segment, last segment) of the first track of ``kind``."""
    span = _kind_span(model, kind)
    return None if span is None else _extent(span)


def _extent(span: _Span) -> tuple[Fraction, Fraction, SegmentRecord, SegmentRecord]:
    from fractions import Fraction  # only here: importing it costs every run

    return Fraction(*span[0]), Fraction(*span[1]), span[2], span[3]


def _kind_span(model: StreamModel, kind: str) -> _Span | None:
    """:func:`_kind_extent` in integers (check_pair builds rationals only for a pair of streams)."""
    # start = sn / sd and end = en / ed, compared by cross-multiplying (timescales are > 0)
    sn = en = 0
    sd = ed = 1
    first_seg: SegmentRecord | None = None
    last_seg: SegmentRecord | None = None
    kinds = _Kinds()
    for seg in model.segments:
        seg_kinds = kinds.of(seg)
        for tid, sp in seg.tracks.items():
            ts = sp.timescale
            if seg_kinds.get(tid, "other") != kind or ts <= 0 or sp.count == 0:
                continue
            if first_seg is None or sp.min_pts * sd < sn * ts:
                sn, sd, first_seg = sp.min_pts, ts, seg
            if last_seg is None or sp.max_end_pts * ed > en * ts:
                en, ed, last_seg = sp.max_end_pts, ts, seg
            break
    if first_seg is None or last_seg is None:
        return None
    return (sn, sd), (en, ed), first_seg, last_seg


def check_pair(models: list[StreamModel]) -> list[Finding]:
    """A/V start offset and end drift across SourceBuffers: one stream carrying only video, another only
    audio (separate video and audio segment sets of one presentation)."""
    spans = [(_kind_span(m, "video"), _kind_span(m, "audio")) for m in models]
    video = [vs for vs, as_ in spans if vs and not as_]
    audio = [as_ for vs, as_ in spans if as_ and not vs]
    if len(video) != 1 or len(audio) != 1:
        return []
    vs, as_ = video[0], audio[0]
    assert vs is not None and as_ is not None
    v, a = _extent(vs), _extent(as_)
    out: list[Finding] = []
    offset = a[0] - v[0]
    if abs(offset) * 10 > 1:
        lead = "audio" if offset < 0 else "video"
        seg = a[2]
        out.append(
            finding(
                "GEN-TIME-04",
                f"the audio stream starts at {float(a[0]):.3f} s, the video stream at {float(v[0]):.3f} s: "
                f"{lead} leads by {abs(float(offset)) * 1000:.1f} ms",
                file=seg.file,
                offset=seg.offset,
                box=seg.path,
            )
        )
    drift = (a[1] - v[1]) - offset
    if abs(drift) * 2 > 1:
        seg = a[3]
        out.append(
            finding(
                "GEN-TIME-05",
                f"the audio stream ends at {float(a[1]):.3f} s, the video stream at {float(v[1]):.3f} s: "
                f"{float(drift) * 1000:+.0f} ms apart beyond the start offset; buffered (the intersection) "
                "ends at the shorter one",
                file=seg.file,
                offset=seg.offset,
                box=seg.path,
            )
        )
    return out

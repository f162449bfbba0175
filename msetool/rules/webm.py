"""WebM byte stream format rules (w3c/mse-byte-stream-format-webm) and Chromium's WebM limits.

Two sources of findings share these rule ids:

* the segment parser (msetool.webm.stream, the one ``simulate`` runs) stops at the first byte a browser
  refuses and emits ParseFailed with a WEBM-* id: those become error findings through the engine;
* :func:`check_stream` walks the element tree of the whole run (msetool.webm.tree, headers only, constant
  memory) for what the parser does not stop at: spec violations Chromium tolerates, interop risks and
  facts worth knowing. Errors are left to the parser so validate never predicts a failure the browser
  would not have; everything here is a warning or info unless the parser agrees.

Rule ids and levels follow design/mse-rules.md §A.2.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from msetool.rules.catalog import APPEND_FAILS, ensure_rule, finding
from msetool.rules.findings import Finding
from msetool.source import ByteSource
from msetool.webm import schema as S
from msetool.webm.segments import (
    TRACK_TYPE_AUDIO,
    TRACK_TYPE_VIDEO,
    SegmentError,
    WebmInit,
    codec_string,
    opus_head_problem,
    parse_block_header,
    parse_info,
    parse_tracks,
)
from msetool.webm.tree import Element, EndOf, Problem, read_payload, walk

SPEC = "mse-byte-stream-format-webm"
CHR = "chromium media/formats/webm"

_APPEND_FAILS = APPEND_FAILS


_r = ensure_rule


_r("WEBM-MIME-01", "error", "Codec not allowed in this WebM type",
   "addSourceBuffer()/isTypeSupported() refuse the type: vorbis and opus are valid in audio/webm and "
   "video/webm; vp8, vp9, vp09.* (and av01.* in Chromium) only in video/webm.",
   f"{SPEC} §webm-mime-parameters")
_r("WEBM-MIME-02", "warning", "Legacy 'vp9' codec string",
   "Accepted, but the byte stream format asks apps to prefer the vp09.* form, which states profile, level "
   "and bit depth so support can be decided before download.", f"{SPEC} §webm-mime-parameters")
_r("WEBM-EBML-01", "error", "Malformed EBML element",
   "An invalid element ID or size, an element that overruns its parent, or an unknown size where only "
   "Segment and Cluster may have one. " + _APPEND_FAILS, "RFC 8794 §4-§6; chromium webm_parser.cc")
_r("WEBM-EBML-02", "error", "Element not allowed or repeated where it is",
   "Chromium's WebM parser refuses elements it does not know inside a Cluster or BlockGroup, and repeated "
   "single-valued elements. " + _APPEND_FAILS, f"{CHR}/webm_parser.cc, webm_cluster_parser.cc")
_r("WEBM-EBML-03", "warning", "Element under an unexpected parent",
   "The Matroska schema puts this element elsewhere; readers may skip or reject it.", "RFC 9559 §5")
_r("WEBM-EBML-04", "warning", "Stream ends inside an element outside any Cluster",
   "The browser keeps the partial element waiting for more bytes: an init segment cut short is never "
   "used, and whatever is appended next is read as its continuation.", "mse-byte-stream-format-webm")
_r("WEBM-INIT-01", "warning", "Init segment does not start with an EBML header",
   "The byte stream format requires EBML header + Segment header; Chromium tolerates a missing EBML header "
   "but other browsers may not.", f"{SPEC} §webm-init-segments")
_r("WEBM-INIT-02", "warning", "Segment size too small for Info and Tracks",
   "The Segment size must be unknown or cover the Info and Tracks that follow; Chromium ignores it.",
   f"{SPEC} §webm-init-segments")
_r("WEBM-INIT-03", "error", "Info and Tracks missing or out of order",
   "Info and Tracks must come, in that order, before any Cluster; Chromium fails the append with "
   "'Found Cluster element before Info.' or when anything but Tracks follows Info.",
   f"{SPEC} §webm-init-segments; {CHR}/webm_stream_parser.cc")
_r("WEBM-INIT-04", "error", "Unexpected top-level element",
   "Between segments Chromium skips only EBML, SeekHead, Void, CRC-32, Cues, Chapters, Tags and "
   "Attachments; anything else fails the append ('Unexpected element ID 0x..').",
   f"{SPEC} §webm-init-segments; {CHR}/webm_stream_parser.cc")
_r("WEBM-INIT-05", "info", "DocType is not 'webm'",
   "Matroska files ('matroska') are not the WebM byte stream format; Chromium does not check the DocType.",
   f"{SPEC} §webm-init-segments")
_r("WEBM-INIT-06", "info", "Segment duration from Info",
   "The MediaSource duration becomes Duration × TimestampScale when it is positive and no duration is set.",
   f"{CHR}/webm_stream_parser.cc")
_r("WEBM-INIT-07", "error", "Invalid TrackEntry",
   "A TrackEntry without TrackNumber/TrackType, or with a TrackType other than audio, video, subtitle or "
   "metadata. " + _APPEND_FAILS, f"{CHR}/webm_tracks_parser.cc")
_r("WEBM-INIT-08", "error", "Track the browser cannot configure",
   "Unsupported CodecID (audio: A_OPUS, A_VORBIS; video: V_VP8, V_VP9, V_AV1), a 0 ns DefaultDuration, "
   "missing sampling frequency or picture size. " + _APPEND_FAILS,
   f"{CHR}/webm_audio_client.cc, webm_video_client.cc")
_r("WEBM-INIT-10", "error", "Opus CodecPrivate the decoder refuses",
   "The OpusHead in CodecPrivate is shorter than 19 bytes or its channel count differs from the track's "
   "Channels: Chromium's decoder initialization fails right after the init segment "
   "(DECODER_ERROR_NOT_SUPPORTED) and the media element errors.", "RFC 7845 §5.1; Chromium 156 (measured)")
_r("WEBM-INIT-09", "info", "Extra tracks are ignored",
   "Chromium uses the first audio and the first video track of a WebM init segment and ignores the rest "
   "(and every text track).", f"{CHR}/webm_tracks_parser.cc")
_r("WEBM-MEDIA-02", "info", "Cluster of unknown size",
   "Allowed: it ends at the next Cluster or init segment. The last one only ends when more data comes; "
   "Chromium never completes it at endOfStream(), so its held-back last blocks stay unbuffered.",
   f"{SPEC} §webm-media-segments")
_r("WEBM-MEDIA-03", "error", "Cluster Timestamp missing or not first",
   "The Cluster Timestamp must precede every block. Chromium: 'Got a block before cluster timecode.'; a "
   "Cluster without Timestamp fails too. " + _APPEND_FAILS, f"{SPEC} §webm-media-segments")
_r("WEBM-MEDIA-04", "error", "Blocks not in time-increasing order",
   "Chromium: 'Got a block with a timecode before the previous block.' (checked across the Cluster's "
   "tracks). " + _APPEND_FAILS, f"{SPEC} §webm-media-segments")
_r("WEBM-MEDIA-05", "warning", "Cluster without a block of every track",
   "The spec requires a block of every audio and video track in each Cluster; Chromium tolerates it but "
   "may not detect discontinuities on the missing track.", f"{SPEC} §webm-media-segments")
_r("WEBM-MEDIA-07", "error", "Block timestamp out of range",
   "Cluster Timestamp + block timecode, scaled by TimestampScale, does not fit Chromium's 64-bit "
   "microsecond clock ('Invalid cluster timecode.'). " + _APPEND_FAILS, f"{CHR}/webm_cluster_parser.cc")
_r("WEBM-MEDIA-08", "error", "Block Chromium cannot use",
   "Lacing, TrackNumber > 127, a block of a track Tracks does not declare, more than one Block or "
   "BlockAdditional per BlockGroup, a BlockGroup without Block, a negative duration. " + _APPEND_FAILS,
   f"{CHR}/webm_cluster_parser.cc")
_r("WEBM-MEDIA-09", "warning", "Last block of a Cluster has no duration",
   "Chromium estimates it (largest duration seen on the track, else 23 ms audio / 63 ms video): buffered "
   "ranges end at a guessed time and gaps or overlaps can appear. End Clusters with BlockGroups carrying "
   "BlockDuration, or set DefaultDuration.", f"{CHR}/webm_cluster_parser.cc")
_r("WEBM-RAP-01", "warning", "Cluster does not start with a keyframe",
   "MSE needs a random access point after each discontinuity: the video frames before the Cluster's "
   "first keyframe are dropped when the Cluster starts a new coded frame group.",
   f"{SPEC} §webm-random-access-points")

_AUDIO_CODECS = ("opus", "vorbis")
_SKIPPED_WHOLE = ("EBML", "/SeekHead", "/Cues", "/Chapters", "/Tags", "/Attachments")
_VIDEO_PREFIXES = ("vp8", "vp9", "vp09.", "av01.")


def _mime_findings(mime: object) -> Iterator[Finding]:
    essence = getattr(mime, "essence", "")
    codecs: Iterable[str] = getattr(mime, "codecs", ()) or ()
    for c in codecs:
        lc = c.strip().lower()
        audio_ok = lc in _AUDIO_CODECS
        video_ok = lc in ("vp8", "vp9", "vp8.0", "vp9.0") or lc.startswith(_VIDEO_PREFIXES)
        if not audio_ok and not (video_ok and essence == "video/webm"):
            where = "audio/webm (opus, vorbis)" if essence == "audio/webm" else "video/webm"
            yield finding("WEBM-MIME-01", f"codec '{c}' is not a WebM codec allowed in {where}", offset=None)
        elif lc in ("vp9", "vp9.0"):
            yield finding("WEBM-MIME-02", "codecs='vp9' is the legacy form; prefer vp09.PP.LL.DD",
                          offset=None)


@dataclass(slots=True)
class _ClusterState:
    el: Element
    timecode_seen: bool = False
    tracks: dict[int, tuple[bool, int]] = field(default_factory=dict)  # track -> (last has duration, offset)
    first_video_key: bool | None = None
    group_block: tuple[int, bool] | None = None
    group_duration: bool = False
    group_reference: bool = False
    #: The BlockGroup being read holds the Cluster's first video block (keyframe known at its end).
    group_first_video: bool = False


def check_stream(ctx: object) -> Iterable[Finding]:
    """The engine's checker contract (msetool.rules.engine.CheckContext): findings, run-relative offsets."""
    source: ByteSource = ctx.source  # type: ignore[attr-defined]
    state: dict[str, object] = ctx.state  # type: ignore[attr-defined]
    mime = getattr(ctx, "mime", None)
    out: list[Finding] = []
    if mime is not None and not state.get("webm_mime_checked"):
        state["webm_mime_checked"] = True
        out.extend(_mime_findings(mime))
    out.extend(_walk_findings(source, state, expect_cut=bool(getattr(ctx, "ends_with_abort", False))))
    return out


def _walk_findings(source: ByteSource, state: dict[str, object], *, expect_cut: bool) -> Iterator[Finding]:
    tracks: dict[int, tuple[int, str, bool]] = state.get("webm_tracks", {})  # type: ignore[assignment]
    first = True
    cluster: _ClusterState | None = None
    info: Element | None = None
    segment: Element | None = None
    for ev in walk(source):
        if isinstance(ev, Problem):
            f = _problem_finding(ev, expect_cut)
            if f is not None:
                yield f
            continue
        if isinstance(ev, EndOf):
            if ev.element.id == S.CLUSTER and cluster is not None:
                yield from _end_cluster(cluster, tracks)
                cluster = None
            elif ev.element.id == S.BLOCK_GROUP and cluster is not None and cluster.group_block is not None:
                track, has_duration_source = cluster.group_block
                cluster.tracks[track] = (has_duration_source or cluster.group_duration, ev.element.offset)
                if cluster.group_first_video:
                    cluster.first_video_key = not cluster.group_reference
                    cluster.group_first_video = False
                cluster.group_block = None
            continue
        el = ev
        if first and el.depth == 0:
            first = False
            if el.id not in (S.EBML, S.CLUSTER) and not tracks:
                yield finding("WEBM-INIT-01", f"the stream starts with {el.name}, not an EBML header",
                              offset=el.offset, box=el.path)
        if el.id == 0x4282:
            doc = read_payload(source, el, 32).split(b"\0")[0].decode("latin-1")
            if doc != "webm":
                yield finding("WEBM-INIT-05", f"DocType is '{doc}', not 'webm'", offset=el.offset,
                              box=el.path)
        elif el.id == S.SEGMENT:
            segment = el
        elif el.id == S.INFO:
            info = el
        elif el.id == S.TRACKS:
            yield from _init_findings(source, info, el, segment, tracks)
        elif el.id == S.CLUSTER:
            if cluster is not None:
                yield from _end_cluster(cluster, tracks)
            cluster = _ClusterState(el)
            if el.size is None:
                yield finding("WEBM-MEDIA-02", "Cluster of unknown size", offset=el.offset, box=el.path)
        elif cluster is not None and el.id == S.TIMECODE:
            cluster.timecode_seen = True
        elif cluster is not None and el.id in (S.SIMPLE_BLOCK, S.BLOCK):
            _on_block(source, el, cluster, tracks)
        elif cluster is not None and el.id == S.BLOCK_GROUP:
            cluster.group_duration = cluster.group_reference = False
        elif cluster is not None and el.id == S.BLOCK_DURATION:
            cluster.group_duration = True
        elif cluster is not None and el.id == S.REFERENCE_BLOCK:
            cluster.group_reference = True
    if cluster is not None:
        yield from _end_cluster(cluster, tracks)
    state["webm_tracks"] = tracks


def _problem_finding(ev: Problem, expect_cut: bool) -> Finding | None:
    if ev.kind == "misplaced":
        return finding("WEBM-EBML-03", ev.message, offset=ev.offset, box=ev.path)
    if ev.kind == "truncated":
        # Inside a Cluster the engine reports it (GEN-TRUNC-01); an abort() after it is expected.
        if "Cluster" in ev.path or expect_cut:
            return None
        return finding("WEBM-EBML-04", f"the stream ends inside {ev.path}: {ev.message}", offset=ev.offset,
                       box=ev.path)
    if ev.kind == "segment-size":
        return finding("WEBM-INIT-02", ev.message, offset=ev.offset, box=ev.path)
    if any(part in ev.path for part in _SKIPPED_WHOLE):
        # Browsers skip these elements without reading inside them.
        return finding("WEBM-EBML-03", f"{ev.message} (inside an element browsers skip)", offset=ev.offset,
                       box=ev.path)
    return finding("WEBM-EBML-01", ev.message, offset=ev.offset, box=ev.path)


def _on_block(source: ByteSource, el: Element, cluster: _ClusterState,
              tracks: dict[int, tuple[int, str, bool]]) -> None:
    head = read_payload(source, el, 16)
    hdr = parse_block_header(head)
    if hdr is None:
        return
    info_t = tracks.get(hdr.track)
    if info_t is None:
        return
    ttype, codec_id, has_default = info_t
    has_src = has_default or (codec_id == "A_OPUS" and len(head) > hdr.header_size)
    if ttype == TRACK_TYPE_VIDEO and cluster.first_video_key is None and not cluster.group_first_video:
        if el.id == S.SIMPLE_BLOCK:
            cluster.first_video_key = hdr.keyframe_flag
        else:
            cluster.group_first_video = True
    if el.id == S.SIMPLE_BLOCK:
        cluster.tracks[hdr.track] = (has_src, el.offset)
    else:
        cluster.group_block = (hdr.track, has_src)


def _init_findings(source: ByteSource, info: Element | None, tracks_el: Element, segment: Element | None,
                   tracks: dict[int, tuple[int, str, bool]]) -> Iterator[Finding]:
    init = WebmInit()
    try:
        if info is not None:
            data = source.read_at(info.payload_offset, info.end - info.payload_offset)
            parse_info(data, 0, len(data), info.payload_offset, init)
        data = source.read_at(tracks_el.payload_offset, tracks_el.end - tracks_el.payload_offset)
        parse_tracks(data, 0, len(data), tracks_el.payload_offset, init)
    except SegmentError:
        return  # the parser reports it (same code) as an error
    if segment is not None and segment.size is not None and segment.end < tracks_el.end:
        yield finding("WEBM-INIT-02", f"Segment size {segment.size} ends before Tracks does",
                      offset=segment.offset, box=segment.path)
    d = init.duration_seconds()
    if d is not None:
        yield finding("WEBM-INIT-06", f"Info Duration gives the MediaSource a duration of {float(d):g} s",
                      offset=info.offset if info else None, box=info.path if info else "")
    tracks.clear()
    seen: set[int] = set()
    for i, t in enumerate(init.tracks):
        has_default = bool(t.default_duration and t.default_duration >= init.timecode_scale)
        if t.type in (TRACK_TYPE_AUDIO, TRACK_TYPE_VIDEO) and t.type not in seen:
            seen.add(t.type)
            tracks[t.number] = (t.type, t.codec_id, has_default)
            problem = opus_head_problem(t)
            if problem is not None:
                # valid byte stream (the parser accepts it and marks TrackInfo.decode_error), but Chromium's
                # decoder initialization fails once the pipeline starts: the element errors
                yield finding("WEBM-INIT-10", f"{problem}: Chromium's audio decoder initialization fails "
                              "after the init segment (DECODER_ERROR_NOT_SUPPORTED)", offset=t.offset,
                              box=f"{tracks_el.path}/TrackEntry[{i + 1}]")
        else:
            kind = {TRACK_TYPE_AUDIO: "audio", TRACK_TYPE_VIDEO: "video"}.get(t.type, "text")
            yield finding("WEBM-INIT-09",
                          f"{kind} track {t.number} ({codec_string(t)}) is ignored by Chromium",
                          offset=t.offset, box=tracks_el.path)


def _end_cluster(c: _ClusterState, tracks: dict[int, tuple[int, str, bool]]) -> Iterator[Finding]:
    path = c.el.path
    for number, (ttype, _codec, _d) in tracks.items():
        if number not in c.tracks:
            kind = "audio" if ttype == TRACK_TYPE_AUDIO else "video"
            yield finding("WEBM-MEDIA-05", f"no block of {kind} track {number} in this Cluster",
                          offset=c.el.offset, box=path)
    for number, (has_duration, off) in c.tracks.items():
        if not has_duration:
            yield finding("WEBM-MEDIA-09", f"the Cluster's last block of track {number} has no duration: "
                          "Chromium estimates it", offset=off, box=path)
    if c.first_video_key is False:
        yield finding("WEBM-RAP-01", "the Cluster's first video block is not a keyframe", offset=c.el.offset,
                      box=path)


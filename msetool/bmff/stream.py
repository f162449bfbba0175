"""The ISO BMFF segment parser the simulator runs: a sans-IO state machine fed appended bytes.

With ``profile="chromium"`` it follows Chromium's MP4StreamParser (media/formats/mp4/mp4_stream_parser.cc,
box_reader.cc, box_definitions.cc, track_run_iterator.cc), because the spec leaves these details to the
implementation and the oracle is Chromium 156:

* Top-level boxes are read whole. A header with size 0 ("ISO BMFF boxes that run to EOS are not
  supported"), a size below the header or above 2^31-1 fails the append; a complete box whose type is not
  one of Chromium's top-level types fails it ("Invalid top-level ISO BMFF box type"). ``moov`` builds the
  init segment, ``moof`` starts a media segment, anything else (ftyp, styp, sidx, emsg, prft, free, a plain
  mdat, ...) is skipped.
* A moof is parsed and its runs are laid out (TrackRunIterator): every trun is read at
  ``moof start + data_offset``, composition offsets are signed, the first edit's media_time is subtracted
  from every PTS, keyframe = sync sample and (for video) not "depends on others". Runs are visited in
  order of their data offset.
* Samples are emitted as soon as their bytes are present; with both audio and video tracks, only once the
  bytes up to the end of the moof's last sample are present (HaveEnoughDataToEnqueueSamples). After each
  sample, complete boxes between the moof and the next needed byte are consumed as mdats (any type, with
  "Unexpected box type while parsing MDATs"). The segment ends when every run is done.
* Chromium parses an append in slices of 128 KiB (StreamParser::kMaxPendingBytesPerParse) and hands the
  frames of each slice to the frame processor at the end of the slice (and at each segment end); when a
  slice fails, the frames parsed in it are dropped. The events reproduce that grouping.

``profile="spec"`` keeps the same structure but reads fragments by ISO BMFF addressing rules, emits frames
as soon as they are complete (no slices, nothing dropped before an error), trusts the container's sync
flags, accepts any printable top-level box type, and fails where the spec says MUST and Chromium does not
check (non-empty sample tables in moov, a moof without traf, several trafs without default-base-is-moof).

Chromium-only behaviours kept out of the spec profile: the codec family check against the SourceBuffer
type (SourceBufferState::OnNewConfigs, done here because the parser has the type) and the H.264 sample
preparation of :mod:`msetool.bmff.avc` (NAL lengths must add up; the IDR analysis overrides sync flags).
"""

from __future__ import annotations

import struct
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from itertools import compress

import msetool.bmff.rules  # noqa: F401  (registers the rule ids used below)
from msetool.bmff.avc import SLICE_IDR, SLICE_NON_IDR, AvcSampleCheck, check_avc_sample, odd_samples
from msetool.bmff.reader import parse_boxes, printable_type
from msetool.bmff.segments import Mp4Init, Mp4Track, SegmentError, expand_traf, read_init, sample_budget_error
from msetool.bmff.tree import Box, BoxIssue
from msetool.codecs import decodable as dc
from msetool.codecs.derive import original_format
from msetool.codecs.rfc6381 import CodecError, codec_family
from msetool.mime import MimeType
from msetool.model import CodedFrame
from msetool.records import Record
from msetool.stream import (
    PREROLL_MS,
    FrameColumns,
    FramesParsed,
    InitSegmentParsed,
    MediaSegmentEnded,
    MediaSegmentStarted,
    ParseFailed,
    ParserEvent,
    ParseWarning,
    Profile,
    may_preroll_at_start,
)

#: StreamParser::kMaxPendingBytesPerParse: Chromium parses each append in slices of this many bytes.
CHROMIUM_SLICE = 128 * 1024
INT32_MAX = 0x7FFFFFFF
#: box_reader.cc IsValidTopLevelBox
CHROMIUM_TOP_LEVEL = frozenset({"ftyp", "pdin", "bloc", "moov", "moof", "mfra", "mdat", "free", "skip",
                                "meta", "meco", "styp", "sidx", "ssix", "prft", "uuid", "emsg"})
#: Containers Chromium scans (ScanChildren) on its way to the boxes it reads: a structural problem of a
#: direct child of one of these fails the parse.
_SCANNED = frozenset({"moov", "trak", "mdia", "minf", "stbl", "stsd", "mvex", "edts", "sinf", "schi", "moof",
                      "traf", "avc1", "avc3", "hvc1", "hev1", "av01", "vp09", "encv", "mp4a", "enca", "Opus",
                      "fLaC", "ac-3", "ec-3", "dvh1", "dvhe"})
#: Boxes Chromium decodes in moov/moof: a short payload fails the parse.
_DECODED = frozenset({"mvhd", "tkhd", "mdhd", "hdlr", "stsd", "elst", "mehd", "trex", "pssh", "frma", "schm",
                      "tenc", "avcC", "hvcC", "av1C", "vpcC", "esds", "dOps", "dfLa", "dac3", "dec3", "mfhd",
                      "tfhd", "tfdt", "trun", "sdtp", "saiz", "saio", "sbgp", "sgpd", "senc"})
_VIDEO_FORMATS = frozenset({"avc1", "avc3", "hvc1", "hev1", "av01", "vp09", "dvh1", "dvhe", "dva1", "dvav"})
_AUDIO_FORMATS = frozenset({"mp4a", "Opus", "fLaC"})
_AAC_OTIS = frozenset({0x40, 0x66, 0x67, 0x68})
_MAX_EMPTY_SAMPLE_LOGS = 20
_MAX_KEYFRAME_MISMATCH_LOGS = 10
#: std::numeric_limits<int64_t>::max() / base::Time::kMicrosecondsPerSecond
_MAX_SECONDS = 0x7FFFFFFFFFFFFFFF // 1_000_000
_VIDEO_FAMILIES = frozenset({"avc", "hevc", "av1", "vp9", "vp8", "dolbyvision", "vvc"})
#: media::GetCodecName for the families MSE-in-MP4 carries
_CHROMIUM_CODEC_NAMES = {"avc": "h264", "hevc": "hevc", "av1": "av1", "vp9": "vp9", "vp8": "vp8",
                         "aac": "aac", "mp3": "mp3", "opus": "opus", "flac": "flac", "ac3": "ac3",
                         "eac3": "eac3"}

_BOXES, _WAITING, _EMITTING, _ERROR = 0, 1, 2, 3
_HDR = struct.Struct(">I4s")
_U64 = struct.Struct(">Q")


class _Fail(Exception):
    def __init__(self, message: str, offset: int, path: str = "", rule: str = "BMFF-BOX-03") -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.path = path
        self.rule = rule


class _Run(Record):
    __slots__ = __match_args__ = (
        "track_id", "timescale", "start", "dts", "pts", "duration", "size", "offset", "keyframe",
        "avc_length_size", "missing_encryption_info", "check", "first_of_traf", "representable", "ends",
        "stops", "preroll", "special",
    )  # fmt: skip
    track_id: int
    timescale: int
    start: int  # absolute offset of the run's first sample
    dts: list[int]
    pts: list[int]
    duration: list[int]
    size: list[int]
    offset: list[int]
    keyframe: list[bool]
    #: avcC NAL length size when Chromium converts and analyses these samples (H.264 video), else None
    avc_length_size: int | None
    #: why the run's samples have no decryption info (Chromium fails on the first sample), or None
    missing_encryption_info: str | None
    #: indexes of the samples whose H.264 bytes are analysed (None: all of them)
    check: set[int] | None
    #: the run is the first of its track fragment
    first_of_traf: bool
    #: every time of the run fits Chromium's int64 microseconds (so no sample needs the check)
    representable: bool
    #: end (offset + size) of each sample; like the offsets, non-decreasing (a trun's samples follow each
    #: other), so the samples present below a byte limit are a prefix found by bisection
    ends: list[int]
    #: indexes where a batch stops (empty samples, skipped with a warning; sizes Chromium refuses), ascending
    stops: list[int]
    #: indexes of the samples a paused element prerolls (their decode check runs), ascending
    preroll: list[int]
    #: indexes whose emission needs per-sample work (H.264 analysis, a preroll decode check), ascending
    special: Sequence[int]

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        track_id: int,
        timescale: int,
        start: int,
        dts: list[int],
        pts: list[int],
        duration: list[int],
        size: list[int],
        offset: list[int],
        keyframe: list[bool],
        avc_length_size: int | None = None,
        missing_encryption_info: str | None = None,
        check: set[int] | None = None,
        first_of_traf: bool = False,
        representable: bool = False,
        ends: list[int] | None = None,
        stops: list[int] | None = None,
        preroll: list[int] | None = None,
        special: Sequence[int] = (),
    ) -> None:
        self.track_id = track_id
        self.timescale = timescale
        self.start = start
        self.dts = dts
        self.pts = pts
        self.duration = duration
        self.size = size
        self.offset = offset
        self.keyframe = keyframe
        self.avc_length_size = avc_length_size
        self.missing_encryption_info = missing_encryption_info
        self.check = check
        self.first_of_traf = first_of_traf
        self.representable = representable
        self.ends = [] if ends is None else ends
        self.stops = [] if stops is None else stops
        self.preroll = [] if preroll is None else preroll
        self.special = special


#: frames parsed but not yet handed out: (run, first index, end index, keyframe overrides by run index,
#: decode errors by run index, the decode error of every frame of the run's track in this moof)
_Piece = tuple[_Run, int, int, dict[int, bool] | None, dict[int, str] | None, str | None]


def _columns(piece: _Piece) -> FrameColumns:
    """The frames of a piece as columns: slices of the run's sample tables (the tables themselves for a
    whole run: nothing changes them once laid out, and columns are read-only), sparse decode errors."""
    run, lo, hi, keys, errs, bad = piece
    if lo == 0 and hi == len(run.dts) and not keys and bad is None:
        return FrameColumns(run.track_id, run.timescale, run.dts, run.pts, run.duration, run.size, run.offset,
                            run.keyframe, errs or {})
    key = run.keyframe[lo:hi]
    if keys:
        for k, v in keys.items():
            key[k - lo] = v
    if bad is not None:
        errors = {k - lo: (errs.get(k) if errs else None) or bad for k in range(lo, hi)}
    elif errs:
        errors = {k - lo: v for k, v in errs.items()}
    else:
        errors = {}
    return FrameColumns(run.track_id, run.timescale, run.dts[lo:hi], run.pts[lo:hi], run.duration[lo:hi],
                        run.size[lo:hi], run.offset[lo:hi], key, errors)


def _misaddressed_trafs(trafs: list[Box], moof: Box, init: Mp4Init, chromium: bool) -> dict[int, str]:
    """Track fragments whose samples Chromium reads from bytes the writer did not mean (decode errors).

    With several trafs, no base-data-offset and no default-base-is-moof, ISO/IEC 14496-12 8.8.7.1 makes
    the second and later trafs count their data_offset from the end of the previous traf's data, while
    Chromium's TrackRunIterator counts every one from the moof. Where the two readings differ and only
    the ISO one lays the trafs' samples out without overlap and after the moof (the moof-relative
    one overlaps another traf's samples or points into the moof itself), the writer meant ISO:
    Chromium still parses the segment but hands those tracks' decoders other bytes (measured in
    Chromium 156: PIPELINE_ERROR_DECODE "Failed to send audio packet for decoding"). Returns
    track_ID -> reason.
    """
    if not chromium or len(trafs) < 2:
        return {}
    tfhds = [t.child("tfhd") for t in trafs]
    if all(h is not None and h.get("default_base_is_moof") for h in tfhds):
        return {}
    moof_rel: dict[int, list[tuple[int, int]]] = {}
    iso: dict[int, list[tuple[int, int]]] = {}
    next_base: int | None = None
    for traf, tfhd in zip(trafs, tfhds, strict=True):
        track = init.track(tfhd.get("track_ID")) if tfhd is not None else None
        if tfhd is None or track is None or track.trex is None:
            return {}
        try:
            c = expand_traf(traf, moof, track, dialect="chromium")
            i = expand_traf(traf, moof, track, dialect="iso",
                            base_offset=None if tfhd.get("default_base_is_moof") else next_base)
        except SegmentError:
            return {}
        next_base = i.data_end if i.data_end is not None else next_base
        moof_rel[track.track_id] = list(zip(c.offset, c.size, strict=True))
        iso[track.track_id] = list(zip(i.offset, i.size, strict=True))

    def overlapping(layout: dict[int, list[tuple[int, int]]]) -> bool:
        end, owner = -1, None
        for o, e, tid in sorted((o, o + n, tid) for tid, samples in layout.items() for o, n in samples if n):
            if o < end and tid != owner:
                return True
            if e > end:
                end, owner = e, tid
        return False

    def inside_moof(layout: dict[int, list[tuple[int, int]]]) -> bool:
        return any(o < moof.end for samples in layout.values() for o, n in samples if n)

    differ = [tid for tid in moof_rel if moof_rel[tid] != iso[tid]]
    if not differ or overlapping(iso) or inside_moof(iso):
        return {}
    if not overlapping(moof_rel) and not inside_moof(moof_rel):
        return {}  # both readings are plausible: the writer may have meant moof-relative addressing
    return {tid: f"track {tid}: no default-base-is-moof, so ISO/IEC 14496-12 addressing puts this traf's "
                 "data after the previous traf's, but Chromium reads it relative to the moof (other "
                 "bytes)" for tid in differ}




def _decode_check(track: Mp4Track) -> Callable[[bytes], str | None] | None:
    """The byte-level decode check for a track's frames (:mod:`msetool.codecs.decodable`, which
    BMFF-MEDIA-33 uses too): syntax FFmpeg's AAC / H.264 decoders, libvpx or dav1d refuse before any
    entropy-coded data."""
    entry = track.entries[0] if track.entries else None
    if entry is None:
        return None
    if entry.type in ("vp09",):
        return dc.undecodable_vp9_frame
    if entry.type in ("av01",):
        return dc.undecodable_av1_frame
    if entry.type == "Opus":  # single-stream packets only (mapping family 0), as BMFF-MEDIA-33
        dops = entry.child("dOps")
        if dops is None or not dops.decoded or dops.fields.get("ChannelMappingFamily", 0) != 0:
            return None
        return dc.undecodable_opus_frame
    try:
        if entry.type == "mp4a":
            esds = entry.child("esds")
            asc = esds.fields.get("AudioSpecificConfig") if esds is not None and esds.decoded else None
            if asc is None or esds is None or esds.fields.get("objectTypeIndication") != 0x40:
                return None
            aot, cc = int(asc.audioObjectType), int(asc.channelConfiguration)
            return lambda data: dc.undecodable_aac_frame(data, aot, cc)
        if entry.type in ("avc1", "avc3"):
            avcc = entry.child("avcC")
            if avcc is None or not avcc.decoded:
                return None
            length = int(avcc.fields["lengthSizeMinusOne"]) + 1
            if entry.type == "avc1" and not avcc.fields.get("sequenceParameterSets"):
                return lambda data: None if _has_nal(data, length, 7) else (
                    "avc1 whose avcC holds no SPS and a sample without one: FFmpeg has no sequence "
                    "parameters to decode it with")
            w, h = int(entry.get("width") or 0), int(entry.get("height") or 0)
            pps = frozenset(
                dc.pps_id(bytes(p)) for p in avcc.fields.get("pictureParameterSets", []) if len(p) > 1
            )
            mbs = ((w + 15) // 16) * ((h + 15) // 16)
            return lambda data: dc.undecodable_avc_frame(data, length, pps, mbs, None)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return None


def _has_nal(sample: bytes, length: int, nal_type: int) -> bool:
    """Whether a length-prefixed H.264 sample holds a NAL unit of ``nal_type``."""
    pos = 0
    while pos + length < len(sample):
        size = int.from_bytes(sample[pos : pos + length], "big")
        if sample[pos + length] & 0x1F == nal_type:
            return True
        pos += length + size
    return False


def _preroll_checks(
    runs: list[_Run], init: Mp4Init, known: dict[int, Callable[[bytes], str | None] | None] | None = None,
    *, start_only: bool = False,
) -> dict[int, Callable[[bytes], str | None]]:
    """The samples of this moof that a paused element decodes if the fragment starts its first range:
    per track, from its earliest run, the first sync frame and the 3 after it (video) or the frames of
    the first 200 ms (audio). Only those are read and checked; whether they are decoded is the
    simulator's call. ``known`` keeps each track's decode check across the moofs of one init segment
    (it depends on the track's sample entry only, and building it parses the codec configuration).
    ``start_only``: of those, only the ones that may_preroll_at_start (see preroll_scope)."""
    first: dict[int, _Run] = {}
    for r in runs:
        if r.dts and (r.track_id not in first or r.dts[0] < first[r.track_id].dts[0]):
            first[r.track_id] = r
    out: dict[int, Callable[[bytes], str | None]] = {}
    for tid, r in first.items():
        track = init.track(tid)
        if known is not None and tid in known:
            check = known[tid]
        else:
            check = _decode_check(track) if track is not None and not track.info.encrypted else None
            if known is not None:
                known[tid] = check
        if check is None:
            continue
        if track is not None and track.kind == "audio":
            horizon = r.timescale * PREROLL_MS // 1000  # the audio the paused element decodes
            t = 0
            for k, off in enumerate(r.offset):
                if not start_only or may_preroll_at_start(r.pts[k], r.duration[k], r.timescale):
                    out[off] = check
                t += r.duration[k]
                if t >= horizon or k >= 64:
                    break
        else:
            sync = next((i for i, key in enumerate(r.keyframe) if key), None)
            if sync is not None:  # the video renderer has enough with 4 frames (kMaxVideoFrames)
                for k in range(sync, min(sync + 4, len(r.offset))):
                    if not start_only or may_preroll_at_start(r.pts[k], r.duration[k], r.timescale):
                        out[r.offset[k]] = check
    return out


def _fourcc_text(t: str) -> str:
    return t if printable_type(t) else "0x" + t.encode("latin-1").hex()


def _scheme(sinf: Box) -> str | None:
    schm = sinf.child("schm")
    return None if schm is None else schm.get("scheme_type")


def strict_object_types(mime: MimeType | None) -> set[int] | None:
    """The esds object types the SourceBuffer type allows (Chromium's strict_audio_object_types_), or
    None when the type names no mp4a codec (then any object type is accepted)."""
    if mime is None or not mime.codecs:
        return None
    out: set[int] = set()
    seen_mp4a = False
    for c in mime.codecs:
        low = c.strip().lower()
        if low.startswith("mp4a."):
            seen_mp4a = True
            parts = low.split(".")
            try:
                oti = int(parts[1], 16)
            except (IndexError, ValueError):
                continue
            out.add(oti)
            if oti == 0x40:
                out.add(0x40)
        elif low == "mp3":
            seen_mp4a = True
            out.update({0x69, 0x6B})
    return out if seen_mp4a else None


class BmffStreamParser:
    """ByteStreamParser for ``video/mp4`` and ``audio/mp4`` (see the module docstring)."""

    generate_timestamps = False
    #: track_ID -> why Chromium cannot decode the current moof's samples of that track (see
    #: _misaddressed_trafs); the frames carry it as CodedFrame.decode_error
    _decode_errors: dict[int, str] = {}  # noqa: RUF012 - replaced per moof, never mutated
    #: sample offset -> decode check, for the samples of the current moof a paused element prerolls
    _preroll_checks: dict[int, Callable[[bytes], str | None]] = {}  # noqa: RUF012 - replaced per moof

    def __init__(self, mime: MimeType | None = None, profile: Profile = "chromium") -> None:
        self.mime = mime
        self.profile: Profile = profile
        self._chromium = profile != "spec"
        self._strict_otis = strict_object_types(mime)
        self._has_flac = mime is None or not mime.codecs or any(
            c.strip().lower() == "flac" for c in mime.codecs)
        #: the bytes held (an appended ``bytes`` object as it is while nothing else is held: no copy)
        self._buf: bytes | bytearray = bytearray()
        self._start = 0  # index in _buf of stream offset _bhead
        self._head = 0  # stream offset of the first byte Chromium's queue still holds (ByteQueue head)
        #: stream offset of the first byte physically held in _buf (>= _head: bytes between the two were
        #: skipped, see skip(); the few of them still needed are kept in _pins)
        self._bhead = 0
        #: saved byte ranges before _bhead that are still needed, keyed by start offset: box headers of the
        #: mdat chain and H.264 samples awaiting analysis
        self._pins: dict[int, tuple[bytes | bytearray, int, int]] = {}  # offset -> (buffer, index, length)
        #: which H.264 samples get Chromium's NAL preparation check: "all" (what Chromium does, the default),
        #: or "rap" (the first sample of each track fragment and the container's sync samples: what decides
        #: random access, so bytes of the other samples need never be read)
        self.sample_checks: str = "all"
        #: which fragments' prerolled samples get their decode check: "all" (the default: any fragment may
        #: start a range) or "start" (only samples that may_preroll_at_start, the ones validate reads),
        #: for a consumer whose element has prerolled already (the SourceBuffer sets it then): on a long
        #: output these checks were ~9% of the packager's self-check, nearly all of them on fragments no
        #: paused element decodes
        self.preroll_scope: str = "all"
        self._checks: list[tuple[int, int]] = []  # (offset, size) of samples to analyse, by offset
        #: _checks is still to be built from the runs (see _layout): only skippable()/skip() read it
        self._checks_due = False
        #: track_ID -> its frames' decode check (or None), for the init segment in use (_preroll_checks)
        self._decode_checks: dict[int, Callable[[bytes], str | None] | None] = {}
        self._ci = 0
        self._cp = 0  # _plan()'s cursor: checks before it are done, present, or before the buffer
        self._checked: set[tuple[int, int]] = set()
        #: H.264 verdicts computed ahead of a coalesced pass, and the stream offset its slices count from
        self._avc_cache: dict[tuple[int, int], AvcSampleCheck] = {}
        self._slice_base: int | None = None
        self._monotone = False
        self._tail = 0  # stream offset after the last byte fed
        self._limit = 0  # max parse offset of the current slice
        self._state = _BOXES
        self._skip_to: int | None = None
        self._skip_fail: _Fail | None = None
        self._init: Mp4Init | None = None
        self._ftyp_offset: int | None = None
        self._muxed = False
        self._av_tracks: dict[int, str] = {}
        self._moof_head = 0
        self._mdat_tail = 0
        self._highest_end = 0
        self._runs: list[_Run] = []
        self._ri = 0
        self._si = 0
        #: frames parsed since the last hand-out, as contiguous pieces of runs (see :func:`_columns`)
        self._pending: list[_Piece] = []
        self._empty_logs = 0
        self._keyframe_logs = 0
        self._counts: dict[str, int] = {}
        #: (track_ID, tfhd sample_description_index) -> (H.264 NAL length size, protected sample entry)
        self._entry_info: dict[tuple[int, int], tuple[int | None, bool]] = {}
        #: _plan()'s answer until the next feed/skip/reset (the engine asks skippable(), then wanted())
        self._plan_memo: tuple[int, int, list[tuple[int, int]]] | None = None

    # -- protocol ---
    @property
    def in_media_segment(self) -> bool:
        return self._state in (_WAITING, _EMITTING)

    def reset(self) -> None:
        """Reset parser state (abort()): buffered bytes and the partial media segment are dropped; the init
        segment stays (Chromium MP4StreamParser::Flush)."""
        if self._state == _ERROR:
            return
        self._plan_memo = None
        self._drop(self._tail)
        self._limit = self._tail
        self._pins = {}
        self._checks = []
        self._checks_due = False
        self._skip_to = None
        self._skip_fail = None
        self._runs = []
        self._pending = []
        self._state = _BOXES

    def flush(self) -> list[ParserEvent]:
        return []

    def feed(self, data: bytes) -> list[ParserEvent]:
        if self._state == _ERROR:
            return []
        self._plan_memo = None
        if self._start >= len(self._buf) and type(data) is bytes:
            self._buf = data  # immutable: held as it is (nothing else is held, pins keep their own buffers)
            self._start = 0
        else:
            if type(self._buf) is not bytearray:
                self._buf = bytearray(self._buf)
            self._buf += data
        self._tail += len(data)
        return self._run_slices()

    # -- fast path (msetool.rules.engine): bytes nothing will read need not be fed ---
    def skippable(self) -> int:
        """How many of the next bytes no check will read (the rest of an mdat, samples that are not
        analysed); :meth:`skip` advances past them with the same events feeding them would give."""
        if self._state == _ERROR:
            return 0
        if self._state == _BOXES:
            if self._skip_to is not None and self._head >= self._tail:
                return max(0, self._skip_to - self._tail)
            return 0
        need, _want, _pins = self._plan()
        return max(0, need - self._tail)

    def wanted(self) -> int:
        """How many more bytes the parser needs before it can decide anything (0: no idea, feed a chunk)."""
        if self._state == _ERROR:
            return 0
        if self._state == _BOXES:
            if self._skip_to is not None:
                return 0
            pos = self._head
            if self._tail - pos < 16:
                return pos + 16 - self._tail
            try:
                hdr = self._header(pos, self._tail)
            except _Fail:
                return 0
            if hdr is not None and hdr[0] in ("moov", "moof"):
                return max(0, pos + hdr[1] - self._tail)
            return 0
        _need, want, _pins = self._plan()
        return max(0, want - self._tail)

    def skip(self, n: int) -> list[ParserEvent]:
        """Advance past ``n`` bytes without their values (at most :meth:`skippable`)."""
        if self._state == _ERROR or n <= 0:
            return []
        if n > self.skippable():
            raise ValueError(f"cannot skip {n} bytes here")
        if self._state != _BOXES:
            _need, _want, pins = self._plan()
            pins = pins + self._check_pins()
            old = self._buf  # replaced below and never changed again: pins point into it, no copy
            for pos, length in pins:
                if pos not in self._pins or self._pins[pos][2] < length:
                    self._pins[pos] = (old, self._idx(pos), length)
        self._plan_memo = None
        # Nothing before the tail is read from the buffer any more (what is still needed is pinned).
        self._buf = bytearray()
        self._start = 0
        self._tail += n
        self._bhead = self._tail
        if self._chromium and self._state in (_WAITING, _EMITTING) and self._clean_to_end():
            return self._run_coalesced()
        return self._run_slices()

    def _clean_to_end(self) -> bool:
        """The rest of the media segment is present and nothing in it can fail the append (so the 128 KiB
        slices only group the frames, and :meth:`_run_coalesced` may parse it in one pass). The H.264
        analyses are done here and cached for the pass."""
        if self._tail < self._highest_end:
            return False
        head = self._head
        last: dict[int, int] = {}
        self._monotone = True
        for ri in range(self._ri, len(self._runs)):
            r = self._runs[ri]
            if not r.offset:
                continue
            if not r.representable or r.missing_encryption_info is not None:
                return False
            # DTS only grows inside a run; across runs of one track it may go back (then the slice
            # boundaries decide what the frame processor sees together)
            if r.dts[0] < last.get(r.track_id, r.dts[0]):
                self._monotone = False
            last[r.track_id] = r.dts[-1]
            if max(r.size) > INT32_MAX or min(r.offset) < head:
                return False
            ls = r.avc_length_size
            if ls is None:
                continue
            first = self._si if ri == self._ri else 0
            for i in (range(first, len(r.offset)) if r.check is None else sorted(r.check)):
                off, size = r.offset[i], r.size[i]
                if i < first or size == 0:
                    continue
                try:
                    src, at = self._src(off)
                except KeyError:
                    return False
                c = check_avc_sample(src, ls, at, size)
                self._avc_cache[(off, size)] = c
                key = r.keyframe[i] if c.is_keyframe is None else c.is_keyframe
                if not c.converted or (key and not c.first_nal_ok):
                    return False
        return True

    def _run_coalesced(self) -> list[ParserEvent]:
        """One parse pass up to the tail instead of one per 128 KiB slice; the frames are still handed out
        as Chromium would group them where it matters (see :meth:`_flush_frames`)."""
        events: list[ParserEvent] = []
        self._slice_base = self._limit
        self._limit = self._tail
        try:
            self._parse(events)
        except _Fail as f:  # not expected after _clean_to_end; handled like the sliced loop
            self._pending = []
            events.append(ParseFailed(f.message, f.offset, f.path, f.rule))
            self._state = _ERROR
            self._buf = bytearray()
            self._start = 0
            self._pins = {}
            return events
        finally:
            self._avc_cache = {}
        self._flush_frames(events)
        self._slice_base = None
        return events

    def _plan(self) -> tuple[int, int, list[tuple[int, int]]]:
        """In a media segment: (first offset >= tail whose bytes will be read, end of what to read next, byte
        ranges before the tail still needed). Read are the box headers between the moof and the end of its
        samples (ReadAndDiscardMDATsUntil) and the samples to analyse; everything else is skippable."""
        if self._plan_memo is not None:
            return self._plan_memo
        tail = self._tail
        pins: list[tuple[int, int]] = []
        p = self._mdat_tail
        need = want = tail
        while True:
            if p >= self._highest_end:
                need, want = p, p  # boxes after the segment are read whole by the box loop
                break
            if p + 8 > tail:
                need, want = p, p + 16
                break
            src, i = self._src(p)
            size, raw = _HDR.unpack_from(src, i)
            h = 8
            if size == 1:
                if p + 16 > tail:
                    need, want = p, p + 16
                    break
                size = _U64.unpack_from(src, i + 8)[0]
                h = 16
            if raw != b"mdat" or size < h or size > INT32_MAX:
                need, want = p, p  # not an mdat: its bytes are fed
                break
            if p >= self._bhead:
                pins.append((p, h))
            p += size
        # The first sample to analyse whose bytes are not all here yet. Samples before it are done, before
        # the queue head (never emitted), or present (pinned by skip(), see _check_pins); each of these
        # only stays so while the tail, the head and the analysed set grow, so the cursor only moves on.
        checks, checked, bhead = self._check_list(), self._checked, self._bhead
        while self._ci < len(checks) and checks[self._ci] in checked:
            self._ci += 1
        j = max(self._ci, self._cp)
        while j < len(checks):
            o, sz = checks[j]
            if o + sz <= tail or o + sz <= bhead or (o, sz) in checked:
                j += 1
                continue
            if o < need:
                need = max(o, tail)
                want = o + sz
            break
        self._cp = j
        self._plan_memo = (need, max(want, need), pins)
        return self._plan_memo

    def _check_list(self) -> list[tuple[int, int]]:
        """(offset, size) of the current moof's samples to analyse, by offset (see :meth:`_layout`): with
        ``sample_checks="all"`` every non-empty H.264 sample and every prerolled one, built on first use."""
        if self._checks_due:
            self._checks_due = False
            checks: list[tuple[int, int]] = []
            for r in self._runs:
                if r.avc_length_size is not None and r.check is None:
                    checks += [(o, sz) for o, sz in zip(r.offset, r.size, strict=True) if sz > 0]
            if self._preroll_checks:  # samples a decode check reads are needed too (never skipped)
                for r in self._runs:
                    checks += [(r.offset[i], r.size[i]) for i in r.preroll if r.size[i] > 0]
            checks.sort()
            self._checks = checks
        return self._checks

    def _check_pins(self) -> list[tuple[int, int]]:
        """Samples to analyse that are all here (before the plan's cursor), not analysed yet and not before
        the buffer: skip() pins their bytes."""
        checked, bhead, tail = self._checked, self._bhead, self._tail
        return [(o, sz) for o, sz in self._checks[self._ci : self._cp]
                if (o, sz) not in checked and o + sz > bhead and o + sz <= tail and o >= bhead]

    def _run_slices(self) -> list[ParserEvent]:
        events: list[ParserEvent] = []
        while True:
            if self._chromium:
                self._limit = min(self._tail, self._limit + CHROMIUM_SLICE)
            else:
                self._limit = self._tail
            try:
                self._parse(events)
            except _Fail as f:
                if self._chromium:
                    self._pending = []
                else:
                    self._flush_frames(events)
                events.append(ParseFailed(f.message, f.offset, f.path, f.rule))
                self._state = _ERROR
                self._buf = bytearray()
                self._start = 0
                self._pins = {}
                return events
            self._flush_frames(events)
            if self._limit >= self._tail:
                break
        return events

    # -- buffer ---
    def _drop(self, upto: int) -> None:
        """Discard bytes before stream offset ``upto`` (ByteQueue::Trim)."""
        if upto <= self._head:
            return
        upto = min(upto, self._tail)
        self._head = upto
        if upto > self._bhead:
            self._start += upto - self._bhead
            self._bhead = upto
            if self._start > 1 << 20 and self._start > len(self._buf) // 2:
                if type(self._buf) is bytearray:
                    del self._buf[: self._start]
                else:
                    self._buf = self._buf[self._start :]
                self._start = 0

    def _idx(self, offset: int) -> int:
        return self._start + offset - self._bhead

    def _src(self, offset: int) -> tuple[bytes | bytearray, int]:
        """Where the byte at ``offset`` is: the buffer, or a pinned range that starts at ``offset``."""
        if offset >= self._bhead:
            return self._buf, self._start + offset - self._bhead
        buf, i, _n = self._pins[offset]
        return buf, i

    def _flush_frames(self, events: list[ParserEvent]) -> None:
        """Hand out the pending frames: one FramesParsed of columns (slices of the runs' sample tables)."""
        pending = self._pending
        if not pending:
            return
        self._pending = []
        cols = [_columns(p) for p in pending]
        one = len(pending) == 1 and pending[0][2] < pending[0][1] + 2  # a single frame
        if self._slice_base is None or self._monotone or one:
            events.append(FramesParsed(columns=cols))
        else:  # rare (a track's DTS steps back between runs): group frame by frame
            frames = [f for c in cols for f in c.frames()]
            events.extend(FramesParsed(g) for g in self._slice_groups(frames, self._slice_base))

    def _push(self, piece: _Piece) -> None:
        """Queue a piece of a run for the next hand-out, extending the last piece when it ends where this
        one begins (same run)."""
        run, lo, hi, keys, errs, bad = piece
        pending = self._pending
        if pending:
            last = pending[-1]
            if last[0] is run and last[2] == lo:
                k0, e0 = last[3], last[4]  # the pieces' own dicts (made by the callers for them)
                if keys:
                    if k0:
                        k0.update(keys)
                    else:
                        k0 = keys
                if errs:
                    if e0:
                        e0.update(errs)
                    else:
                        e0 = errs
                pending[-1] = (run, last[1], hi, k0, e0, bad)
                return
        pending.append(piece)

    @staticmethod
    def _slice_groups(frames: list[CodedFrame], base: int) -> list[list[CodedFrame]]:
        """Frames of a coalesced pass split as the 128 KiB slices would hand them out (a frame goes out in
        the first slice that holds its last byte, never before the frames ahead of it), merging consecutive
        slices unless a track's DTS goes back across their boundary: the frame processor checks DTS order
        within one slice's buffers only, so that boundary must stay."""
        slices: list[list[CodedFrame]] = []
        tag = 0
        for f in frames:
            t = max(tag, 1, -(-(f.offset + f.size - base) // CHROMIUM_SLICE))
            if t != tag or not slices:
                slices.append([])
                tag = t
            slices[-1].append(f)
        groups: list[list[CodedFrame]] = []
        last: dict[int, int] = {}
        for sl in slices:
            first: dict[int, int] = {}
            for f in sl:
                first.setdefault(f.track_id, f.dts)
            if groups and all(last.get(t, d) <= d for t, d in first.items()):
                groups[-1].extend(sl)
            else:
                groups.append(list(sl))
                last = {}
            for f in sl:
                last[f.track_id] = f.dts
        return groups

    def _warn(self, events: list[ParserEvent], message: str, offset: int, path: str, rule: str) -> None:
        events.append(ParseWarning(message, offset, path, rule))

    # -- main loop ---
    def _parse(self, events: list[ParserEvent]) -> None:
        while True:
            if self._state == _BOXES:
                progressed = self._parse_box(events)
            elif self._state == _WAITING:
                progressed = not (self._chromium and self._muxed and self._tail < self._highest_end)
                if progressed:
                    self._state = _EMITTING
            else:
                progressed = self._enqueue_sample(events)
                if progressed and self._state == _EMITTING:
                    self._discard_mdats_until(self._max_clear_offset(), events)
            if not progressed or self._state == _ERROR:
                return

    def _header(self, pos: int, limit: int) -> tuple[str, int, int] | None:
        """(type, size, header size) of the complete box at ``pos`` (within ``limit``), None if more data is
        needed; raises for sizes Chromium refuses (BoxReader::ReadHeader)."""
        avail = limit - pos
        if avail < 8:
            return None
        src, i = self._src(pos)
        size, raw = _HDR.unpack_from(src, i)
        box_type = bytes(raw).decode("latin-1")
        hsize = 8
        if size == 0:
            raise _Fail("ISO BMFF boxes that run to EOS are not supported", pos, _fourcc_text(box_type),
                        "BMFF-INIT-10")
        if size == 1:
            if avail < 16:
                return None
            size = _U64.unpack_from(src, i + 8)[0]
            hsize = 16
        if size < hsize:
            raise _Fail(f"box '{_fourcc_text(box_type)}' declares size {size}, smaller than its header", pos,
                        _fourcc_text(box_type), "BMFF-BOX-01")
        if size > INT32_MAX:
            raise _Fail(f"box '{_fourcc_text(box_type)}' declares size {size}: boxes larger than 2^31-1 "
                        "bytes "
                        "are not supported", pos, _fourcc_text(box_type), "BMFF-INIT-10")
        return box_type, size, hsize

    def _valid_top_level(self, box_type: str) -> bool:
        if self._chromium:
            return box_type in CHROMIUM_TOP_LEVEL
        return printable_type(box_type)

    def _parse_box(self, events: list[ParserEvent]) -> bool:
        if self._skip_to is not None:
            if self._limit < self._skip_to:
                self._drop(self._limit)
                return False
            self._drop(self._skip_to)
            self._skip_to = None
            if self._skip_fail is not None:
                raise self._skip_fail
            return True
        pos = self._head
        hdr = self._header(pos, self._limit)
        if hdr is None:
            return False
        box_type, size, _ = hdr
        if box_type in ("moov", "moof") and self._limit - pos < size:
            return False
        idx = self._counts.get(box_type, 0)
        if box_type in ("moov", "moof"):
            self._counts[box_type] = idx + 1
            if box_type == "moov":
                self._parse_moov(pos, size, events)
                self._drop(pos + size)
                return True
            self._parse_moof(pos, size, f"moof[{idx}]", events)
            return True
        # Skipped box: Chromium needs all of it before it checks the type and pops it; bytes are
        # discarded as they arrive, which is the same thing without holding them.
        self._counts[box_type] = idx + 1
        if box_type == "ftyp":
            self._ftyp_offset = pos
        self._skip_to = pos + size
        self._skip_fail = None
        if not self._valid_top_level(box_type):
            self._skip_fail = _Fail(f"Invalid top-level ISO BMFF box type {_fourcc_text(box_type)}", pos,
                                    f"{_fourcc_text(box_type)}[{idx}]", "BMFF-INIT-09")
        return True

    # -- boxes ---
    def _tree(self, pos: int, size: int) -> Box:
        issues: list[BoxIssue] = []
        i = self._idx(pos)
        boxes = parse_boxes(self._buf, i, i + size, base=pos - i, issues=issues)
        box = boxes[0]
        # Chromium only looks inside the containers it reads; problems elsewhere (udta, meta) go unseen.
        for issue in issues:
            parent = issue.path.rsplit("/", 1)[0] if "/" in issue.path else ""
            leaf = issue.path.rsplit("/", 1)[-1].split("[")[0]
            parent_type = parent.rsplit("/", 1)[-1].split("[")[0] if parent else ""
            if issue.kind in ("overruns-parent", "size-too-small", "to-end", "garbage", "truncated"):
                if parent_type in _SCANNED or "/" not in issue.path:
                    raise _Fail(f"{issue.message}", issue.offset, issue.path, "BMFF-BOX-02")
            elif issue.kind == "invalid-field" and leaf in _DECODED and parent_type in _SCANNED | {""}:
                raise _Fail(f"{leaf}: {issue.message}", issue.offset, issue.path, "BMFF-BOX-03")
            elif issue.kind == "too-deep":
                raise _Fail(issue.message, issue.offset, issue.path, "BMFF-BOX-02")
        return box

    def _parse_moov(self, pos: int, size: int, events: list[ParserEvent]) -> None:
        moov = self._tree(pos, size)
        self._check_moov(moov, events)
        try:
            init = read_init(moov, offset=self._ftyp_offset if self._ftyp_offset is not None else pos,
                             size=pos + size - (self._ftyp_offset if self._ftyp_offset is not None else pos))
        except SegmentError as e:
            raise _Fail(e.message, e.offset, e.path, e.rule) from None
        self._ftyp_offset = None
        if self._chromium:
            self._check_codecs_match_type(init, pos)
        self._init = init
        self._entry_info = {}
        self._decode_checks = {}
        self._av_tracks = {tid: t.kind for tid, t in init.tracks.items() if t.kind in ("audio", "video")}
        kinds = set(self._av_tracks.values())
        self._muxed = kinds == {"audio", "video"}
        self._runs = []
        events.append(InitSegmentParsed(init.init, init.init.offset))

    def _check_codecs_match_type(self, init: Mp4Init, pos: int) -> None:
        """SourceBufferState::OnNewConfigs: with a codecs parameter, each audio/video track's codec family
        must be listed, and each listed codec must have a track (only the family is compared)."""
        if self.mime is None or not self.mime.codecs:
            return
        expected: dict[str, list[str]] = {"audio": [], "video": []}
        for c in self.mime.codecs:
            try:
                fam = codec_family(c)
            except CodecError:
                continue
            kind = "video" if fam in _VIDEO_FAMILIES else "audio"
            expected[kind].append(fam)
        for track in init.tracks.values():
            if track.kind not in ("audio", "video"):
                continue
            try:
                fam = codec_family(track.info.codec) if track.info.codec else track.info.coding_name
            except CodecError:
                fam = track.info.coding_name
            name = _CHROMIUM_CODEC_NAMES.get(fam, fam)
            want = expected[track.kind]
            if fam in want:
                want.remove(fam)
                continue
            raise _Fail(f"{track.kind.capitalize()} stream codec {name} doesn't match SourceBuffer codecs.",
                        pos,
                        track.trak.path, "BMFF-INIT-16")
        for kind in ("audio", "video"):
            for fam in expected[kind]:
                name = _CHROMIUM_CODEC_NAMES.get(fam, fam)
                raise _Fail(f"Initialization segment misses expected {name} track.", pos, "moov",
                            "BMFF-INIT-16")

    def _check_moov(self, moov: Box, events: list[ParserEvent]) -> None:
        """Chromium's Movie::Parse and ParseMoov checks, in their order (first failure wins)."""
        fail: Callable[[str, Box, str], _Fail] = lambda msg, box, rule: _Fail(msg, box.offset, box.path, rule)  # noqa: E731
        mvhd = moov.child("mvhd")
        if mvhd is None:
            raise fail("moov has no mvhd", moov, "BMFF-INIT-21")
        if not mvhd.get("timescale"):
            raise fail("Failure parsing MP4: Movie header's timescale must not be 0", mvhd, "BMFF-INIT-12")
        traks = moov.all("trak")
        for trak in traks:
            for need in ("tkhd", "mdia"):
                if trak.child(need) is None:
                    raise fail(f"trak has no {need}", trak, "BMFF-INIT-21")
            mdia = trak.child("mdia")
            assert mdia is not None
            for need in ("mdhd", "hdlr", "minf"):
                if mdia.child(need) is None:
                    raise fail(f"mdia has no {need}", mdia, "BMFF-INIT-21")
            mdhd = mdia.child("mdhd")
            assert mdhd is not None
            if not mdhd.get("timescale"):
                raise fail("Failure parsing MP4: Track media header's timescale must not be 0", mdhd,
                           "BMFF-INIT-12")
            if trak.find("mdia/minf/stbl/stsd") is None:
                raise fail("trak has no mdia/minf/stbl/stsd", trak, "BMFF-INIT-21")
            self._check_entries(trak)
        mvex = moov.child("mvex")
        if mvex is None:
            raise fail("Failure parsing MP4: Detected unfragmented MP4. Media Source Extensions require ISO "
                       "BMFF moov to contain mvex to indicate that Movie Fragments are to be expected.",
                       moov, "BMFF-INIT-05")
        if not self._chromium:
            for trak in traks:
                stbl = trak.find("mdia/minf/stbl")
                assert stbl is not None
                for t in ("stts", "stsc", "stco", "co64"):
                    b = stbl.child(t)
                    if b is not None and b.get("entry_count"):
                        raise fail(f"{t} has {b.get('entry_count')} entries: tracks in moov must contain no "
                                   "samples", b, "BMFF-INIT-04")
        trexs = {t.get("track_ID"): t for t in mvex.all("trex")}
        seen: dict[str, set[int]] = {"audio": set(), "video": set()}
        has_av = False
        for trak in traks:
            tkhd = trak.child("tkhd")
            hdlr = trak.find("mdia/hdlr")
            assert tkhd is not None and hdlr is not None
            tid = tkhd.get("track_ID")
            trex = trexs.get(tid)
            if trex is None or not trex.get("default_sample_description_index"):
                raise fail(f"track {tid} has no trex with a default_sample_description_index (needed by "
                           "Chromium for every track)", trak, "BMFF-INIT-06")
            handler = hdlr.get("handler_type")
            if handler not in ("soun", "vide"):
                continue
            kind = "audio" if handler == "soun" else "video"
            has_av = True
            stsd = trak.find("mdia/minf/stbl/stsd")
            assert stsd is not None
            entries = stsd.children
            if not entries:
                raise fail(f"{kind} track {tid} has no sample entry", stsd, "BMFF-INIT-13")
            idx = trex.get("default_sample_description_index") - 1
            entry = entries[idx] if idx < len(entries) else entries[0]
            if kind == "audio":
                self._check_audio(entry)
            else:
                self._check_video(entry)
            if tid in seen[kind]:
                raise fail(f"{kind.capitalize()} track with track_id={tid} already present.", trak, "GEN-01")
            seen[kind].add(tid)
        if not has_av:
            raise fail("the initialization segment has no audio or video track", moov, "GEN-13")

    def _check_entries(self, trak: Box) -> None:
        """Sample-entry level checks Chromium makes while parsing stsd (box_definitions.cc)."""
        hdlr = trak.find("mdia/hdlr")
        stsd = trak.find("mdia/minf/stbl/stsd")
        if hdlr is None or stsd is None:
            return
        for entry in stsd.children:
            fmt = original_format(entry)
            if entry.type in ("encv", "enca"):
                # Chromium reads sinf boxes until one has a supported scheme (cenc/cbcs); that one needs
                # frma, schm and schi/tenc.
                sinf = next((x for x in entry.all("sinf") if _scheme(x) in ("cenc", "cbcs")), None)
                if sinf is None:
                    raise _Fail(f"{entry.type} has no sinf with a supported protection scheme (cenc, cbcs)",
                                entry.offset, entry.path, "BMFF-INIT-17")
                if sinf.child("frma") is None or sinf.find("schi/tenc") is None:
                    raise _Fail(f"{entry.type} sinf lacks frma or schi/tenc", sinf.offset, sinf.path,
                                "BMFF-INIT-17")
            if hdlr.get("handler_type") == "soun":
                self._check_audio_config(entry, fmt)
            elif hdlr.get("handler_type") == "vide":
                self._check_video_config(entry, fmt)

    def _check_audio_config(self, entry: Box, fmt: str) -> None:
        def bad(msg: str, box: Box | None = None) -> _Fail:
            b = box or entry
            return _Fail("Failure parsing MP4: " + msg, b.offset, b.path, "BMFF-INIT-14")

        if self._chromium and entry.get("entry_version") in (1, 2):
            # AudioSampleEntry::Parse reads the ISO layout only: the extra QuickTime v1/v2 fields are
            # then scanned as child boxes and the parse fails.
            raise _Fail(f"{entry.type} is a QuickTime version {entry.get('entry_version')} sound "
                        "description; Chromium reads only the ISO layout and fails on the extra fields",
                        entry.offset, entry.path, "BMFF-INIT-14")
        if fmt == "Opus":
            dops = entry.child("dOps")
            if dops is None or not dops.decoded:
                raise bad("Failure parsing OpusSpecificBox (dOps)", dops)
            if entry.get("channelcount") != dops.get("OutputChannelCount"):
                raise bad("Opus AudioSampleEntry channel count mismatches OpusSpecificBox STREAMINFO channel "
                          "count")
            if entry.get("samplerate") != dops.get("InputSampleRate"):
                raise bad("Opus AudioSampleEntry sample rate mismatches OpusSpecificBox STREAMINFO channel "
                          "count")
        if fmt == "fLaC":
            dfla = entry.child("dfLa")
            if dfla is None or not dfla.decoded:
                raise bad("Failure parsing FLACSpecificBox (dfLa)", dfla)
            if entry.get("channelcount") != dfla.get("channels"):
                raise bad("FLAC AudioSampleEntry channel count mismatches FLACSpecificBox STREAMINFO channel "
                          "count")
            if entry.get("samplesize") != dfla.get("bits_per_sample"):
                raise bad("FLAC AudioSampleEntry sample size mismatches FLACSpecificBox STREAMINFO sample "
                          "size")
        elif entry.child("dfLa") is not None:
            raise bad("FLACSpecificBox (dfLa) must only be used with FLAC AudioSampleEntry or CENC "
                      "AudioSampleEntry wrapping FLAC")
        esds = entry.child("esds")
        if esds is not None and (not esds.decoded or "AudioSpecificConfig_error" in esds.fields):
            why = esds.get("AudioSpecificConfig_error") or "short payload"
            raise bad(f"esds could not be parsed ({why})",
                      esds)

    def _check_video_config(self, entry: Box, fmt: str) -> None:
        def bad(msg: str, box: Box | None = None) -> _Fail:
            b = box or entry
            return _Fail(msg, b.offset, b.path, "BMFF-INIT-14")

        if fmt in ("avc1", "avc3"):
            c = entry.child("avcC")
            if c is None or not c.decoded:
                raise bad(f"{fmt} sample entry has no valid avcC", c)
            if c.get("configurationVersion") != 1:
                raise bad(f"avcC configurationVersion is {c.get('configurationVersion')}, not 1", c)
            if c.get("lengthSizeMinusOne") == 2:
                raise bad("avcC lengthSizeMinusOne is 2 (3-byte NAL lengths are not supported)", c)
            if any(len(s) == 0 for s in c.get("sequenceParameterSets", [])):
                raise bad("avcC holds an empty SPS", c)
        elif fmt in ("hvc1", "hev1"):
            c = entry.child("hvcC")
            if c is None or not c.decoded:
                raise bad(f"{fmt} sample entry has no valid hvcC", c)
        elif fmt == "av01":
            c = entry.child("av1C")
            if c is None or not c.decoded:
                raise bad("av01 sample entry has no valid av1C", c)
            if c.get("marker") != 1:
                raise bad("Unsupported av1C: marker unset.", c)
            if c.get("version") != 1:
                raise bad(f"Unsupported av1C: unexpected version number: {c.get('version')}", c)
            if c.get("seq_profile", 0) > 2:
                raise bad(f"Unsupported av1C: seq_profile {c.get('seq_profile')}", c)
        elif fmt == "vp09":
            c = entry.child("vpcC")
            if c is None or not c.decoded:
                raise bad("vp09 sample entry has no valid vpcC", c)

    def _check_audio(self, entry: Box) -> None:
        fmt = original_format(entry)
        if fmt not in _AUDIO_FORMATS:
            code = int.from_bytes(entry.type.encode("latin-1")[:4].ljust(4, b"\0"), "big")
            raise _Fail(f"Unsupported audio format 0x{code:x} in stsd box.", entry.offset, entry.path,
                        "BMFF-INIT-13")
        if fmt == "fLaC" and not self._has_flac:
            raise _Fail("FLAC audio stream detected in MP4, mismatching what is specified in the mimetype.",
                        entry.offset, entry.path, "BMFF-INIT-15")
        if fmt == "mp4a":
            esds = entry.child("esds")
            oti = esds.get("objectTypeIndication", 0) if esds is not None else 0
            if self._strict_otis is not None and oti not in self._strict_otis:
                raise _Fail(f"audio object type 0x{oti:x} does not match what is specified in the mimetype.",
                            entry.offset, entry.path, "BMFF-INIT-15")
            if oti not in _AAC_OTIS:
                raise _Fail(f"Unsupported audio object type 0x{oti:x} in esds.", entry.offset, entry.path,
                            "BMFF-INIT-13")
            if esds is None or esds.get("AudioSpecificConfig") is None:
                raise _Fail("esds has no valid AudioSpecificConfig", entry.offset, entry.path, "BMFF-INIT-14")
        if entry.get("samplesize") not in (8, 16, 24, 32):
            raise _Fail("Unsupported sample size.", entry.offset, entry.path, "BMFF-INIT-20")

    def _check_video(self, entry: Box) -> None:
        fmt = original_format(entry)
        if fmt not in _VIDEO_FORMATS:
            raise _Fail(f"Unsupported VisualSampleEntry type {_fourcc_text(entry.type)}", entry.offset,
                        entry.path, "BMFF-INIT-13")

    # -- media segments ---
    def _parse_moof(self, pos: int, size: int, path: str, events: list[ParserEvent]) -> None:
        if self._init is None:
            raise _Fail("media segment (moof) before any initialization segment", pos, path, "GEN-11")
        moof = self._tree(pos, size)
        init = self._init
        if moof.child("mfhd") is None:
            raise _Fail("moof has no mfhd", pos, moof.path, "BMFF-MEDIA-27")
        trafs = moof.all("traf")
        if not trafs and not self._chromium:
            raise _Fail("moof has no traf", pos, moof.path, "BMFF-MEDIA-06")
        too_many = sample_budget_error(moof)
        if too_many is not None:
            raise _Fail(too_many.message, too_many.offset, too_many.path, too_many.rule)
        runs: list[_Run] = []
        next_base: int | None = None
        if not self._chromium and len(trafs) > 1:
            for traf in trafs:
                tfhd = traf.child("tfhd")
                if tfhd is not None and not tfhd.get("default_base_is_moof"):
                    raise _Fail("moof has several trafs and this tfhd does not set default-base-is-moof: the "
                                "fragment does not use movie-fragment relative addressing", tfhd.offset,
                                tfhd.path, "BMFF-MEDIA-07")
        for traf in trafs:
            tfhd = traf.child("tfhd")
            if tfhd is None:
                raise _Fail("traf has no tfhd", traf.offset, traf.path, "BMFF-INIT-21")
            if tfhd.flags is not None and tfhd.flags & 1:
                raise _Fail("Failure parsing MP4: TFHD base-data-offset not allowed by MSE. See "
                            "https://www.w3.org/TR/mse-byte-stream-format-isobmff/"
                            "#movie-fragment-relative-addressing", tfhd.offset, tfhd.path, "BMFF-MEDIA-07")
            if traf.child("tfdt") is None:
                raise _Fail("traf has no tfdt (Media Source requires one in every traf)", traf.offset,
                            traf.path, "BMFF-MEDIA-10")
        for traf in trafs:
            tfhd = traf.child("tfhd")
            assert tfhd is not None
            tid = tfhd.get("track_ID")
            track = init.track(tid)
            if track is None:
                raise _Fail(f"tfhd track_ID {tid} is not a track of the initialization segment", tfhd.offset,
                            tfhd.path, "BMFF-MEDIA-13")
            if track.trex is None:
                raise _Fail(f"track {tid} has no trex", tfhd.offset, tfhd.path, "BMFF-INIT-06")
            if tid not in self._av_tracks:
                continue
            base = None
            if not self._chromium and not tfhd.get("default_base_is_moof"):
                base = next_base
            try:
                table = expand_traf(traf, moof, track, dialect="chromium" if self._chromium else "iso",
                                    base_offset=base)
            except SegmentError as e:
                raise _Fail(e.message, e.offset, e.path, e.rule) from None
            key = (tid, tfhd.get("sample_description_index") or 0)
            entry_info = self._entry_info.get(key)
            if entry_info is None:  # the same for every fragment of the track (until the next moov)
                entry_info = self._entry_info[key] = (
                    self._avc_length_size(track, tfhd) if self._chromium else None,
                    self._protected(track, tfhd),
                )
            length_size = entry_info[0]
            missing = self._encryption_gap(track, tfhd, traf, len(table)) if entry_info[1] else None
            if not self._chromium:
                end = table.data_end
                next_base = end if end is not None else next_base
            if len(table.runs) == 1:
                start, n = table.runs[0]
                assert n == len(table.dts)
                run = _Run(tid, table.timescale, start, table.dts, table.pts, table.duration,
                           table.size, table.offset, table.keyframe, length_size, missing)
                run.first_of_traf = True
                runs.append(run)
                continue
            a = 0  # the table's columns are its truns' columns one after the other
            for ri, (start, n) in enumerate(table.runs):
                b = a + n
                assert table.run[a:b] == [ri] * n
                run = _Run(tid, table.timescale, start, table.dts[a:b], table.pts[a:b], table.duration[a:b],
                           table.size[a:b], table.offset[a:b], table.keyframe[a:b], length_size, missing)
                run.first_of_traf = ri == 0
                runs.append(run)
                a = b
        if len(runs) > 1:
            runs.sort(key=lambda r: r.start)
        self._decode_errors = _misaddressed_trafs(trafs, moof, init, self._chromium)
        self._preroll_checks = (
            _preroll_checks(runs, init, self._decode_checks, start_only=self.preroll_scope == "start")
            if self._chromium and self.sample_checks == "all" else {}
        )
        highest = self._layout(runs, pos)
        self._runs = runs
        self._ri = 0
        self._si = 0
        self._moof_head = pos
        self._mdat_tail = pos + size
        self._highest_end = highest
        self._state = _WAITING
        events.append(MediaSegmentStarted(pos, moof.path))

    def _layout(self, runs: list[_Run], pos: int) -> int:
        """Per-moof preparation of the runs: which samples get analysed (and so which bytes are needed),
        whether their times are representable, where a batch of samples must stop; returns the end of the
        last sample's data. Builtins over the columns: no Python work per sample unless it is analysed."""
        highest = pos
        checks: list[tuple[int, int]] = []
        chromium = self._chromium
        rap = self.sample_checks != "all"
        pre = self._preroll_checks
        pre_keys = sorted(pre) if pre else []
        for r in runs:
            offs, sizes = r.offset, r.size
            n = len(offs)
            if n:
                # a trun's samples follow each other: each ends where the next starts, so the ends are the
                # offsets after the first and the last sample's end, which is the furthest
                r.ends = ends = offs[1:]
                ends.append(offs[-1] + sizes[-1])
                highest = max(highest, ends[-1])
                if 0 in sizes or max(sizes) > INT32_MAX:
                    r.stops = [i for i, sz in enumerate(sizes) if sz == 0 or sz > INT32_MAX]
                if chromium:
                    lim = _MAX_SECONDS * r.timescale
                    pts, dts = r.pts, r.dts
                    # durations are 32-bit unsigned, below the limit of any timescale (mdhd's is never 0),
                    # and a run's DTS start at an unsigned base and add them up: the DTS extremes are the
                    # ends
                    r.representable = (max(pts) < lim and dts[-1] < lim and min(pts) > -lim and dts[0] > -lim)
                if pre_keys:  # the few prerolled offsets that fall inside this run's data
                    a = bisect_left(pre_keys, offs[0])
                    b = bisect_right(pre_keys, offs[-1], a)
                    if a < b:  # keys ascend and offsets never decrease: the ranges come out in order
                        pr: list[int] = []
                        for k in pre_keys[a:b]:
                            pr += range(bisect_left(offs, k), bisect_right(offs, k))
                        r.preroll = pr
            special: Sequence[int] = r.preroll
            if r.avc_length_size is not None:
                if rap:
                    r.check = set(compress(range(n), r.keyframe))
                    if r.first_of_traf and n:  # a trun of no samples has no first sample to analyse
                        r.check.add(0)
                    checks += [(offs[i], sizes[i]) for i in r.check if sizes[i] > 0]
                    special = sorted(r.check.union(r.preroll)) if r.preroll else sorted(r.check)
                else:
                    special = range(n)
            r.special = special
        # Analysing every sample ("all", the simulator's feed path): the list of samples to analyse is
        # only read by skippable()/skip(), so _check_list builds it from the runs when first asked.
        checks.sort()
        self._checks = checks
        self._checks_due = not rap
        self._ci = 0
        self._cp = 0
        self._checked = set()
        self._pins = {}
        return highest

    @staticmethod
    def _avc_length_size(track: Mp4Track, tfhd: Box) -> int | None:
        """NAL length size of the sample entry the run uses, when it is H.264 (Chromium converts those)."""
        if track.kind != "video" or not track.entries:
            return None
        idx = tfhd.get("sample_description_index") or (track.trex or {}).get(
            "default_sample_description_index", 1)
        entry = track.entries[idx - 1] if 0 < idx <= len(track.entries) else track.entries[0]
        if original_format(entry) not in ("avc1", "avc3"):
            return None
        avcc = entry.child("avcC")
        if avcc is None or "lengthSizeMinusOne" not in avcc.fields:
            return None
        return int(avcc.fields["lengthSizeMinusOne"]) + 1

    @staticmethod
    def _protected(track: Mp4Track, tfhd: Box) -> bool:
        """Whether the sample entry the traf uses is a protected one (encv/enca): only then can
        :meth:`_encryption_gap` find a gap."""
        if not track.entries:
            return False
        idx = tfhd.get("sample_description_index") or (track.trex or {}).get(
            "default_sample_description_index", 1)
        entry = track.entries[idx - 1] if 0 < idx <= len(track.entries) else track.entries[0]
        return entry.type in ("encv", "enca")

    @staticmethod
    def _encryption_gap(track: Mp4Track, tfhd: Box, traf: Box, samples: int) -> str | None:
        """Chromium needs per-sample encryption info (senc, or saiz+saio) for protected tracks, except
        cbcs with a constant IV; a senc must cover every sample of the traf."""
        if not track.entries:
            return None
        idx = tfhd.get("sample_description_index") or (track.trex or {}).get(
            "default_sample_description_index", 1)
        entry = track.entries[idx - 1] if 0 < idx <= len(track.entries) else track.entries[0]
        if entry.type not in ("encv", "enca"):
            return None
        tenc = entry.find("sinf/schi/tenc")
        if tenc is None or tenc.get("default_isProtected") != 1:
            return None
        senc = traf.child("senc")
        if senc is not None and senc.get("sample_count", 0) > 0:
            if senc.get("sample_count", 0) < samples:
                return f"senc covers {senc.get('sample_count')} samples, the traf has {samples}"
            return None
        if traf.child("saio") is not None and traf.child("saiz") is not None:
            return None
        if tenc.get("default_Per_Sample_IV_Size") == 0:
            return None  # constant IV: no per-sample info needed
        return "Sample encryption info is not available."

    def _max_clear_offset(self) -> int:
        """TrackRunIterator::GetMaxClearOffset (absolute): bytes before it are no longer needed."""
        best: int | None = None
        if self._ri < len(self._runs):
            run = self._runs[self._ri]
            if self._si < len(run.offset):
                best = run.offset[self._si]
            if self._ri + 1 < len(self._runs):
                nxt = self._runs[self._ri + 1].start
                best = nxt if best is None else min(best, nxt)
        return self._moof_head if best is None else best

    def _discard_mdats_until(self, max_clear: int, events: list[ParserEvent]) -> None:
        """MP4StreamParser::ReadAndDiscardMDATsUntil: consume complete boxes after the moof."""
        upper = min(max_clear, self._limit)
        while self._mdat_tail < upper:
            pos = self._mdat_tail
            hdr = self._header(pos, self._limit)
            if hdr is None:
                break
            box_type, size, _ = hdr
            if self._limit - pos < size:
                break
            if not self._valid_top_level(box_type):
                raise _Fail(f"Invalid top-level ISO BMFF box type {_fourcc_text(box_type)}", pos,
                            _fourcc_text(box_type), "BMFF-INIT-09")
            if box_type != "mdat":
                self._warn(events, f"Unexpected box type while parsing MDATs: {_fourcc_text(box_type)}", pos,
                           _fourcc_text(box_type), "BMFF-MEDIA-11")
            self._mdat_tail = pos + size
        self._drop(min(self._mdat_tail, upper))

    @staticmethod
    def _check_representable(run: _Run, i: int, off: int) -> None:
        """TimeDeltaFromRational: Chromium keeps times as int64 microseconds and refuses what does not fit
        (checked in EnqueueSample's order: duration, PTS, DTS)."""
        ts = run.timescale
        for value, what in ((run.duration[i], "Frame duration"), (run.pts[i], "Frame PTS"),
                            (run.dts[i], "Frame DTS")):
            secs = abs(value) // ts
            if secs >= _MAX_SECONDS:
                raise _Fail(f"{what} exceeds representable limit", off, "", "BMFF-MEDIA-17")

    def _analyze_avc(self, events: list[ParserEvent], run: _Run, i: int, off: int, size: int) -> bool:
        """H.264 samples as Chromium prepares them (AVCBitstreamConverter::ConvertAndAnalyzeFrame)."""
        assert run.avc_length_size is not None
        check = self._avc_cache.pop((off, size), None)
        if check is None:
            src, at = self._src(off)
            check = check_avc_sample(src, run.avc_length_size, at, size)
        self._checked.add((off, size))
        key = run.keyframe[i]
        if not check.converted:
            raise _Fail("Failed to prepare video sample for decode", off, "", "BMFF-MEDIA-30")
        if check.is_keyframe is not None and check.is_keyframe != key:
            if self._keyframe_logs < _MAX_KEYFRAME_MISMATCH_LOGS:
                self._keyframe_logs += 1
                self._warn(events, "ISO-BMFF container metadata for video frame indicates that the frame is "
                           f"{'' if key else 'not '}a keyframe, but the video frame contents indicate the "
                           "opposite.", off, "", "BMFF-MEDIA-21")
            key = check.is_keyframe
        if key and not check.first_nal_ok:
            raise _Fail("Failed to prepare video sample for decode", off, "", "BMFF-MEDIA-30")
        return key

    def _frame_problem(self, off: int, size: int) -> str | None:
        """Why Chromium's decoder fails on this sample (one the paused element prerolls), or None."""
        src, at = self._src(off)
        return self._preroll_checks[off](bytes(src[at : at + size]))

    def _emit_batch(self, events: list[ParserEvent], run: _Run, i: int) -> int:
        """Emit the run's samples from ``i`` on while nothing about them needs the slow path (present,
        non-empty, not too large); returns the index after the last one emitted. Chromium profile only:
        the mdat bookkeeping done after each sample is then done once per batch, which is the same because
        within a run offsets only grow and a failure drops the slice's frames either way. The batch is
        found by bisection (offsets and ends only grow); only the samples in ``run.special`` (analysed,
        prerolled) cost Python work each, in sample order as before."""
        offs = run.offset
        if offs[i] < self._head:  # offsets only grow: then the whole batch would start before the head
            return i
        j = bisect_right(run.ends, self._limit, i)
        stops = run.stops
        if stops:
            k = bisect_left(stops, i)
            if k < len(stops) and stops[k] < j:
                j = stops[k]
        if j <= i:
            return i
        keys: dict[int, bool] | None = None
        errs: dict[int, str] | None = None
        special = run.special
        if special:
            lo = bisect_left(special, i)
            hi = bisect_left(special, j, lo)
            if lo < hi:
                sizes, flags = run.size, run.keyframe
                length_size = run.avc_length_size or 0
                analyse = run.avc_length_size is not None
                check = run.check
                pre = self._preroll_checks
                cached, checked = self._avc_cache, self._checked
                # where the held bytes are (_src, inlined): nothing in this loop changes the buffer
                buf, base = self._buf, self._start - self._bhead
                bhead = self._bhead
                todo: Sequence[int] = special[lo:hi]
                odd: set[int] | None = None
                done = stop = 0
                if (length_size == 4 and check is None and not cached and type(todo) is range
                        and offs[todo.start] >= bhead):
                    # every sample of the batch is analysed and all its bytes are held: the usual ones
                    # (a slice first, agreeing with the flag) are judged in one pass, only the others and
                    # the prerolled ones are walked below; the rest get their bookkeeping in bulk, in
                    # order, so what is marked analysed when an append fails stays as it was
                    done, stop = todo.start, todo.stop
                    odd = set(odd_samples(buf, base, offs, sizes, flags, lo=done, hi=stop))
                    todo = sorted(odd.union(s for s in run.preroll if done <= s < stop))
                for s in todo:
                    off = offs[s]
                    size = sizes[s]
                    if odd is not None:
                        checked.update(zip(offs[done:s], sizes[done:s], strict=True))
                        done = s + 1
                        if s not in odd:
                            checked.add((off, size))
                    if analyse and (check is None or s in check) and (odd is None or s in odd):
                        # _analyze_avc inlined for a verdict that agrees with the container's flag (the
                        # usual sample): nothing to report, only its bookkeeping is left
                        # (the cache is empty unless skip() analysed ahead: no key to build then)
                        verdict = cached.pop((off, size), None) if cached else None
                        if verdict is None:
                            if off >= bhead:
                                verdict = check_avc_sample(buf, length_size, base + off, size)
                            else:
                                src, at = self._src(off)
                                verdict = check_avc_sample(src, length_size, at, size)
                        if verdict is (SLICE_IDR if flags[s] else SLICE_NON_IDR):
                            checked.add((off, size))
                        else:
                            cached[(off, size)] = verdict
                            key = self._analyze_avc(events, run, s, off, size)
                            if key != flags[s]:
                                if keys is None:
                                    keys = {}
                                keys[s] = key
                    if off in pre:
                        why = self._frame_problem(off, size)
                        if why:
                            if errs is None:
                                errs = {}
                            errs[s] = why
                if odd is not None:
                    checked.update(zip(offs[done:stop], sizes[done:stop], strict=True))
        self._push((run, i, j, keys, errs, self._decode_errors.get(run.track_id)))
        if j - 1 > i:
            # the bookkeeping after the last-but-one sample reaches furthest (the caller's call after the
            # last one stops at the next run, or at the moof when none is left)
            self._si = j - 1
            self._discard_mdats_until(self._max_clear_offset(), events)
        return j

    def _enqueue_sample(self, events: list[ParserEvent]) -> bool:
        if self._ri >= len(self._runs):
            # End of the segment: the frames go out before the segment ends (SendAndFlushSamples).
            self._flush_frames(events)
            self._drop(self._mdat_tail)
            self._state = _BOXES
            self._runs = []
            events.append(MediaSegmentEnded(max(self._mdat_tail, self._highest_end)))
            return True
        run = self._runs[self._ri]
        if self._si >= len(run.offset):
            self._ri += 1
            self._si = 0
            return True
        i = self._si
        if run.representable and run.missing_encryption_info is None:
            j = self._emit_batch(events, run, i)
            if j > i:
                self._si = j
                return True
        off, size = run.offset[i], run.size[i]
        if off < self._head or off + size > self._limit or (size == 0 and off >= self._limit):
            return False
        if size == 0:
            if self._empty_logs < _MAX_EMPTY_SAMPLE_LOGS:
                self._empty_logs += 1
                self._warn(events, "Skipping 'trun' sample with size of 0.", off, "", "BMFF-MEDIA-19")
            self._si += 1
            return True
        if size > INT32_MAX:
            raise _Fail("Sample size is too large", off, "", "BMFF-BOX-03")
        if run.missing_encryption_info is not None and self._chromium:
            raise _Fail(run.missing_encryption_info, off, "", "BMFF-MEDIA-22")
        if self._chromium:
            self._check_representable(run, i, off)
        key = run.keyframe[i]
        if run.avc_length_size is not None and (run.check is None or i in run.check):
            key = self._analyze_avc(events, run, i, off, size)
        why = self._frame_problem(off, size) if off in self._preroll_checks else None
        self._push((run, i, i + 1, {i: key} if key != run.keyframe[i] else None, {i: why} if why else None,
                    self._decode_errors.get(run.track_id)))
        self._si += 1
        return True

"""MPEG audio byte stream parser (``audio/mpeg``, ``audio/aac``): the sans-IO segment parser.

The MPEG audio byte stream format (w3c mse-byte-stream-format-mpeg-audio §4-5) makes every frame header an
initialization segment and every frame a random access point; it carries no timestamps, so the
SourceBuffer's *generate timestamps flag* is true and mode is forced to "sequence".

What this reproduces from Chromium (media/formats/mpeg/mpeg_audio_stream_parser_base.cc):

* a new init segment only when the sample rate or channel layout changes (the first frame, then changes);
* frames are sent in batches, one per ``Parse()`` call (the browser inspects at most 128 KiB of an append
  per call), and each batch's timestamps restart at 0 and are laid end to end by sample count; the
  SourceBuffer lays batches end to end through timestampOffset;
* ID3v2/ID3v1 tags and an Icecast header are skipped (sending the frames parsed so far first);
* bytes that start no frame, tag or header are skipped by searching for three consecutive valid frame
  headers; until three are in the buffer, nothing moves (more data is needed);
* a header whose sync bits match but whose fields are invalid is an append error, as is an ID3v2 size
  with a set MSb and an Icecast header over 4096 bytes;
* Xing/Info frames are metadata: they configure the track but are not audio frames. VBRI frames are not
  recognised by Chromium and are buffered as audio (reported by validate);
* ``in_media_segment`` stays true only while a frame is split across appends;
* reset (abort) drops unparsed bytes and restarts timestamps at 0 (the config is kept).

Offsets in events count bytes since the parser was created.
"""

from __future__ import annotations

from fractions import Fraction

from msetool.mime import MimeType
from msetool.model import CodedFrame, InitSegment, TrackInfo
from msetool.mpeg.headers import (
    ADTS_HEADER_MIN_SIZE,
    MP3_HEADER_SIZE,
    FrameHeader,
    explain_adts,
    explain_mp3,
    icecast_end,
    id3v1_size,
    id3v2_size,
)
from msetool.mpeg.timing import AudioClock, coded_frame
from msetool.stream import (
    FramesParsed,
    InitSegmentParsed,
    MediaSegmentEnded,
    MediaSegmentStarted,
    ParseFailed,
    ParserEvent,
    Profile,
)

#: StreamParser::kMaxPendingBytesPerParse: how much of an append one Parse() call inspects.
MAX_BYTES_PER_PARSE = 128 * 1024
TRACK_ID = 1

_NEED_MORE = 0


class _Failure(Exception):
    def __init__(self, message: str, offset: int, rule: str) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.rule = rule


class MpegAudioStreamParser:
    """ByteStreamParser for MP3 (MPEG-1/2/2.5 Layer I-III) and ADTS AAC elementary streams."""

    generate_timestamps = True

    def __init__(self, mime: MimeType | None = None, profile: Profile = "chromium") -> None:
        import msetool.rules.mpeg  # noqa: F401  (registers the MPA-* ids this parser's failures carry)

        essence = mime.essence if mime is not None else "audio/mpeg"
        self.aac = essence == "audio/aac"
        self.chromium = profile == "chromium"
        self._buf = bytearray()
        self._base = 0  # stream offset of _buf[0]
        self._uninspected = 0
        self._failed = False
        self._in_segment = False
        self._config: tuple[int, int] | None = None
        self._clock: AudioClock | None = None
        self._tracks: TrackInfo | None = None

    # -- protocol ------------------------------------------------------------------------------------
    @property
    def in_media_segment(self) -> bool:
        return self._in_segment

    def feed(self, data: bytes) -> list[ParserEvent]:
        if self._failed:
            return []
        events: list[ParserEvent] = []
        if not data:
            return events
        self._buf += data
        self._uninspected = len(data)
        while self._uninspected > 0:
            step = min(MAX_BYTES_PER_PARSE, self._uninspected)
            self._uninspected -= step
            try:
                self._parse(len(self._buf) - self._uninspected, events)
            except _Failure as f:
                self._failed = True
                events.append(ParseFailed(f.message, f.offset, "", f.rule))
                break
        return events

    def reset(self) -> None:
        self._buf.clear()
        self._base += 0  # offsets keep counting appended bytes; dropped bytes are simply gone
        self._uninspected = 0
        if self._clock is not None:
            self._clock.set_base(Fraction(0))
        self._in_segment = False

    def flush(self) -> list[ParserEvent]:
        """End of stream completes nothing: a partial frame at the end is never buffered."""
        return []

    # -- parsing -------------------------------------------------------------------------------------
    def _abs(self, pos: int) -> int:
        return self._base + pos

    def _header(self, data: bytes, pos: int) -> FrameHeader | str:
        return explain_adts(data, pos) if self.aac else explain_mp3(data, pos)

    def _matches_mask(self, data: bytes, pos: int) -> bool:
        if data[pos] != 0xFF:
            return False
        return (data[pos + 1] & 0xF0) == 0xF0 if self.aac else (data[pos + 1] & 0xE0) == 0xE0

    def _parse(self, limit: int, events: list[ParserEvent]) -> None:
        data = bytes(self._buf[:limit])
        pos = 0
        frames: list[CodedFrame] = []
        end_of_segment = True
        min_header = ADTS_HEADER_MIN_SIZE if self.aac else MP3_HEADER_SIZE
        while limit - pos >= 4:
            parsed_metadata = True
            lead = bytes(data[pos : pos + 4])
            if self._matches_mask(data, pos):
                parsed_metadata = False
                if limit - pos < min_header:
                    end_of_segment = False
                    break
                header = self._header(data, pos)
                if isinstance(header, str):
                    if header.startswith("truncated"):
                        end_of_segment = False
                        break
                    codec = "ADTS" if self.aac else "MP3"
                    raise _Failure(f"Invalid {codec} header: {header}", self._abs(pos),
                                   "MPA-FRAME-02" if self.aac else "MPA-FRAME-03")
                if limit - pos < header.frame_size:
                    end_of_segment = False
                    break
                self._process_frame(header, pos, frames, events)
                read = header.frame_size
            elif lead == b"ICY ":
                end = icecast_end(data, pos)
                if isinstance(end, str):
                    raise _Failure(end, self._abs(pos), "MPA-META-02")
                if end is None:
                    break
                read = end - pos
            elif lead[:3] == b"TAG":
                need = id3v1_size(data, pos)
                if limit - pos < need:
                    break
                read = need
            elif lead[:3] == b"ID3":
                size = id3v2_size(data, pos)
                if isinstance(size, str):
                    raise _Failure(size, self._abs(pos), "MPA-META-02")
                if size is None or limit - pos < size:
                    break
                read = size
            else:
                read = self._find_next_start(data, pos, limit)
                if read == _NEED_MORE:
                    break
            if parsed_metadata and frames:
                self._send(frames, True, events)
                frames = []
            pos += read
            end_of_segment = True
        del self._buf[:pos]
        self._base += pos
        if frames:
            self._send(frames, end_of_segment, events)

    def _find_next_start(self, data: bytes, pos: int, limit: int) -> int:
        """Bytes of garbage before three consecutive valid headers; 0 = not found yet (need more)."""
        start = pos
        while start < limit:
            cand = data.find(b"\xff", start, limit)
            if cand < 0:
                return _NEED_MORE
            sync = cand
            ok = True
            for _ in range(3):
                if limit - sync < (ADTS_HEADER_MIN_SIZE if self.aac else MP3_HEADER_SIZE):
                    return _NEED_MORE
                header = self._header(data, sync)
                if isinstance(header, str):
                    if header.startswith("truncated"):
                        return _NEED_MORE
                    ok = False
                    break
                sync += header.frame_size
                if sync >= limit:
                    return _NEED_MORE
            if ok:
                return cand - pos
            start = cand + 1
        return _NEED_MORE

    def _process_frame(self, header: FrameHeader, pos: int, frames: list[CodedFrame],
                       events: list[ParserEvent]) -> None:
        config = (header.sample_rate, header.channels)
        if self._config is not None and self._config != config:
            self._config = None
            if frames:
                self._send(frames, True, events)
                frames.clear()
        if self._config is None:
            self._config = config
            base = self._clock.now() if self._clock is not None else Fraction(0)
            self._clock = AudioClock(header.sample_rate, base, self.chromium)
            track = TrackInfo(
                track_id=TRACK_ID,
                kind="audio",
                codec=header.codec_string if self.aac else "mp3",
                timescale=header.sample_rate,
                coding_name="ADTS" if self.aac else f"MPEG audio {header.codec_string}",
                sample_rate=header.sample_rate,
                channels=header.channels or None,
            )
            self._tracks = track
            events.append(InitSegmentParsed(InitSegment("mpeg", (track,), None, self._abs(pos),
                                                        header.header_size), self._abs(pos)))
        if header.metadata_frame:
            return
        clock = self._clock
        assert clock is not None
        t = clock.now()
        d = clock.duration(header.sample_count)
        frames.append(coded_frame(TRACK_ID, t, t, d, True, size=header.frame_size, offset=self._abs(pos),
                                  chromium=self.chromium, timescale=header.sample_rate))
        clock.add(header.sample_count)

    def _send(self, frames: list[CodedFrame], end_of_segment: bool, events: list[ParserEvent]) -> None:
        if not self._in_segment:
            self._in_segment = True
            events.append(MediaSegmentStarted(frames[0].offset, "frame"))
        events.append(FramesParsed(list(frames)))
        if end_of_segment:
            self._in_segment = False
            last = frames[-1]
            events.append(MediaSegmentEnded(last.offset + last.size))
        if self._clock is not None:
            self._clock.set_base(Fraction(0))

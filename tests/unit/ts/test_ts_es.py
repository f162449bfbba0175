"""The H.264 elementary stream parser on PES payloads taken from an ffmpeg-made TS."""

from __future__ import annotations

from fractions import Fraction

from msetool.ts.es import EsFrame, H264Es
from msetool.ts.h264 import Sps
from tests.unit.ts.helpers import packets, payload_start, pid_of, pusi

AUD = b"\x00\x00\x00\x01\x09\xf0"


def _video_pes(data: bytes) -> list[tuple[bytes, Fraction]]:
    """(ES payload, PTS) per video PES, reassembled from the packets independently of msetool.ts."""
    out: list[tuple[bytearray, Fraction]] = []
    for pk in packets(data):
        if pid_of(pk) != 0x100:
            continue
        pay = pk[payload_start(pk) :]
        if pusi(pk):
            v = int.from_bytes(pay[9:14], "big")
            pts = (((v >> 33) & 7) << 30) | (((v >> 17) & 0x7FFF) << 15) | ((v >> 1) & 0x7FFF)
            out.append((bytearray(pay[9 + pay[8] :]), Fraction(pts, 90000)))
        elif out:
            out[-1][0].extend(pay)
    return [(bytes(es), pts) for es, pts in out]


def _run(pes: list[tuple[bytes, Fraction]]) -> tuple[list[EsFrame], list[Sps]]:
    frames: list[EsFrame] = []
    configs: list[Sps] = []
    es = H264Es(False, configs.append, frames.append)
    for i, (payload, pts) in enumerate(pes):
        es.parse(payload, pts, None, i)
    es.flush()
    return frames, configs


def test_access_units_are_split_at_delimiters(ts_bytes: bytes) -> None:
    pes = _video_pes(ts_bytes)
    assert all(p.startswith(AUD) for p, _ in pes)  # ffmpeg's mpegts muxer inserts AUDs
    frames, configs = _run(pes)
    assert len(frames) == len(pes) and len(configs) == 1
    assert [f.pts for f in frames] == [pts for _, pts in pes]


def test_without_delimiters_no_frame_is_produced(ts_bytes: bytes) -> None:
    pes = [(p.replace(AUD, b""), pts) for p, pts in _video_pes(ts_bytes)]
    frames, configs = _run(pes)
    assert frames == [] and configs == []


def test_leading_non_idr_frames_become_copies_of_the_first_idr(ts_bytes: bytes) -> None:
    pes = _video_pes(ts_bytes)
    frames, _ = _run(pes[25:])  # starts 5 frames before the second IDR
    assert all(f.keyframe for f in frames[:6])
    assert frames[0].pts == pes[25][1] and frames[5].pts == pes[30][1]
    assert frames[6].keyframe is False

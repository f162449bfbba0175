"""VP9 uncompressed-header checks that predict libvpx refusing a frame (CodedFrame.decode_error)."""

from __future__ import annotations

from msetool.webm.stream import vp9_frame_problem

SYNC = b"\x49\x83\x42"


def test_key_frame_needs_frame_marker_and_sync_code() -> None:
    assert vp9_frame_problem(b"\x82" + SYNC + b"\0\0") is None  # profile 0 key frame
    assert "sync code" in (vp9_frame_problem(b"\x82\x48\x83\x42\0") or "")
    assert "frame_marker" in (vp9_frame_problem(b"\x02" + SYNC) or "")


def test_inter_frames_and_shown_existing_frames_need_only_the_marker() -> None:
    assert vp9_frame_problem(b"\x86\x12\x34\x56") is None  # frame_type 1: no sync code
    assert vp9_frame_problem(b"\x88\x00") is None  # show_existing_frame
    assert vp9_frame_problem(b"\xc6\x12") is not None  # marker 3


def test_profile_3_has_a_reserved_bit_before_the_header() -> None:
    # marker 10, profile bits 1 1, reserved 0, show_existing 0, frame_type 0, show 1, error_res 0, sync code
    bits = (0b10 << 30) | (0b11 << 28) | (0b0001 << 24) | (0x498342 >> 1)
    frame = bits.to_bytes(4, "big") + bytes([(0x42 & 1) << 7])
    assert vp9_frame_problem(frame) is None
    assert "reserved" in (vp9_frame_problem(bytes([frame[0] | 0x08]) + frame[1:]) or "")

"""Chromium's H.264 sample preparation (msetool.bmff.avc): conversion validity and the IDR verdict."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.bmff.avc import SLICE_IDR, SLICE_NON_IDR, _general_check, check_avc_sample, odd_samples


def nals(*units: bytes, size: int = 4) -> bytes:
    return b"".join(len(u).to_bytes(size, "big") + u for u in units)


@pytest.mark.parametrize("length_size", [1, 2, 4])
def test_idr_and_non_idr(length_size: int) -> None:
    idr = check_avc_sample(nals(b"\x09\xf0", b"\x06\x05\x01", b"\x65\x88\x84", size=length_size), length_size)
    assert (idr.converted, idr.is_keyframe, idr.first_nal_ok) == (True, True, True)
    p = check_avc_sample(nals(b"\x41\x9a", size=length_size), length_size)
    assert (p.converted, p.is_keyframe) == (True, False)


def test_inconclusive_analysis_leaves_the_container_flag() -> None:
    # an AUD after an SPS is out of order: the analysis gives up before the first slice
    r = check_avc_sample(nals(b"\x67\x42", b"\x09\xf0", b"\x65\x88"), 4)
    assert r.converted and r.is_keyframe is None
    # no VCL unit at all
    assert check_avc_sample(nals(b"\x06\x05"), 4).is_keyframe is None


def test_start_code_inside_an_early_nal_unit_splits_it_like_an_annex_b_parser() -> None:
    # the SEI payload holds 00 00 01 65: an Annex B parser sees an IDR slice there first
    sample = nals(b"\x06\x00\x00\x01\x65\x00", b"\x41\x9a")
    assert check_avc_sample(sample, 4).is_keyframe is True
    # the same bytes at an offset inside a larger buffer give the same answer (the parser's in-place path)
    buf = b"\xff" * 10 + sample + b"\xee" * 5
    assert check_avc_sample(buf, 4, 10, len(sample)) == check_avc_sample(sample, 4)


@pytest.mark.parametrize(
    "sample",
    [b"\x00\x00\x00\x02\x65", struct.pack(">I", 0) + b"\x65\x88", nals(b"\x65\x88") + b"\x01",
     nals(b"\x65\x88") + b"\x00\x00\x00\x00\x00"],
    ids=["overrun", "zero-length", "one-trailing-byte", "five-trailing-bytes"],
)
def test_conversion_failures(sample: bytes) -> None:
    assert not check_avc_sample(sample, 4).converted


def test_empty_sample_converts_to_nothing() -> None:
    r = check_avc_sample(b"", 4)
    assert r.converted and r.is_keyframe is None and not r.first_nal_ok


def test_forbidden_zero_bit_on_the_first_nal_unit() -> None:
    r = check_avc_sample(nals(b"\xe5\x88"), 4)
    assert r.converted and not r.first_nal_ok


_HEADERS = st.sampled_from([0x65, 0x41, 0x25, 0x01, 0x02, 0x05, 0x85, 0xC1, 0x06, 0x09, 0x67, 0x68, 0x0D, 0])


@settings(max_examples=3000, deadline=None)
@given(
    units=st.lists(st.tuples(_HEADERS, st.binary(max_size=12), st.integers(-3, 3)), min_size=1, max_size=4),
    before=st.binary(max_size=3),
    trim=st.integers(-3, 3),
    length_size=st.sampled_from([4, 2, 1]),
)
def test_the_fast_path_gives_the_general_verdict(
    units: list[tuple[int, bytes, int]], before: bytes, trim: int, length_size: int
) -> None:
    """A sample that opens with a slice takes a short cut; any framing, wrong lengths included, must get
    the verdict of the general walk (held as a private function for this test)."""
    body = b"".join(
        max(0, len(payload) + 1 + lie).to_bytes(length_size, "big") + bytes([h]) + payload
        for h, payload, lie in units
    )
    buf = before + body + b"\xaa\xbb"
    size = max(0, len(body) + trim)
    assert check_avc_sample(buf, length_size, len(before), size) == _general_check(
        buf, length_size, len(before), size)


#: a NAL length or a sample size off by this much: mostly not at all
_LIE = st.one_of(st.just(0), st.integers(-3, 3))
_UNIT = st.tuples(_HEADERS, st.binary(max_size=9), _LIE)
#: an encoder's usual sample: a slice first (its flag agreeing), true lengths, sometimes more units after it
_PLAIN = st.tuples(st.sampled_from([0x65, 0x41, 0x25, 0x01]), st.binary(max_size=9),
                   st.lists(st.tuples(_HEADERS, st.binary(max_size=9), st.just(0)), max_size=2)).map(
    lambda t: ([(t[0], t[1], 0), *t[2]], 0, t[0] & 0x1F == 5))


@settings(max_examples=2000, deadline=None)
@given(
    samples=st.lists(st.one_of(_PLAIN, st.tuples(st.lists(_UNIT, max_size=3), _LIE, st.booleans())),
                     min_size=1, max_size=8),
    before=st.binary(max_size=3),
    window=st.tuples(st.integers(0, 8), st.integers(0, 8)),
)
def test_odd_samples_are_exactly_those_without_the_flags_shared_verdict(
    samples: list[tuple[list[tuple[int, bytes, int]], int, bool]], before: bytes, window: tuple[int, int]
) -> None:
    """The batch judge of the parser's usual H.264 sample must name every sample whose one-by-one verdict
    is not the shared SLICE_IDR / SLICE_NON_IDR record its sync flag expects, and no other: the parser
    skips the per-sample work for the rest. Wrong lengths, zero lengths, trailing bytes, non-slice first
    units and flags that disagree with the slice type are all drawn."""
    buf = bytearray(b"\xee" * 4 + before)  # the samples sit at an offset in a larger buffer, as in the parser
    base = 4
    offsets, sizes, flags = [], [], []
    for units, trim, key in samples:
        body = b"".join(
            max(0, len(payload) + 1 + lie).to_bytes(4, "big") + bytes([h]) + payload
            for h, payload, lie in units
        )
        offsets.append(len(buf) - base)
        sizes.append(max(0, len(body) + trim))
        flags.append(key)
        buf += body.ljust(max(0, len(body) + trim), b"\x00")
    buf += b"\x00\x00\x00\x07\x65"  # bytes after the last sample, which the judge must not walk into
    lo, hi = sorted(min(w, len(samples)) for w in window)
    shared = {True: SLICE_IDR, False: SLICE_NON_IDR}
    expected = [s for s in range(lo, hi)
                if check_avc_sample(buf, 4, base + offsets[s], sizes[s]) is not shared[flags[s]]]
    assert odd_samples(buf, base, offsets, sizes, flags, lo=lo, hi=hi) == expected

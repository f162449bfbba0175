"""The byte-level readers behind the decode predicates (msetool.codecs.decodable) against bit-by-bit
references: their short cuts (whole fields at once, slice headers without emulation prevention bytes)
must read exactly what a one-bit-at-a-time reader reads, errors past the end included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.codecs.decodable import (
    _NAL_HEAD,
    _aac_elements,
    _aac_ics_info,
    _Bits,
    _RawBits,
    _rbsp,
    _rbsp_loop,
    undecodable_aac_frame,
)


def _bit_by_bit(data: bytes, pos: int, n: int) -> int:
    v = 0
    for _ in range(n):
        v = (v << 1) | ((data[pos >> 3] >> (7 - (pos & 7))) & 1)
        pos += 1
    return v


@settings(max_examples=2000, deadline=None)
@given(data=st.binary(max_size=20), widths=st.lists(st.integers(0, 40), max_size=10))
def test_raw_bits_reads_what_a_bit_by_bit_reader_reads(data: bytes, widths: list[int]) -> None:
    r = _RawBits(data)
    pos = 0
    for n in widths:
        if n and pos + n > 8 * len(data):
            try:
                r.read(n)
            except IndexError:
                return
            raise AssertionError("read past the end did not raise IndexError")
        assert r.read(n) == _bit_by_bit(data, pos, n)
        pos += n
        assert r.pos == pos


@settings(max_examples=3000, deadline=None)
@given(nal=st.lists(st.sampled_from([0, 0, 0, 3, 1, 0x65, 0xFF]), max_size=90).map(bytes),
       limit=st.sampled_from([1, 2, 4, 16, 64]))
def test_rbsp_removes_emulation_prevention_like_the_byte_loop(nal: bytes, limit: int) -> None:
    assert _rbsp(nal, limit) == _rbsp_loop(nal, limit)


def _ue_bit_by_bit(data: bytes, pos: int) -> tuple[int, int]:
    """ue(v) read one bit at a time (the reference): (value, bits read); ValueError past 31 leading zero
    bits, IndexError past the end, whichever comes first."""

    def bit() -> int:
        nonlocal pos
        b = (data[pos >> 3] >> (7 - (pos & 7))) & 1
        pos += 1
        return b

    start, zeros = pos, 0
    while bit() == 0:
        zeros += 1
        if zeros > 31:
            raise ValueError("Exp-Golomb code longer than 32 bits")
    v = 0
    for _ in range(zeros):
        v = (v << 1) | bit()
    return (1 << zeros) - 1 + v, pos - start


# mostly-zero bytes make long codes, codes that run past the end and codes of over 32 zero bits
_UE_BYTES = st.lists(st.sampled_from([0, 0, 0, 0, 1, 2, 0x80, 0x5A, 0xFF]), max_size=12).map(bytes)


@settings(max_examples=3000, deadline=None)
@given(data=_UE_BYTES, start=st.integers(0, 100), codes=st.integers(1, 6))
def test_ue_reads_what_a_bit_by_bit_reader_reads(data: bytes, start: int, codes: int) -> None:
    r = _Bits(data)
    r.pos = pos = start
    for _ in range(codes):
        try:
            want: tuple[int, int] | type[Exception] = _ue_bit_by_bit(data, pos)
        except (IndexError, ValueError) as e:
            want = type(e)
        if isinstance(want, tuple):
            assert r.ue() == want[0]
            pos += want[1]
            assert r.pos == pos
        else:
            try:
                r.ue()
            except (IndexError, ValueError) as e:
                assert type(e) is want
            else:
                raise AssertionError(f"expected {want.__name__}")
            return


@settings(max_examples=2000, deadline=None)
@given(nal=st.lists(st.sampled_from([0, 0, 0, 3, 1, 0x65, 0xFF]), max_size=300).map(bytes))
def test_the_nal_head_holds_all_that_rbsp_reads(nal: bytes) -> None:
    """undecodable_avc_frame hands _rbsp (and sps_id/pps_ids through it) only a unit's first _NAL_HEAD
    bytes: the same RBSP bytes as the whole unit gives."""
    assert _rbsp(nal[:_NAL_HEAD]) == _rbsp(nal)
    assert _rbsp_loop(nal[:_NAL_HEAD], 64) == _rbsp_loop(nal, 64)


# first bytes that make SCEs and CPEs (with and without common_window) with every window sequence, reserved
# bits, large max_sfb and prediction flags, and the other element kinds the short cut leaves to the loop
_AAC_FRAMES = st.lists(st.sampled_from([0x00, 0x01, 0x20, 0x21, 0x3F, 0x40, 0x80, 0xC0, 0xE0, 0xFF, 0x55,
                                        0xAA, 0x12, 0x7F]), max_size=10).map(bytes)


@settings(max_examples=5000, deadline=None)
@given(frame=_AAC_FRAMES, object_type=st.sampled_from([1, 2, 5, 29]), channels=st.sampled_from([0, 1, 2, 6]))
def test_aac_short_cut_reads_what_the_element_loop_reads(frame: bytes, object_type: int,
                                                         channels: int) -> None:
    judged = object_type in (2, 5, 29) and channels in (1, 2)
    want = _aac_elements(frame, object_type, channels) if judged else None
    assert undecodable_aac_frame(frame, object_type, channels) == want


def _ics_info_bit_by_bit(data: bytes, pos: int, object_type: int) -> tuple[str | None, int]:
    """ics_info read one bit at a time (the reference): (verdict, bits read); IndexError past the end."""
    start = pos

    def read(n: int) -> int:
        nonlocal pos
        v = _bit_by_bit(data, pos, n)
        pos += n
        return v

    if read(1):
        return "ics_info reserved bit set", pos - start
    window_sequence = read(2)
    read(1)  # window_shape
    if window_sequence == 2:
        read(4 + 7)
        return None, pos - start
    max_sfb = read(6)
    if max_sfb > 51:
        return f"max_sfb {max_sfb} exceeds the scalefactor bands of a long window", pos - start
    if read(1) and object_type in (2, 5, 29):
        return "prediction data in an AAC-LC frame", pos - start
    return None, pos - start


@settings(max_examples=3000, deadline=None)
@given(data=st.one_of(_AAC_FRAMES, st.binary(max_size=10)), start=st.integers(0, 90),
       object_type=st.sampled_from([1, 2, 5, 29]))
def test_ics_info_reads_what_a_bit_by_bit_reader_reads(data: bytes, start: int, object_type: int) -> None:
    r = _RawBits(data)
    r.pos = start
    try:
        want: tuple[str | None, int] | None = _ics_info_bit_by_bit(data, start, object_type)
    except IndexError:
        want = None
    if want is None:
        try:
            _aac_ics_info(r, object_type)
        except IndexError:
            return
        raise AssertionError("expected IndexError")
    assert _aac_ics_info(r, object_type) == want[0]
    assert r.pos == start + want[1]

"""EBML element headers: IDs, sizes, unknown sizes, truncation and invalid VINTs."""

from __future__ import annotations

import pytest

from msetool.webm import schema as S
from msetool.webm.ebml import EbmlError, parse_header, read_float, read_string, read_uint
from tests.unit.webm import builder as B


def test_one_to_four_byte_ids_and_sizes() -> None:
    h = parse_header(bytes.fromhex("1A45DFA3") + B.vint(31))
    assert h is not None and h.id == S.EBML and h.size == 31 and h.header_size == 5
    h = parse_header(bytes([0xE7, 0x81]))
    assert h is not None and h.id == S.TIMECODE and h.size == 1 and h.header_size == 2
    # A size written on 8 bytes although it fits in one.
    h = parse_header(bytes([0xA3]) + B.vint(5, 8))
    assert h is not None and h.size == 5 and h.header_size == 9


@pytest.mark.parametrize("length", [1, 2, 4, 8])
def test_all_ones_size_is_unknown(length: int) -> None:
    h = parse_header(bytes.fromhex("1F43B675") + B.vint(None, length))
    assert h is not None and h.unknown_size and h.size is None


def test_all_ones_minus_one_is_a_real_size() -> None:
    h = parse_header(bytes([0xA3, 0xFE]))
    assert h is not None and h.size == 0x7E


@pytest.mark.parametrize("cut", range(1, 8))
def test_header_cut_short_needs_more_data(cut: int) -> None:
    full = bytes.fromhex("18538067") + B.vint(1000, 4)
    assert parse_header(full[:cut]) is None
    assert parse_header(full) is not None


def test_invalid_id_and_size_first_bytes_raise_with_offsets() -> None:
    with pytest.raises(EbmlError) as e:
        parse_header(b"\x00\x00\x00\x00\x81", 0, None, 100)
    assert e.value.offset == 100
    with pytest.raises(EbmlError) as e:
        parse_header(b"\xa3\x00\x00\x00\x00\x00\x00\x00\x00\x05", 0, None, 10)
    assert e.value.offset == 11  # the size field, after the 1-byte ID


def test_values() -> None:
    assert read_uint(b"") == 0
    assert read_uint(b"\x0f\x42\x40") == 1_000_000
    assert read_float(B.flt(0x4489, 1234.5)[3:]) == 1234.5
    assert read_string(b"webm\0\0") == "webm"
    with pytest.raises(ValueError):
        read_float(b"\0\0\0")

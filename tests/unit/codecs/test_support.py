"""addSourceBuffer()/isTypeSupported() support as Chromium 156 answers it (each row seen in that build)."""

from __future__ import annotations

import pytest

from msetool.codecs.support import check_type, is_type_supported


@pytest.mark.parametrize(
    "text",
    [
        'video/mp4; codecs="avc1.4D400D"',
        'video/mp4; CODECS="avc1.4D400D"',
        'video/mp4; codecs="avc1.4D400D, mp4a.40.2"',
        "video/mp4; codecs=avc1.4D400D,mp4a.40.2",
        'audio/mp4; codecs="mp4a.40.5"',
        'audio/mp4; codecs="flac,opus"',
        'video/mp4; codecs="vp09.00.10.08"',
        'video/webm; codecs="vp9,opus"',
        'video/webm; codecs="vp8"',
        'video/mp2t; codecs="avc1.4D400D,mp4a.6B"',
        "audio/mpeg",
        'audio/aac; codecs=""',
    ],
)
def test_chromium_accepts(text: str) -> None:
    assert check_type(text).supported, check_type(text).reason


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("video/mp4", "needs a codecs parameter"),
        ('video/mp4; codecs=""', "needs a codecs parameter"),
        ("video/mp2t", "needs a codecs parameter"),
        ('VIDEO/MP4; codecs="avc1.4D400D"', "case-sensitively"),
        ('audio/mpeg; codecs="mp3"', "takes no codecs"),
        ('video/mp4; codecs="vp9"', "only in WebM"),
        ('video/webm; codecs="vp9.0"', "legacy id"),
        ('audio/mp4; codecs="mp4a.6B"', "MP3 in MP4"),
        ('video/mp2t; codecs="mp3"', "mp4a.69"),
        ('video/mp4; codecs="hev1.1.6.L93.B0"', "not supported"),
        ('audio/mp4; codecs="ac-3"', "not supported"),
    ],
)
def test_chromium_refuses_with_a_reason(text: str, why: str) -> None:
    s = check_type(text)
    assert not s.supported
    assert why in s.reason


def test_spec_profile_is_the_letter_of_the_registry() -> None:
    assert check_type('video/mp4; codecs="hev1.1.6.L93.B0"', "spec").supported
    assert check_type("video/mp4", "spec").supported


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("video/mp2t", True),  # isTypeSupported is laxer than addSourceBuffer here
        ('VIDEO/MP4; codecs="avc1.4D400D"', True),
        ('video/mp2t; codecs="mp3"', True),
        ("video/mp4", False),
        ('audio/mp4; codecs="mp4a.69"', False),
        ("audio/mp3", False),
    ],
)
def test_is_type_supported(text: str, expected: bool) -> None:
    assert is_type_supported(text) is expected

"""MPEG-4 AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1): the object type behind ``mp4a.40.N``.

The codec string ``mp4a.40.2`` vs ``.5`` vs ``.29`` depends on SBR/PS signalling that only this bit
syntax reveals, explicit (audioObjectType 5 or 29 up front) or backward compatible (a sync extension
0x2b7 after the GASpecificConfig).
"""

from __future__ import annotations

from typing import Any

from msetool.binary import BitReader
from msetool.errors import ParseError
from msetool.records import FrozenRecord

SAMPLING_FREQUENCIES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000,
                        7350)
AOT_NAMES = {1: "AAC Main", 2: "AAC LC", 3: "AAC SSR", 4: "AAC LTP", 5: "SBR (HE-AAC)", 6: "AAC Scalable",
             29: "PS (HE-AAC v2)", 42: "USAC (xHE-AAC)", 23: "ER AAC LD", 39: "ER AAC ELD", 34: "Layer 3"}


class AudioSpecificConfig(FrozenRecord):
    __slots__ = __match_args__ = (
        "audioObjectType", "samplingFrequency", "channelConfiguration", "extensionAudioObjectType",
        "sbrPresentFlag", "psPresentFlag", "extensionSamplingFrequency", "frameLengthFlag",
    )  # fmt: skip
    #: the base object type (2 for AAC-LC, also for HE-AAC whose core is LC)
    audioObjectType: int
    samplingFrequency: int
    channelConfiguration: int
    #: 5 (SBR) or 29 (PS) when signalled, explicitly or by backward-compatible extension; else 0
    extensionAudioObjectType: int
    sbrPresentFlag: bool
    psPresentFlag: bool
    extensionSamplingFrequency: int | None
    frameLengthFlag: int

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        audioObjectType: int,
        samplingFrequency: int,
        channelConfiguration: int,
        extensionAudioObjectType: int = 0,
        sbrPresentFlag: bool = False,
        psPresentFlag: bool = False,
        extensionSamplingFrequency: int | None = None,
        frameLengthFlag: int = 0,
    ) -> None:
        put = object.__setattr__
        put(self, "audioObjectType", audioObjectType)
        put(self, "samplingFrequency", samplingFrequency)
        put(self, "channelConfiguration", channelConfiguration)
        put(self, "extensionAudioObjectType", extensionAudioObjectType)
        put(self, "sbrPresentFlag", sbrPresentFlag)
        put(self, "psPresentFlag", psPresentFlag)
        put(self, "extensionSamplingFrequency", extensionSamplingFrequency)
        put(self, "frameLengthFlag", frameLengthFlag)

    @property
    def codec_object_type(self) -> int:
        """The number for ``mp4a.40.N``: 29 with PS, 5 with SBR, otherwise the base object type."""
        if self.psPresentFlag:
            return 29
        if self.sbrPresentFlag:
            return 5
        return self.audioObjectType

    def to_json(self) -> dict[str, Any]:
        return {
            "audioObjectType": self.audioObjectType, "samplingFrequency": self.samplingFrequency,
            "channelConfiguration": self.channelConfiguration,
            "extensionAudioObjectType": self.extensionAudioObjectType,
            "sbrPresentFlag": self.sbrPresentFlag, "psPresentFlag": self.psPresentFlag,
            "extensionSamplingFrequency": self.extensionSamplingFrequency,
        }


def _aot(b: BitReader) -> int:
    aot = b.bits(5)
    if aot == 31:
        aot = 32 + b.bits(6)
    return aot


def _freq(b: BitReader) -> int:
    idx = b.bits(4)
    if idx == 0xF:
        return b.bits(24)
    if idx >= len(SAMPLING_FREQUENCIES):
        raise ParseError(f"reserved samplingFrequencyIndex {idx}", b.base + b.bitpos // 8)
    return SAMPLING_FREQUENCIES[idx]


def parse_audio_specific_config(data: bytes, *, base: int = 0) -> AudioSpecificConfig:
    b = BitReader(data, base=base)
    aot = _aot(b)
    freq = _freq(b)
    chans = b.bits(4)
    ext_aot = 0
    sbr = ps = False
    ext_freq: int | None = None
    if aot in (5, 29):
        ext_aot = 5
        sbr = True
        ps = aot == 29
        ext_freq = _freq(b)
        aot = _aot(b)
        if aot == 22:
            b.bits(4)
    frame_length = 0
    if aot in (1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23):
        frame_length = b.bits(1)
        if b.bits(1):  # dependsOnCoreCoder
            b.bits(14)
        ext_flag = b.bits(1)
        if chans == 0:
            # program_config_element: its length is content dependent; stop here (no implicit signalling)
            return AudioSpecificConfig(aot, freq, chans, ext_aot, sbr, ps, ext_freq, frame_length)
        if aot in (6, 20):
            b.bits(3)
        if ext_flag:
            if aot == 22:
                b.bits(16)
            if aot in (17, 19, 20, 23):
                b.bits(3)
            b.bits(1)
    if aot in (17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 39):
        ep = b.bits(2)
        if ep in (2, 3):
            return AudioSpecificConfig(aot, freq, chans, ext_aot, sbr, ps, ext_freq, frame_length)
    # Backward-compatible (hierarchical) SBR/PS signalling.
    if ext_aot != 5 and b.bits_left >= 16:
        try:
            if b.bits(11) == 0x2B7:
                e = _aot(b)
                if e == 5:
                    sbr = b.flag()
                    if sbr:
                        ext_aot = 5
                        ext_freq = _freq(b)
                        if b.bits_left >= 12 and b.bits(11) == 0x548:
                            ps = b.flag()
                elif e == 22:
                    sbr = b.flag()
                    if sbr:
                        ext_freq = _freq(b)
                    b.bits(4)
        except ParseError:
            pass
    return AudioSpecificConfig(aot, freq, chans, ext_aot, sbr, ps, ext_freq, frame_length)

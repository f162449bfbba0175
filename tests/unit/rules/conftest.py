from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from msetool.rules.engine import Reset, Slice, Validation, validate_stream
from msetool.source import BytesSource

RunValidation = Callable[..., Validation]


def _run(parts: Sequence[bytes | Reset], mime: str | None = 'video/mp4; codecs="avc1.4D400D"') -> Validation:
    items: list[Slice | Reset] = []
    for i, p in enumerate(parts):
        if isinstance(p, Reset):
            items.append(p)
        else:
            items.append(Slice(BytesSource(p, f"part{i}.m4s")))
    return validate_stream(items, mime)


@pytest.fixture
def run() -> RunValidation:
    """Validate byte parts (each a file named partN.m4s) as one stream against a type."""
    return _run

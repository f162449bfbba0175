"""ffmpeg-python, imported without loading python-future.

ffmpeg-python 0.2 imports ``past.builtins`` (python-future) for one name, Python 2's ``basestring``, which it
uses only in ``isinstance`` checks for "a str or bytes"; its own ``_utils`` already carries the same class
for systems where python-future fails to import. Loading python-future pulls in inspect, ast, dis and
tokenize: ~6 ms of the ~42 ms between msetool's start and ffmpeg's, on every ``msetool fragment`` (measured
42.5 -> 36.5 ms without it; docs/performance.md).

So while ffmpeg-python is first imported, a stand-in ``past.builtins`` holding just that class sits in
``sys.modules``; it is taken out again at once, so anything importing ``past.builtins`` later gets
python-future's own. Should a release of ffmpeg-python ask for more than that name, the stand-in's
import fails and ffmpeg-python is imported as it is: slower, never different.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class _StrOrBytesType(type):
    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, (bytes, str))

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, (bytes, str))


class basestring(metaclass=_StrOrBytesType):  # the name ffmpeg-python imports
    """What ``past.builtins.basestring`` is on Python 3: ``isinstance(x, basestring)`` for str or bytes."""


STAND_IN = "past.builtins"


def load() -> Any:
    """The ``ffmpeg`` module of ffmpeg-python (imported once; later calls return it)."""
    loaded = sys.modules.get("ffmpeg")
    if loaded is not None:
        return loaded
    if STAND_IN in sys.modules:  # python-future is loaded already: nothing to save
        import ffmpeg

        return ffmpeg
    stand_in = type(sys)(STAND_IN)
    stand_in.basestring = basestring  # type: ignore[attr-defined]
    sys.modules[STAND_IN] = stand_in
    try:
        import ffmpeg
    except ImportError:
        # a release that needs more of python-future: forget the partial import and take it as it is
        for name in [m for m in sys.modules if m == "ffmpeg" or m.startswith("ffmpeg.")]:
            del sys.modules[name]
        sys.modules.pop(STAND_IN, None)
        import ffmpeg
    finally:
        if sys.modules.get(STAND_IN) is stand_in:
            del sys.modules[STAND_IN]
    return ffmpeg

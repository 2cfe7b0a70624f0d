"""What differs between the PyAV releases nocturne admits (``pyproject.toml``: ``av>=17.1,<20``).

Only what the code needs, each difference told by a feature of the installed
PyAV rather than its version number:

- **Container metadata that is not UTF-8** (tags written by old muxers in
  Latin-1 or Shift-JIS). PyAV 17 and 18 decode tags strictly unless ``av.open``
  is given ``metadata_errors``; PyAV 19 dropped that keyword (a ``TypeError``
  if passed) and decodes every tag as UTF-8 with ``surrogateescape``, so a
  foreign tag never fails and is written back byte for byte.
- **Frame threads and a corrupt last packet**: with PyAV 17's FFmpeg (8.1.1)
  the damaged picture is dropped, with 18's and 19's it comes out concealed.
  Nothing to do about it; ``tests/media.py`` counts frames the same way.
- **Rational numbers**: PyAV 19 returns its own ``AVRational`` where 18 returned
  ``fractions.Fraction`` (time bases, rates). ``Fraction(value)`` accepts both;
  nocturne's ``Frame``/``EncodedPacket`` always carry a ``Fraction``.

``tools/pyav_api.py`` checks in CI that the code uses no PyAV name, keyword or
setter that an admitted release lacks; this module is where a use that must
differ between releases goes, behind a feature test.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
from pathlib import Path
from typing import Any

import av
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet

# PyAV 17/18 keep the decoding choice on the container; 19 removed the attribute with the keyword.
_STRICT_METADATA = hasattr(av.container.Container, "metadata_errors")


def open_input(url: str, **options: Any) -> av.container.InputContainer:
    """``av.open(url, **options)`` for reading, tolerant of tags that are not UTF-8 on every admitted PyAV.

    Raises what ``av.open`` raises (``av.error.FFmpegError``, ``OSError``).
    """
    if _STRICT_METADATA:
        # Bad bytes dropped from the tag's text (17/18); 19 keeps them as surrogates by itself.
        options = {**options, "metadata_errors": "ignore"}
    return av.open(url, **options)


@functools.cache
def tested_range() -> SpecifierSet | None:
    """The PyAV versions nocturne declares (its ``av`` requirement); ``None`` where it cannot be read.

    From the checkout's ``pyproject.toml`` when running from one (the source of truth; an installed
    copy's metadata may predate an edit), else from the installed package's metadata. Read once.
    """
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if pyproject.is_file():
        block = re.search(r"^dependencies\s*=\s*\[(.*?)^\]", pyproject.read_text(encoding="utf-8"), re.M | re.S)
        requirements = re.findall(r'"([^"]+)"', block.group(1)) if block else []
    else:
        try:
            requirements = importlib.metadata.requires("nocturne") or []
        except importlib.metadata.PackageNotFoundError:
            return None
    for line in requirements:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.name == "av" and not requirement.marker:
            return requirement.specifier
    return None


def untested_pyav_warning() -> str | None:
    """One line for the user when the installed PyAV is outside ``tested_range()``, else ``None``."""
    tested = tested_range()
    if tested is None or tested.contains(av.__version__, prereleases=True):
        return None
    return (f"PyAV {av.__version__} is outside the range nocturne is tested with (av{tested}); "
            f"pip install 'av{tested}'")

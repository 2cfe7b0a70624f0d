"""The PyAV API guard: nocturne's uses of PyAV against every PyAV release ``pyproject.toml`` admits.

    python -m tools.pyav_api fetch     # the wheels to check against, into .whl/pyav/ (pip download)
    python -m tools.pyav_api check     # one line per use some admitted release lacks; exit 1 if any

The releases are the lowest ``av`` the project admits and the newest one pip
resolves for each Python from 3.10 to 3.14 (today 17.1 on 3.10, 18.1 on 3.11,
19.0 on 3.12 and later: PyAV 18 and 19 ship abi3 wheels from 3.11 and 3.12 up).
Their stubs are read out of the wheels, never installed, so a release built for
another Python is checked here too. A use fails the guard when

- it names PyAV exactly (``av.open``, ``av.error.HTTPForbiddenError``,
  ``from av.codec.hwaccel import HWAccel``) and one release lacks the name, or a
  keyword or the number of positional arguments it passes, or the setter it
  assigns to;
- it is ``obj.member`` of an object the code got from PyAV (``container.add_stream``
  after ``container = av.open(...)``; ``tools.pyav_uses`` follows the names), and
  the releases disagree: one has the member (the keyword, the setter) and
  another lacks it. The object's class is followed through each release's
  stubs (``tools.pyav_types``); where they cannot say it, the member's name is
  compared across all PyAV classes. Members no release has are not PyAV's
  (the tests on the installed release catch real mistakes) and are ignored.

The guard runs in the suite (``tests/tools/test_pyav_api.py``) on the code as it
is, and on planted snippets that must fail it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from stream.pyav_compat import tested_range
from tools.pyav_stubs import Member, StubIndex
from tools.pyav_types import members_of, value_of
from tools.pyav_uses import Use, find_uses

ROOT = Path(__file__).resolve().parent.parent
WHEELS = ROOT / ".whl" / "pyav"
SCANNED = ("stream", "engines", "tools", "tests")
PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")


class GuardError(RuntimeError):
    """The guard cannot run: no range for av in pyproject.toml, or pip cannot fetch a wheel."""


def admitted_specifier() -> str:
    """The versions of ``av`` the project admits, as pip takes them ("<20,>=17.1")."""
    specifier = tested_range()
    if specifier is None:
        raise GuardError("pyproject.toml names no version range for av")
    return str(specifier)


def lowest_admitted(specifier: str) -> str:
    """The ``>=`` bound of the specifier: the oldest release the project says it runs on."""
    bounds = [s.version for s in SpecifierSet(specifier) if s.operator == ">="]
    if not bounds:
        raise GuardError(f"the av range {specifier!r} has no lower bound (>=): the oldest admitted is unknown")
    return bounds[0]


def _download(requirement: str, python: str, dest: Path) -> Path | None:
    """``pip download`` one wheel for ``python``; its path, or None where no wheel fits that Python."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version",
               python, "--dest", str(dest), "--progress-bar", "off", requirement]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        if "No matching distribution" in done.stderr:
            return None
        raise GuardError(f"pip download {requirement} for Python {python} failed:\n{done.stderr.strip()[-2000:]}")
    # pip names the file it saved or found already there: "Saved …/av-….whl" or "File was already downloaded …".
    named = re.findall(r"(av-[^\s/]+\.whl)", done.stdout)
    if not named:
        raise GuardError(f"pip download {requirement} for Python {python} named no wheel:\n{done.stdout[-2000:]}")
    return dest / named[-1]


def fetch(dest: Path = WHEELS) -> list[Path]:
    """The wheels of the admitted releases to check against, downloaded once into ``dest`` (deduplicated)."""
    dest.mkdir(parents=True, exist_ok=True)
    specifier = admitted_specifier()
    jobs = [(f"av=={lowest_admitted(specifier)}", PYTHONS[0])] + [(f"av{specifier}", py) for py in PYTHONS]
    with ThreadPoolExecutor(len(jobs)) as pool:
        found = list(pool.map(lambda job: _download(job[0], job[1], dest), jobs))
    if found[0] is None:
        raise GuardError(f"no wheel of av=={lowest_admitted(specifier)} for Python {PYTHONS[0]}")
    by_version: dict[str, Path] = {}
    for wheel in found:
        if wheel is not None:
            by_version.setdefault(wheel.name.split("-")[1], wheel)
    return [by_version[v] for v in sorted(by_version, key=Version)]


@dataclass(frozen=True)
class Finding:
    use: Use
    problem: str

    def __str__(self) -> str:
        return f"{self.use.where}: {self.use.shown} — {self.problem}"


def _versions(indexes: list[StubIndex], which: list[bool]) -> str:
    return ", ".join(index.version for index, yes in zip(indexes, which) if yes)


def _named_problems(use: Use, index: StubIndex) -> list[str]:
    target = index.resolve(use.dotted or "")
    if target is None:
        return [f"not in PyAV {index.version}"]
    problems = []
    signatures = index.signatures(target) if use.call else None
    if use.call and signatures:
        for keyword in use.call.keywords:
            if not any(s.accepts_keyword(keyword) for s in signatures):
                problems.append(f"takes no keyword {keyword!r} in PyAV {index.version}")
        if use.call.positional is not None and not any(use.call.positional <= s.max_positional for s in signatures):
            problems.append(f"takes fewer than {use.call.positional} positional arguments in PyAV {index.version}")
    if use.store and isinstance(target, Member) and not target.settable:
        problems.append(f"cannot be assigned in PyAV {index.version}")
    return problems


def _drift(use: Use, indexes: list[StubIndex], question: str, answers: list[bool]) -> list[Finding]:
    """A finding when the releases answer ``question`` differently."""
    if all(answers) or not any(answers):
        return []
    no = [not a for a in answers]
    return [Finding(use, f"{question} in PyAV {_versions(indexes, answers)}, not in {_versions(indexes, no)}")]


def _members(use: Use, index: StubIndex) -> list[Member]:
    """What ``use.member`` may be in ``index``'s release: the member of the receiver's class where the stubs
    lead there (``tools.pyav_types``), else every class member of that name."""
    precise = members_of(value_of(use.receiver, index), use.member, index) if use.receiver else None
    return precise if precise is not None else index.members_named(use.member)


def _takes(members: list[Member], keyword: str, by_name: bool = False) -> bool:
    """Whether a call of one of ``members`` may pass ``keyword`` (a member that is not a method: unknown, yes)."""
    return any(m.kind != "method" or any((s.takes_by_name if by_name else s.accepts_keyword)(keyword)
                                         for s in m.signatures) for m in members)


def _member_findings(use: Use, indexes: list[StubIndex]) -> list[Finding]:
    members = [_members(use, index) for index in indexes]
    present = [bool(m) for m in members]
    findings = _drift(use, indexes, "a member", present)
    if findings or not all(present):
        return findings
    if use.store:
        findings += _drift(use, indexes, "assignable", [any(m.settable for m in ms) for ms in members])
    if use.call:
        for keyword in use.call.keywords:
            findings += _drift(use, indexes, f"takes keyword {keyword!r}", [_takes(ms, keyword) for ms in members])
            by_name = [_takes(ms, keyword, by_name=True) for ms in members]
            if not all(by_name):
                # Swallowed by **kwargs (add_stream, CodecContext.create): PyAV sets it on the new object.
                settable = [named or any(m.settable for m in index.members_named(keyword))
                            for named, index in zip(by_name, indexes)]
                findings += _drift(use, indexes, f"takes keyword {keyword!r} (an attribute it sets)", settable)
        if use.call.positional is not None:
            fits = [any(m.kind != "method" or any(use.call.positional <= s.max_positional for s in m.signatures)
                        for m in ms) for ms in members]
            findings += _drift(use, indexes, f"takes {use.call.positional} positional arguments", fits)
    return findings


def check(uses: list[Use], indexes: list[StubIndex]) -> list[Finding]:
    """Every use that some admitted release does not support, in file order."""
    findings: list[Finding] = []
    for use in uses:
        if use.dotted:
            findings += [Finding(use, problem) for index in indexes for problem in _named_problems(use, index)]
        else:
            findings += _member_findings(use, indexes)
    return list(dict.fromkeys(findings))


def check_project(wheels: list[Path]) -> list[Finding]:
    return check(find_uses([ROOT / name for name in SCANNED], ROOT), [StubIndex(w) for w in wheels])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.pyav_api", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("fetch", "check"))
    parser.add_argument("--dest", type=Path, default=WHEELS, help="where the wheels go (default .whl/pyav)")
    args = parser.parse_args(argv)
    try:
        wheels = fetch(args.dest)
    except GuardError as error:
        print(f"pyav_api: {error}", file=sys.stderr)
        return 2
    print(f"av{admitted_specifier()} → checked against PyAV " + ", ".join(w.name.split("-")[1] for w in wheels))
    if args.command == "fetch":
        return 0
    findings = check_project(wheels)
    for finding in findings:
        print(finding)
    print(f"{len(findings)} use(s) of PyAV that an admitted release lacks" if findings else "no drift")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())

"""A PyAV object's class, followed through one release's stubs along the path the code took to it.

``tools.pyav_uses`` records how the code reached an object, as steps from a
PyAV name or annotation: ``container = av.open(p)`` then
``container.streams.video[0]`` is

    (("name", "av.open"), ("call", ""), ("attr", "streams"), ("attr", "video"), ("item", ""))

``value_of(path, index)`` walks those steps through one release's stubs (the
return annotation of ``av.open``'s overloads, then ``InputContainer.streams``'s
annotation, ``StreamContainer.video``'s ``tuple[VideoStream, ...]``, its element)
and says what the object is there; ``members_of`` then finds a member on it. A
step the stubs cannot follow (a ``TypeVar``, ``Any``, a plain ``int``) makes the
value unknown (``None``), and the guard falls back to comparing member names.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from tools.pyav_stubs import ClassStub, Functions, Member, Module, StubIndex, Typed

Step = tuple[str, str]          # ("name" | "annotation" | "attr" | "call" | "item" | "iter", argument)


@dataclass(frozen=True)
class ModuleValue:
    name: str


@dataclass(frozen=True)
class ClassValue:
    """The class object itself (``av.VideoFrame``), not an instance."""

    cls: ClassStub


@dataclass(frozen=True)
class InstanceValue:
    """An instance of any of ``types`` (annotations, or classes called directly)."""

    types: tuple[Typed | ClassStub, ...]


@dataclass(frozen=True)
class CallableValue:
    """A function or method; calling it gives an instance of its return annotations."""

    returns: tuple[Typed, ...]


Value = ModuleValue | ClassValue | InstanceValue | CallableValue


def value_of(path: tuple[Step, ...], index: StubIndex) -> Value | None:
    """What ``path`` leads to in ``index``'s release; ``None`` where a step cannot be followed."""
    kind, argument = path[0]
    if kind == "name":
        value = _from_target(index.resolve(argument))
    else:
        value = InstanceValue((Typed(ast.parse(argument, mode="eval").body, None),))
    for kind, argument in path[1:]:
        if value is None:
            return None
        value = _step(value, kind, argument, index)
    return value


def members_of(value: Value | None, name: str, index: StubIndex) -> list[Member] | None:
    """The members called ``name`` of ``value``'s classes (empty: none has it); ``None``: the classes are unknown."""
    classes = _classes_of(value, index)
    if not classes:
        return None
    return [member for cls in classes if (member := index.class_member(cls, name)) is not None]


def _from_target(target: object) -> Value | None:
    if isinstance(target, Module):
        return ModuleValue(target.name)
    if isinstance(target, ClassStub):
        return ClassValue(target)
    if isinstance(target, Functions):
        return CallableValue(target.types)
    if isinstance(target, Member):
        return _member_value([target])
    return None


def _member_value(members: list[Member]) -> Value | None:
    if members and all(m.kind == "method" for m in members):
        return CallableValue(tuple(t for m in members for t in m.types))
    types = tuple(t for m in members if m.kind in ("attribute", "property") for t in m.types)
    return InstanceValue(types) if types else None


def _step(value: Value, kind: str, argument: str, index: StubIndex) -> Value | None:
    if kind == "attr":
        if isinstance(value, ModuleValue):
            return _from_target(index.resolve(f"{value.name}.{argument}"))
        members = members_of(value, argument, index)
        return _member_value(members) if members else None
    if kind == "call":
        if isinstance(value, ClassValue):
            return InstanceValue((value.cls,))
        if isinstance(value, CallableValue) and value.returns:
            return InstanceValue(value.returns)
        return None
    if kind in ("item", "iter") and isinstance(value, InstanceValue):
        elements = [e for t in value.types for e in index.element_types(_typed(t))]
        return InstanceValue(tuple(elements)) if elements else None
    return None


def _typed(part: Typed | ClassStub) -> Typed:
    return Typed(ast.Name(part.name), part.module) if isinstance(part, ClassStub) else part


def _classes_of(value: Value | None, index: StubIndex) -> list[ClassStub]:
    if isinstance(value, ClassValue):
        return [value.cls]
    if isinstance(value, InstanceValue):
        return [c for part in value.types for c in ([part] if isinstance(part, ClassStub) else index.classes_in(part))]
    return []

"""PyAV's public API as its wheel declares it: the ``.pyi`` stubs, read without installing.

A PyAV wheel carries a stub (``.pyi``) beside most modules and its Cython
"pure Python" source (``.py``) beside all of them; ``StubIndex`` parses the stub
where there is one and the source where not (``av/__init__.py``,
``av/codec/__init__.py``), with ``ast`` only: nothing is imported or executed,
so the stubs of a release built for another Python (PyAV 19 is cp312-abi3)
can be read here.

``StubIndex.resolve("av.container.open")`` follows the package's re-exports
(``from .core import *``, ``from av.container import open``) and returns what
the name is: a ``Module``, a ``ClassStub``, ``Functions`` (with their
overloads), a ``Member`` of a class, ``Unknown`` (a variable, an outside name),
or ``None`` when the release lacks it. ``classes_in`` turns an annotation into
the PyAV classes it names, which is how ``tools.pyav_types`` follows a value's
type from call to attribute to item.
"""

from __future__ import annotations

import ast
import importlib
import math
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Signature:
    """What a call may pass: positional names in order (``self``/``cls`` dropped) and keyword names."""

    positional: tuple[str, ...]
    keywords: frozenset[str]
    varargs: bool
    varkw: bool

    def accepts_keyword(self, name: str) -> bool:
        return self.varkw or name in self.keywords

    def takes_by_name(self, name: str) -> bool:
        """Whether ``name`` is a parameter of its own (not only swallowed by ``**kwargs``)."""
        return name in self.keywords

    @property
    def max_positional(self) -> float:
        return math.inf if self.varargs else len(self.positional)


@dataclass(frozen=True)
class Typed:
    """An annotation and the module whose names it uses (``None``: the project's code, "av.…" names only)."""

    annotation: ast.expr
    module: str | None


@dataclass
class Member:
    """A name a class body defines.

    ``kind``: "method", "property", "attribute", "constant" (an enum value) or
    "unknown" (inherited from outside PyAV). ``types``: what reading it gives
    (attribute, property) or what calling it returns (method, one per overload).
    """

    kind: str
    signatures: list[Signature] = field(default_factory=list)
    settable: bool = False
    types: list[Typed] = field(default_factory=list)


UNKNOWN_MEMBER = Member("unknown", settable=True)


@dataclass
class ClassStub:
    module: str
    name: str
    bases: list[ast.expr]
    members: dict[str, Member]


@dataclass(frozen=True)
class Module:
    name: str


@dataclass(frozen=True)
class Functions:
    """A module-level function, with one signature and one return type per overload."""

    signatures: tuple[Signature, ...]
    types: tuple[Typed, ...]


@dataclass(frozen=True)
class Unknown:
    """A name that exists but whose type the stubs do not let us follow (a variable, an outside class)."""


@dataclass
class _ModuleStub:
    name: str
    is_package: bool
    bindings: dict[str, object] = field(default_factory=dict)   # ClassStub | Functions | Unknown | ("import", module, name)
    star_imports: list[str] = field(default_factory=list)


def signature_of(node: ast.FunctionDef | ast.AsyncFunctionDef, drop_first: bool) -> Signature:
    args = node.args
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    by_name = [a.arg for a in (*args.args, *args.kwonlyargs)]
    if drop_first and positional:
        first = positional.pop(0)
        by_name = [name for name in by_name if name != first]
    return Signature(tuple(positional), frozenset(by_name), args.vararg is not None, args.kwarg is not None)


def _decorator_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    return [ast.unparse(d) for d in node.decorator_list]


def _class_members(node: ast.ClassDef, module: str) -> dict[str, Member]:
    members: dict[str, Member] = {}
    for item in _flatten(node.body):
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            decorators = _decorator_names(item)
            returns = [Typed(item.returns, module)] if item.returns is not None else []
            if any(d.endswith((".setter", ".deleter")) for d in decorators):
                members.setdefault(item.name, Member("property")).settable = True
            elif "property" in decorators or "cached_property" in decorators:
                members.setdefault(item.name, Member("property")).types.extend(returns)
            else:
                member = members.setdefault(item.name, Member("method"))
                member.signatures.append(signature_of(item, drop_first="staticmethod" not in decorators))
                member.types.extend(returns)
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            members[item.target.id] = Member("attribute", settable=True, types=[Typed(item.annotation, module)])
        elif isinstance(item, ast.Assign):
            # ``NAME = cast(int, ...)``: an enum or flag value, reached through its class, never an instance.
            constant = isinstance(item.value, ast.Call) and ast.unparse(item.value.func) == "cast"
            for target in item.targets:
                if isinstance(target, ast.Name):
                    members[target.id] = Member("constant") if constant else Member("attribute", settable=True)
    return members


def _flatten(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements of a body with ``if``/``try`` blocks opened (stubs guard some names by version)."""
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.If):
            out += _flatten(stmt.body) + _flatten(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            out += _flatten(stmt.body) + sum((_flatten(h.body) for h in stmt.handlers), []) + _flatten(stmt.orelse)
        else:
            out.append(stmt)
    return out


def _absolute(module: _ModuleStub, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{name}" if name else package


def _parse_module(name: str, is_package: bool, source: str) -> _ModuleStub:
    module = _ModuleStub(name, is_package)
    functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    for stmt in _flatten(ast.parse(source).body):
        if isinstance(stmt, ast.ClassDef):
            module.bindings[stmt.name] = ClassStub(name, stmt.name, stmt.bases, _class_members(stmt, name))
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.setdefault(stmt.name, []).append(stmt)
        elif isinstance(stmt, ast.ImportFrom):
            source_module = _absolute(module, stmt.level, stmt.module)
            for alias in stmt.names:
                if alias.name == "*":
                    module.star_imports.append(source_module)
                else:
                    module.bindings[alias.asname or alias.name] = ("import", source_module, alias.name)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    module.bindings[alias.asname] = ("module", alias.name)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    module.bindings[target.id] = Unknown()
    for function_name, defs in functions.items():
        module.bindings[function_name] = Functions(tuple(signature_of(d, drop_first=False) for d in defs),
                                                   tuple(Typed(d.returns, name) for d in defs if d.returns is not None))
    return module


class StubIndex:
    """The public names of one PyAV release, from its wheel (``av-<version>-<tags>.whl``)."""

    def __init__(self, wheel: str | Path) -> None:
        self.wheel = Path(wheel)
        self.version = self.wheel.name.split("-")[1]
        sources: dict[str, tuple[bool, str]] = {}       # module → (is package, text); a stub beats a source
        with zipfile.ZipFile(self.wheel) as archive:
            for entry in sorted(archive.namelist(), key=lambda n: n.endswith(".pyi")):
                if entry.startswith("av/") and entry.endswith((".py", ".pyi")):
                    parts = entry.rsplit(".", 1)[0].split("/")
                    is_package = parts[-1] == "__init__"
                    module_name = ".".join(parts[:-1] if is_package else parts)
                    sources[module_name] = (is_package, archive.read(entry).decode("utf-8"))
        self.modules = {name: _parse_module(name, pkg, text) for name, (pkg, text) in sources.items()}
        self.classes = [b for m in self.modules.values() for b in m.bindings.values() if isinstance(b, ClassStub)]

    def resolve(self, dotted: str) -> object | None:
        """What ``dotted`` ("av.x.y") names in this release; ``None`` where it does not exist."""
        first, *rest = dotted.split(".")
        target: object | None = Module(first) if first in self.modules else None
        for part in rest:
            if target is None or isinstance(target, Unknown):
                return target
            if isinstance(target, Module):
                target = self._module_attribute(target.name, part, frozenset())
            elif isinstance(target, ClassStub):
                target = self.class_member(target, part)
            else:
                return Unknown()        # members of members: followed by tools.pyav_types, not here
        return target

    def _module_attribute(self, module_name: str, name: str, seen: frozenset) -> object | None:
        if (module_name, name) in seen:
            return None
        seen = seen | {(module_name, name)}
        module = self.modules.get(module_name)
        if module is None:
            return None
        binding = module.bindings.get(name)
        if isinstance(binding, tuple) and binding[0] == "import":
            _, source, source_name = binding
            if source.split(".")[0] != "av":
                return Unknown()
            if f"{source}.{source_name}" in self.modules:
                return Module(f"{source}.{source_name}")
            return self._module_attribute(source, source_name, seen)
        if isinstance(binding, tuple) and binding[0] == "module":
            return Module(binding[1]) if binding[1] in self.modules else Unknown()
        if binding is not None:
            return binding
        for star in module.star_imports:
            found = self._module_attribute(star, name, seen)
            if found is not None and not name.startswith("_"):
                return found
        if f"{module_name}.{name}" in self.modules:
            return Module(f"{module_name}.{name}")
        return None

    def class_member(self, cls: ClassStub, name: str) -> Member | None:
        """``name`` looked up along the class's bases; outside bases (enum, Exception) are asked at run time."""
        if name in cls.members:
            return cls.members[name]
        for base in cls.bases:
            resolved = self._base(cls, base)
            if isinstance(resolved, ClassStub):
                found = self.class_member(resolved, name)
                if found is not None:
                    return found
            elif isinstance(resolved, type) and hasattr(resolved, name):
                return UNKNOWN_MEMBER
        return None

    def _base(self, cls: ClassStub, base: ast.expr) -> ClassStub | type | None:
        if isinstance(base, ast.Subscript):                 # Generic[T], Sequence[Stream]
            base = base.value
        dotted = ast.unparse(base)
        head, _, tail = dotted.partition(".")
        binding = self.modules[cls.module].bindings.get(head)
        if isinstance(binding, ClassStub):
            return binding
        if isinstance(binding, tuple) and binding[0] == "import":
            if binding[1].split(".")[0] == "av":
                found = self._module_attribute(binding[1], binding[2], frozenset())
                return found if isinstance(found, ClassStub) else None
            return _outside_class(binding[1], binding[2])
        if isinstance(binding, tuple) and binding[0] == "module":
            return _outside_class(binding[1], tail)
        return _outside_class("builtins", dotted.removeprefix("builtins."))

    def classes_in(self, typed: Typed) -> list[ClassStub]:
        """The PyAV classes an annotation names (``InputContainer``, ``VideoStream | None`` → one each).

        Generic containers (``tuple[VideoStream, ...]``) name no class: ``element_types`` opens them.
        """
        found: list[ClassStub] = []
        for part in _union_parts(typed.annotation):
            if isinstance(part, ast.Subscript) and not _is_sequence(part):
                part = part.value                               # Packet[VideoStream] is a Packet
            if isinstance(part, (ast.Name, ast.Attribute)):
                target = self._name_in(ast.unparse(part), typed.module)
                if isinstance(target, ClassStub):
                    found.append(target)
        return found

    def element_types(self, typed: Typed) -> list[Typed]:
        """What iterating or indexing a value of this annotation gives: ``X`` of ``tuple[X, ...]``,
        ``list[X]``, ``Iterator[X]``, or of a PyAV class's ``__iter__``/``__getitem__``."""
        found: list[Typed] = []
        for part in _union_parts(typed.annotation):
            if isinstance(part, ast.Subscript) and _is_sequence(part):
                first = part.slice.elts[0] if isinstance(part.slice, ast.Tuple) else part.slice
                found.append(Typed(first, typed.module))
        for cls in self.classes_in(typed):
            for special in ("__getitem__", "__iter__"):
                member = self.class_member(cls, special)
                for returned in member.types if member is not None else []:
                    found += [returned] if special == "__getitem__" else self.element_types(returned)
                if found:
                    break
        return found

    def _name_in(self, dotted: str, module: str | None) -> object | None:
        """``dotted`` as written in ``module``'s stub, or in the project's code (``None``: "av.…" names)."""
        if module is None:
            return self.resolve(dotted) if dotted.split(".")[0] == "av" else None
        head, _, tail = dotted.partition(".")
        target = self._module_attribute(module, head, frozenset())
        if tail and isinstance(target, Module):
            return self.resolve(f"{target.name}.{tail}")
        return target if not tail else None

    def signatures(self, target: object) -> list[Signature] | None:
        """How ``target`` may be called; ``None`` when the stubs do not say (then any call passes)."""
        if isinstance(target, Functions):
            return list(target.signatures)
        if isinstance(target, Member) and target.kind == "method":
            return target.signatures
        if isinstance(target, ClassStub):
            init = self.class_member(target, "__init__")
            return init.signatures if init is not None and init.kind == "method" else None
        return None

    def members_named(self, name: str) -> list[Member]:
        """Every class member called ``name`` in this release (for uses whose object's type is not known)."""
        return [c.members[name] for c in self.classes if name in c.members and c.members[name].kind != "constant"]


_GENERIC_SEQUENCES = {"tuple", "list", "Sequence", "Iterator", "Iterable", "Generator", "set", "frozenset",
                      "Tuple", "List"}


def _is_sequence(annotation: ast.Subscript) -> bool:
    return ast.unparse(annotation.value).split(".")[-1] in _GENERIC_SEQUENCES


def _union_parts(annotation: ast.expr) -> list[ast.expr]:
    """``A | B | None``, ``Optional[A]``, ``Union[A, B]`` and ``"A"`` opened into their parts."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            return _union_parts(ast.parse(annotation.value, mode="eval").body)
        except SyntaxError:
            return []
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return _union_parts(annotation.left) + _union_parts(annotation.right)
    if isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value).split(".")[-1] in ("Optional", "Union"):
        inner = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        return [p for element in inner for p in _union_parts(element)]
    return [annotation]


def _outside_class(module: str, name: str) -> type | None:
    """A base class from the standard library (``enum.IntEnum``, ``builtins.ValueError``), from this interpreter.

    Only the standard library is imported: a stub's other imports (numpy) are not needed to name a base.
    """
    if module.split(".")[0] not in sys.stdlib_module_names:
        return None
    try:
        found = getattr(importlib.import_module(module), name.split(".")[-1])
    except (ImportError, AttributeError):
        return None
    return found if isinstance(found, type) else None

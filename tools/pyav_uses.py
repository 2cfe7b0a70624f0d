"""Where nocturne's code uses PyAV, found with ``ast`` (the code is read, not run).

Two kinds of use come out of a file:

- **named**: a dotted name that starts at an import of ``av`` (``av.open(...)``,
  ``av.error.FFmpegError``, ``from av.codec.hwaccel import HWAccel``), so what it
  names in PyAV is known exactly;
- **member**: ``something.name`` where ``something`` holds a PyAV object
  (``container.add_stream(...)``, ``stream.thread_type = ...`` after
  ``container = av.open(...)``). The use keeps the ``receiver``: the steps that
  led from a PyAV name or annotation to the object (see ``tools.pyav_types``),
  so the guard can follow its class through each release's stubs.

Which names hold PyAV objects is followed through assignments, ``for`` and
``with`` targets, comprehensions, ``self.x`` attributes, and parameters,
variables and return values annotated with a PyAV type; an attribute, item or
call result of a PyAV object is one too (``frame.pts`` is an int: the stubs say
so when the guard follows the steps, and an int has no PyAV member).

A call records how many positional arguments it passes and which keywords
(``*args``/``**kwargs`` at the call make that part unknown and unchecked).
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from pathlib import Path

Step = tuple[str, str]      # see tools.pyav_types
Steps = tuple[Step, ...]


@dataclass(frozen=True)
class Call:
    positional: int | None          # None when a ``*args`` makes the count unknown
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Use:
    """One use at ``file:line``: ``dotted`` for a named use, else ``member`` alone."""

    file: str
    line: int
    dotted: str | None
    member: str
    call: Call | None = None
    store: bool = False
    receiver: Steps = ()            # member uses: how the code reached the object

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def shown(self) -> str:
        return self.dotted or f".{self.member}"


def _call_of(node: ast.Call) -> Call:
    starred = any(isinstance(a, ast.Starred) for a in node.args)
    return Call(None if starred else len(node.args), tuple(k.arg for k in node.keywords if k.arg is not None))


def _av_bindings(tree: ast.Module) -> dict[str, str]:
    """Local name → the PyAV dotted name it is bound to, from every import in the file (lazy ones too)."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "av":
                    bound[alias.asname or "av"] = alias.name if alias.asname else "av"
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "av":
            for alias in node.names:
                if alias.name != "*":
                    bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


def _chain(node: ast.expr) -> tuple[str, list[str]] | None:
    """``a.b.c`` → ("a", ["b", "c"]); None when the chain does not start at a plain name."""
    attributes: list[str] = []
    while isinstance(node, ast.Attribute):
        attributes.insert(0, node.attr)
        node = node.value
    return (node.id, attributes) if isinstance(node, ast.Name) else None


class _Finder(ast.NodeVisitor):
    """Records uses, and follows which names hold PyAV objects and how the code reached them.

    Run twice over a file: the first pass only learns which ``self.x`` hold PyAV
    objects (a method may use what a later method assigns), the second records.
    """

    def __init__(self, file: str, bound: dict[str, str]) -> None:
        self.file, self.bound, self.uses = file, bound, []
        self.scopes: list[dict[str, Steps]] = [{}]      # names holding PyAV objects, innermost scope last
        self.self_attributes: dict[str, Steps] = {}     # x of self.x holding one, anywhere in the file
        self.returning: dict[str, Steps] = {}           # the file's functions annotated to return one
        self.recording = False

    def run(self, tree: ast.Module) -> list[Use]:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (path := self._annotated(node.returns)):
                self.returning[node.name] = path
        for recording in (False, True):
            self.scopes, self.recording, self.uses = [{}], recording, []
            self.visit(tree)
        return self.uses

    def _add(self, node: ast.AST, dotted: str | None, member: str, call: Call | None, store: bool,
             receiver: Steps = ()) -> None:
        if self.recording:
            self.uses.append(Use(self.file, node.lineno, dotted, member, call, store, receiver))

    def path_of(self, node: ast.expr | None) -> Steps | None:
        """How ``node`` reaches a PyAV object (steps from a PyAV name or annotation); ``None``: it does not."""
        if isinstance(node, ast.Name):
            if node.id in self.bound:
                return (("name", self.bound[node.id]),)
            return next((scope[node.id] for scope in reversed(self.scopes) if node.id in scope), None)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                return self.self_attributes.get(node.attr)
            base = self.path_of(node.value)
            return base + (("attr", node.attr),) if base else None
        if isinstance(node, ast.Call):
            func = node.func
            local = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) and _chain(func) == ("self", [func.attr]) else None)
            if local in self.returning:
                return self.returning[local]
            base = self.path_of(func)
            return base + (("call", ""),) if base else None
        if isinstance(node, ast.Subscript):
            base = self.path_of(node.value)
            return base + (("item", ""),) if base else None
        if isinstance(node, (ast.Starred, ast.Await)):
            return self.path_of(node.value)
        if isinstance(node, ast.IfExp):
            return self.path_of(node.body) or self.path_of(node.orelse)
        if isinstance(node, ast.BoolOp):
            return next((p for v in node.values if (p := self.path_of(v))), None)
        return None

    def _annotated(self, annotation: ast.expr | None) -> Steps | None:
        """An annotation naming a PyAV type, rewritten with full "av.…" names (``VideoStream | None``)."""
        if annotation is None or not any(isinstance(n, ast.Name) and n.id in self.bound for n in ast.walk(annotation)):
            return None
        bound = self.bound

        class Qualify(ast.NodeTransformer):
            def visit_Name(self, name: ast.Name) -> ast.expr:
                return ast.parse(bound[name.id], mode="eval").body if name.id in bound else name

        return (("annotation", ast.unparse(Qualify().visit(copy.deepcopy(annotation)))),)

    def _hold(self, target: ast.expr, path: Steps) -> None:
        if isinstance(target, ast.Name):
            self.scopes[-1][target.id] = path
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
            self.self_attributes[target.attr] = path
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._hold(element, path + (("item", ""),))

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        for default in (*node.args.defaults, *node.args.kw_defaults):
            if default is not None:
                self.visit(default)
        parameters = (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)
        self.scopes.append({a.arg: path for a in parameters if (path := self._annotated(a.annotation))})
        for statement in node.body if isinstance(node.body, list) else [node.body]:
            self.visit(statement)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    def visit_Assign(self, node: ast.Assign | ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        path = self.path_of(node.value) or (self._annotated(node.annotation) if isinstance(node, ast.AnnAssign) else None)
        for target in targets:
            if path:
                self._hold(target, path)
            self.visit(target)

    visit_AnnAssign = visit_Assign

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        if path := self.path_of(node.iter):
            self._hold(node.target, path + (("iter", ""),))
        for statement in (node.target, *node.body, *node.orelse):
            self.visit(statement)

    visit_AsyncFor = visit_For

    def visit_withitem(self, node: ast.withitem) -> None:
        self.visit(node.context_expr)
        if node.optional_vars is not None and (path := self.path_of(node.context_expr)):
            self._hold(node.optional_vars, path)         # PyAV's containers enter as themselves

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self.visit(node.iter)
        if path := self.path_of(node.iter):
            self._hold(node.target, path + (("iter", ""),))
        for condition in node.ifs:
            self.visit(condition)

    def _visit_comprehension_expression(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> None:
        for generator in node.generators:          # the loop variables first, then what uses them
            self.visit(generator)
        for part in (node.key, node.value) if isinstance(node, ast.DictComp) else (node.elt,):
            self.visit(part)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _visit_comprehension_expression

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] == "av":
                self._add(node, alias.name, alias.name.split(".")[-1], None, False)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and (node.module or "").split(".")[0] == "av":
            for alias in node.names:
                if alias.name != "*":
                    self._add(node, f"{node.module}.{alias.name}", alias.name, None, False)

    def visit_Call(self, node: ast.Call) -> None:
        self._visit_reference(node.func, _call_of(node))
        for child in (*node.args, *node.keywords):
            self.visit(child)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._visit_reference(node, None)

    def visit_Name(self, node: ast.Name) -> None:
        self._visit_reference(node, None)

    def _visit_reference(self, node: ast.expr, call: Call | None) -> None:
        chain = _chain(node)
        if chain and chain[0] in self.bound:
            dotted = ".".join([self.bound[chain[0]], *chain[1]])
            if chain[1] or call is not None:       # a bare ``av`` or ``VideoFrame`` was checked at its import
                store = isinstance(getattr(node, "ctx", None), ast.Store)
                self._add(node, dotted, dotted.rsplit(".", 1)[-1], call, store)
            return
        if isinstance(node, ast.Attribute):
            if receiver := self.path_of(node.value):
                self._add(node, None, node.attr, call, isinstance(node.ctx, ast.Store), receiver)
            self.visit(node.value)
        elif not isinstance(node, ast.Name):
            self.visit(node)


def find_uses(paths: list[Path], root: Path) -> list[Use]:
    """Uses of PyAV in the Python files under ``paths`` (files or folders); ``Use.file`` is relative to ``root``."""
    uses: list[Use] = []
    for path in paths:
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
            uses += _Finder(str(file.relative_to(root)), _av_bindings(tree)).run(tree)
    return uses

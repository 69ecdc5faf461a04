"""The refusals' catalogue is complete: every refusal the services raise has a published code,
with the status its exception answers, and nothing answers with a bare HTTPException."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from contracts.refusals import FIELD_CODES, REFUSALS

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [
    *sorted((ROOT / "shared").glob("*/**/*.py")),
    *sorted((ROOT / "services").glob("*/*/**/*.py")),
]
STATUS = {
    "DomainError": 422,
    "NotFoundError": 404,
    "StateConflictError": 409,
    "NotPermittedError": 403,
    "NotSignedInError": 401,
    "TooManyAttemptsError": 429,
}
"""The refusal classes of ``eventspine.errors`` and the status each answers."""
DEFAULT_CODES = {"NotSignedInError": "not_signed_in", "TooManyAttemptsError": "too_many_attempts"}
"""The classes whose own code is a published one (the others must name theirs)."""


def _sources() -> Iterator[tuple[Path, ast.AST]]:
    for path in SOURCES:
        if "tests" in path.parts or "node_modules" in path.parts:
            continue
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def _calls(tree: ast.AST, names: set[str]) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
            yield node


def _code(call: ast.Call) -> str | None:
    """The code a refusal names: a literal, or ``"*"`` for one a helper passes on (its
    callers' literals are checked by :func:`test_codes_passed_on_by_helpers_are_published`)."""
    for keyword in call.keywords:
        if keyword.arg == "code":
            value = keyword.value
            return str(value.value) if isinstance(value, ast.Constant) else "*"
    return None


def test_every_refusal_raised_names_a_published_code_with_its_status() -> None:
    unnamed, unknown, wrong_status, sites = [], [], [], 0
    for path, tree in _sources():
        for call in _calls(tree, set(STATUS)):
            assert isinstance(call.func, ast.Name)
            sites += 1
            where = f"{path.relative_to(ROOT)}:{call.lineno}"
            code = _code(call) or DEFAULT_CODES.get(call.func.id)
            if code is None:
                unnamed.append(where)
            elif code == "*" or code in FIELD_CODES:
                continue  # a field's own fault: answered as invalid_request (422)
            elif code not in REFUSALS:
                unknown.append(f"{where} {code}")
            elif REFUSALS[code].status != STATUS[call.func.id]:
                wrong_status.append(f"{where} {code}: {call.func.id} vs {REFUSALS[code].status}")
    assert sites > 80
    assert unnamed == [], "refusals without a code"
    assert unknown == [], "codes missing from contracts.refusals"
    assert wrong_status == []


def test_codes_passed_on_by_helpers_are_published() -> None:
    passed = []
    for _, tree in _sources():
        for call in _calls(tree, {"_unauthorized"}):
            passed += [a.value for a in call.args[1:] if isinstance(a, ast.Constant)]
    assert passed
    assert {code for code in passed if code not in REFUSALS} == set()


def test_refusal_classes_with_their_own_code_are_published() -> None:
    found = {}
    for _, tree in _sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            for statement in node.body:
                if (
                    isinstance(statement, ast.Assign)
                    and [t.id for t in statement.targets if isinstance(t, ast.Name)] == ["code"]
                    and isinstance(statement.value, ast.Constant)
                ):
                    found[node.name] = statement.value.value
    generic = {"DomainError", "NotFoundError", "StateConflictError", "NotPermittedError"}
    own = {name: code for name, code in found.items() if name not in generic}
    assert own, "no refusal class of its own was found"
    assert {c for c in own.values() if c not in REFUSALS} == set()


def test_custom_validation_errors_use_catalogue_codes() -> None:
    used = []
    for path, tree in _sources():
        for call in _calls(tree, {"PydanticCustomError"}):
            first = call.args[0]
            assert isinstance(first, ast.Constant), f"{path}:{call.lineno}"
            used.append(str(first.value))
    assert used
    assert {code for code in used if code not in FIELD_CODES and code not in REFUSALS} == set()


def test_no_service_answers_with_a_bare_http_exception() -> None:
    bare = [
        f"{path.relative_to(ROOT)}:{call.lineno}"
        for path, tree in _sources()
        for call in _calls(tree, {"HTTPException"})
        if "web" not in path.parts  # the frontend's own pages, not a service's API
    ]
    assert bare == []


def test_the_readme_lists_every_code() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [code for code in [*REFUSALS, *FIELD_CODES] if f"`{code}`" not in readme]
    assert missing == []

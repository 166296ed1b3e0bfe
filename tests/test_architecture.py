"""docs/architecture.md matches the code: every module of nnp_ref is listed once in its
table, with the nnp_ref modules it imports (issue 10).

On failure the message prints the rows the table should have, so the document can be
brought up to date by pasting them (the "idea" column is written by hand).
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "nnp_ref"
DOC = ROOT / "docs" / "architecture.md"
ROW = re.compile(r"^\|\s*`(nnp_ref/[\w/]+\.py)`\s*\|(.*)\|(.*)\|\s*$")


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rsplit(".", 1)[0]


def nnp_ref_imports(path: Path) -> set[str]:
    """Modules of nnp_ref that ``path`` imports (anywhere in the file), as paths."""
    name = module_name(path)
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("nnp_ref"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package_of(name, path).split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if not base.startswith("nnp_ref"):
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if resolve(candidate) else base)
    paths = {resolve(m) for m in found}
    paths.discard(None)
    paths.discard(path.relative_to(ROOT).as_posix())
    return paths


def resolve(module: str):
    rel = Path(*module.split("."))
    if (ROOT / rel).with_suffix(".py").is_file():
        return rel.with_suffix(".py").as_posix()
    if (ROOT / rel / "__init__.py").is_file():
        return (rel / "__init__.py").as_posix()
    return None


def code_modules() -> dict[str, set[str]]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__init__.py" and not path.read_text().strip().replace('"', ""):
            continue
        modules[path.relative_to(ROOT).as_posix()] = nnp_ref_imports(path)
    return modules


def short(path: str) -> str:
    """``nnp_ref/model/network.py`` -> ``model/network``; a package's ``__init__`` -> its name."""
    name = path.removesuffix(".py").removesuffix("__init__").rstrip("/")
    return name.removeprefix("nnp_ref/") if name != "nnp_ref" else "nnp_ref"


def documented_rows() -> dict[str, set[str]]:
    rows = {}
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match:
            module, _idea, imports = match.groups()
            assert module not in rows, f"{module} listed twice in {DOC.name}"
            rows[module] = {s.strip().strip("`") for s in imports.split(",") if s.strip()}
            rows[module].discard("-")
    return rows


def test_architecture_table_lists_every_module_with_its_imports():
    code = code_modules()
    doc = documented_rows()
    expected = {m: {short(i) for i in imports} for m, imports in code.items()}
    wrong = sorted(m for m in expected if doc.get(m) != expected[m])
    stale = sorted(set(doc) - set(code))
    hint = "\n".join(
        f"| `{m}` | ... | {', '.join(f'`{i}`' for i in sorted(expected[m])) or '-'} |"
        for m in wrong
    )
    assert not stale, f"{DOC.name} lists modules that do not exist: {stale}"
    assert not wrong, f"{DOC.name} is out of date for {len(wrong)} module(s); rows:\n{hint}"

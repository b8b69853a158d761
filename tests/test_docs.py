"""The docs site: it builds cleanly, and its API reference lists exactly the public names.

The pages' own ``>>>`` examples run through ``--doctest-glob=*.md``; the
recipes' code runs in tests/test_recipes_*.py.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
API_PAGE = DOCS / "api.md"

# The public modules whose names the API reference documents, name by name.
PUBLIC_MODULES = ("keepword", "keepword.testing")
# Public modules the API reference documents whole (their own __all__ decides what shows).
WHOLE_MODULES = {"keepword.testing.strategies", "keepword.testing.stateful"}

_DIRECTIVE = re.compile(r"^::: *(\S+)", re.MULTILINE)


def documented() -> list[str]:
    """The identifiers the API page renders with mkdocstrings (``::: keepword.Name``)."""
    return _DIRECTIVE.findall(API_PAGE.read_text(encoding="utf-8"))


def public_names(module: str) -> list[str]:
    """``module.__all__`` at run time, without dunders such as ``__version__``."""
    names: list[str] = importlib.import_module(module).__all__
    return [n for n in names if not n.startswith("__")]


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_name_is_in_the_api_reference(module: str) -> None:
    have = set(documented())
    missing = [n for n in public_names(module) if f"{module}.{n}" not in have]
    assert not missing, (
        f"{module}.__all__ has names the API reference does not document. "
        f"Add to docs/api.md, under the fitting heading, one line each: "
        + " ".join(f"'::: {module}.{n}'" for n in missing)
    )


def test_the_api_reference_documents_public_names_only() -> None:
    public = {f"{m}.{n}" for m in PUBLIC_MODULES for n in public_names(m)} | WHOLE_MODULES
    extra = [name for name in documented() if name not in public]
    assert not extra, (
        f"docs/api.md documents names that are not public: {extra}. "
        "Document only names in keepword.__all__ or keepword.testing.__all__ "
        "(or export the name there first)."
    )


def test_the_api_reference_documents_each_name_once() -> None:
    names = documented()
    twice = sorted({n for n in names if names.count(n) > 1})
    assert not twice, f"docs/api.md documents {twice} more than once"


def test_the_api_reference_names_resolve() -> None:
    for name in documented():
        if name in WHOLE_MODULES:
            importlib.import_module(name)
            continue
        module, _, attr = name.rpartition(".")
        assert hasattr(importlib.import_module(module), attr), f"{name} does not exist"


def _nav_pages(entries: Any) -> list[str]:
    pages: list[str] = []
    for entry in entries:
        if isinstance(entry, str):
            pages.append(entry)
        elif isinstance(entry, dict):
            for value in entry.values():
                pages.extend([value] if isinstance(value, str) else _nav_pages(value))
    return pages


def _mkdocs_config() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")

    class Loader(yaml.SafeLoader):
        """Tolerates mkdocs' ``!!python/name:`` and ``!ENV`` tags."""

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    config: dict[str, Any] = yaml.load(
        (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader
    )
    return config


def test_every_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    nav = _nav_pages(_mkdocs_config()["nav"])
    missing = [p for p in nav if not (DOCS / p).is_file()]
    assert not missing, f"mkdocs.yml's nav names pages that do not exist: {missing}"
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    orphans = [p for p in pages if p not in nav]
    assert not orphans, (
        f"pages not in mkdocs.yml's nav (readers cannot find them): {orphans}; "
        "add each under the fitting section of nav"
    )


def test_the_tutorial_and_every_recipe_page_is_linked_from_the_home_page() -> None:
    home = (DOCS / "index.md").read_text(encoding="utf-8")
    for page in ("tutorial.md", "recipes/index.md", "cli-reference.md", "api.md"):
        assert f"({page})" in home, f"docs/index.md does not link {page}"


_SNIPPET = re.compile(r'^--8<-- "([^":]+)(?::([\w-]+))?"$')
_FENCE = re.compile(r"^```(\w*)\s*$")


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _code_blocks(page: Path) -> list[tuple[str, list[str]]]:
    """The fenced blocks of a page: (language, lines)."""
    blocks: list[tuple[str, list[str]]] = []
    current: list[str] | None = None
    language = ""
    for line in page.read_text(encoding="utf-8").splitlines():
        fence = _FENCE.match(line)
        if current is None and fence:
            current, language = [], fence.group(1)
        elif current is not None and line.strip() == "```":
            blocks.append((language, current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def _snippets() -> list[tuple[Path, str, str | None]]:
    found = []
    for page in _pages():
        for line in page.read_text(encoding="utf-8").splitlines():
            if "8<" in line or "8 <" in line:
                match = _SNIPPET.match(line.strip())
                assert match, (
                    f"{page.relative_to(ROOT)}: {line!r} is not a pymdownx.snippets include "
                    '(write it as --8<-- "recipes/file.py:section"; a code formatter may have '
                    "mangled it)"
                )
                found.append((page, match.group(1), match.group(2)))
    return found


def test_every_snippet_include_names_an_existing_file_and_section() -> None:
    snippets = _snippets()
    assert snippets, "the recipe pages include no code"
    for page, path, section in snippets:
        source = DOCS / path
        assert source.is_file(), f"{page.relative_to(ROOT)} includes {path}, which is missing"
        if section is not None:
            text = source.read_text(encoding="utf-8")
            for marker in (f"--8<-- [start:{section}]", f"--8<-- [end:{section}]"):
                assert marker in text, f"{path} has no '{marker}' for {page.relative_to(ROOT)}"


def test_every_included_recipe_file_is_imported_by_a_recipe_test() -> None:
    tests = "".join(p.read_text(encoding="utf-8") for p in ROOT.glob("tests/test_recipes*.py"))
    for page, path, _ in _snippets():
        module = Path(path).relative_to("recipes").parts[0].removesuffix(".py")
        assert f'"{module}' in tests, (
            f"{page.relative_to(ROOT)} shows {path}, but no tests/test_recipes*.py imports "
            f"{module}: every recipe must run in the test suite"
        )


@pytest.mark.parametrize(
    "page",
    [DOCS / "tutorial.md", *sorted((DOCS / "recipes").glob("*.md"))],
    ids=lambda p: p.relative_to(DOCS).as_posix(),
)
def test_every_python_example_on_the_tutorial_and_recipes_runs(page: Path) -> None:
    for language, lines in _code_blocks(page):
        if language not in ("python", "py", "pycon"):
            continue
        code = [line for line in lines if line.strip()]
        runs = any(line.startswith(">>>") for line in code) or all(
            _SNIPPET.match(line.strip()) for line in code
        )
        assert runs, (
            f"{page.relative_to(ROOT)} has a python block that no test runs: "
            f"{code[:2]}... Make it a >>> example or include it from a tested file"
        )


def test_mkdocs_build_strict_passes(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    pytest.importorskip("mkdocs_click")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p
    )
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert result.returncode == 0, "mkdocs build --strict failed:\n" + "\n".join(
        warnings or result.stderr.splitlines()[-20:]
    )
    api = (tmp_path / "api" / "index.html").read_text(encoding="utf-8")
    assert 'id="keepword.Tracker"' in api
    # docstrings' doctests render as code, not as nested block quotes
    assert "<blockquote>\n<blockquote>" not in api
    cli = (tmp_path / "cli-reference" / "index.html").read_text(encoding="utf-8")
    assert "keepword demo" in cli
    # the recipes show their code, included from the tested files
    fastapi = (tmp_path / "recipes" / "fastapi" / "index.html").read_text(encoding="utf-8")
    assert "get_tracker" in fastapi
    for page in (tmp_path / "recipes").rglob("*.html"):
        assert "--8&lt;--" not in page.read_text(encoding="utf-8"), (
            f"{page}: a snippet not included"
        )

"""The Colab and Binder buttons open notebooks that the publishing workflow publishes.

Run after `make book`. Each launch link must name the page's exported notebook,
`_build/notebooks/<page>.ipynb`, on the `notebooks` branch of the repository in
`_config.yml` (where .github/workflows/book.yml pushes `_build/notebooks/` and
`binder/`); Binder's environment, `binder/requirements.txt`, must provide every module
those notebooks import, without the book's build and test tooling. No page may send
Colab a `.md` file, which it cannot open.
"""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest
import tomllib
import yaml
from bs4 import BeautifulSoup
from IPython.core.inputtransformer2 import TransformerManager

from bookbuild.config import notebook_pages, toc_pages
from bookbuild.paths import HTML, NOTEBOOKS, ROOT

NOTEBOOK_BRANCH = "notebooks"  # bookbuild.sphinxext.launch_links and the workflow

BINDER = ROOT / "binder"
PAGES = toc_pages()
CHAPTERS = notebook_pages()
COLAB = "colab.research.google.com"
BINDERHUB = "mybinder.org"
TOOLING = {"jupyter-book", "myst-nb", "sphinx", "pytest", "playwright", "ruff"}


def _org_repo() -> tuple[str, str]:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    org, repo = urlsplit(config["repository"]["url"]).path.strip("/").split("/")
    return org, repo


def _soup(path) -> BeautifulSoup:
    assert path.is_file(), f"{path} is missing: run `make book` first"
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _launch_links(page: str) -> dict[str, str]:
    """The page's launch buttons: their text and URL."""
    soup = _soup(HTML / f"{page}.html")
    return {
        a.get_text(strip=True): str(a["href"])
        for a in soup.select(".dropdown-launch-buttons a[href]")
    }


def _exported(path: str) -> None:
    """Fail unless `path` (relative to the branch's root) is an exported notebook."""
    assert path.endswith(".ipynb"), f"{path} is not a notebook"
    assert (NOTEBOOKS / path).is_file(), (
        f"_build/notebooks/{path} is missing: the export does not produce it"
    )


def test_no_colab_link_opens_a_markdown_file():
    pages = sorted(HTML.rglob("*.html"))
    assert len(pages) >= len(PAGES)
    bad = [
        f"{page.relative_to(HTML)}: {a['href']}"
        for page in pages
        for a in _soup(page).select("a[href]")
        if COLAB in a["href"] and urlsplit(a["href"]).path.endswith(".md")
    ]
    assert not bad, "Colab cannot open .md files:\n" + "\n".join(bad)


@pytest.mark.parametrize("page", PAGES)
def test_chapters_and_only_chapters_have_colab_and_binder(page):
    links = _launch_links(page)
    if page in CHAPTERS:
        assert sorted(links) == ["Binder", "Colab"], f"{page}: {links}"
    else:
        assert not links, f"{page} has no code to run, yet offers {links}"


@pytest.mark.parametrize("page", CHAPTERS)
def test_colab_opens_the_exported_notebook_on_the_notebooks_branch(page):
    url = urlsplit(_launch_links(page)["Colab"])
    org, repo = _org_repo()
    prefix = f"/github/{org}/{repo}/blob/{NOTEBOOK_BRANCH}/"
    assert url.scheme == "https" and url.netloc == COLAB, url.geturl()
    assert url.path.startswith(prefix), f"{url.geturl()} is not under {prefix}"
    path = url.path.removeprefix(prefix)
    assert path == f"{page}.ipynb", f"{page}'s Colab link opens {path}"
    _exported(path)


@pytest.mark.parametrize("page", CHAPTERS)
def test_binder_opens_the_exported_notebook_on_the_notebooks_branch(page):
    url = urlsplit(_launch_links(page)["Binder"])
    org, repo = _org_repo()
    assert url.scheme == "https" and url.netloc == BINDERHUB, url.geturl()
    assert url.path == f"/v2/gh/{org}/{repo}/{NOTEBOOK_BRANCH}", url.geturl()
    (urlpath,) = parse_qs(url.query)["urlpath"]
    path = urlpath.removeprefix("lab/tree/")
    assert path == f"{page}.ipynb", f"{page}'s Binder link opens {urlpath}"
    _exported(path)
    assert (BINDER / "requirements.txt").is_file()


def test_the_workflow_publishes_notebooks_and_binder_to_that_branch():
    workflow = (ROOT / ".github" / "workflows" / "book.yml").read_text()
    assert f"git push --force origin HEAD:{NOTEBOOK_BRANCH}" in workflow
    assert "path: _build/notebooks" in workflow
    assert "cp -R binder" in workflow


def _requirements() -> list[str]:
    lines = (BINDER / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and line[0] != "#"]


def _name(requirement: str) -> str:
    """The distribution a requirement names, normalised (PEP 503)."""
    name = re.split(r"[\s<>=!~;@\[(]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def test_binder_environment_is_cpu_torch_cnnbook_and_captum_only():
    lines = _requirements()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    names = {_name(line) for line in lines if not line.startswith("-")}
    # captum: the attribution chapter's cross-check (cnnbook's "attribution" extra)
    assert names == {"torch", "torchvision", "cnnbook", "captum"}, names
    org, repo = _org_repo()
    assert f"cnnbook @ git+https://github.com/{org}/{repo}" in lines
    assert not names & TOOLING


def test_binder_installs_captum_as_cnnbook_s_attribution_extra_says():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert extras["attribution"] == [
        line for line in _requirements() if _name(line) == "captum"
    ]


def _closure(names: set[str]) -> set[str]:
    """The distributions `names` install, following the installed ones' requirements."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo.extend(_name(r) for r in requires if "extra ==" not in r)
    return seen


def _imports(source: str) -> set[str]:
    """The top-level modules a code cell imports (its IPython magics made Python)."""
    code = TransformerManager().transform_cell(source)
    modules: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


@pytest.mark.parametrize("page", CHAPTERS)
def test_binder_provides_every_module_the_notebook_imports(page):
    path = NOTEBOOKS / f"{page}.ipynb"
    assert path.is_file(), f"{path} is missing: the export does not produce it"
    notebook = nbformat.read(path, as_version=4)
    modules = set().union(
        *(_imports(c.source) for c in notebook.cells if c.cell_type == "code")
    )
    assert "torch" in modules, f"{page}: no imports found; the parser is broken"
    provided = _closure({_name(r) for r in _requirements() if r[0] != "-"})
    owners = metadata.packages_distributions()
    missing = {
        module: owners.get(module)
        for module in modules - set(sys.stdlib_module_names)
        if not {_name(d) for d in owners.get(module, [module])} & provided
    }
    assert not missing, f"{page} imports what binder/ does not install: {missing}"

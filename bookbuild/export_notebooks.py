"""Write each chapter as a clean, executed .ipynb that runs outside the book.

Run after ``jupyter-book build``. Sphinx's own download (``_sources/book/<page>.ipynb``)
is the page as myst-nb reads it: MyST markdown that Jupyter cannot render (glue roles,
``literalinclude``, admonition fences), glue cells that import myst-nb, and no outputs
(myst-nb writes the notebook before it merges the cached outputs). This script rebuilds
each notebook page of the table of contents from its source and from the execution
cache, and writes it to ``_build/notebooks/book/<page>.ipynb`` and over the download at
``_build/html/_sources/book/<page>.ipynb``:

- glue values are pasted into the markdown as text, formatted as the site formats them;
- ``literalinclude`` becomes a fenced code block holding the included source;
- admonitions and (sphinx-design's) dropdowns become block quotes with a bold title;
- links to other pages (markdown links to ``<page>.md`` and ``{doc}`` roles, outside
  code spans) point at the other notebook when that page is exported too; a page with
  no code cell (the API reference) has no notebook, so its link goes to the published
  page, ``<html.baseurl>/<page>.html``, when ``_config.yml`` sets ``html: baseurl:``,
  and is otherwise reduced to its link text. A relative ``<page>.html`` link would
  be broken: a notebook opened in Colab, Binder or from a download has no site next
  to it. (No ``baseurl`` is configured at present, so such links are plain text.)
  ``(label)=`` targets are dropped;
- cells tagged ``remove-cell`` are dropped (the glue cells), except the first code cell,
  which installs cnnbook when it is missing; ``remove-output`` cells lose their outputs;
- figure captions follow their figure as a markdown line;
- outputs come from the execution cache, without the glue records.

All notebooks are built in memory before any is written; then the export's folder
(``_build/notebooks/<folder>`` of the pages) is emptied, so a removed or renamed page
leaves no stale notebook there, and every notebook is written.

Anything it cannot translate (an unknown directive or role, a glue key with no value)
stops it with an error that names the page. The JSON is written with sorted keys and
cell ids derived from the cell's position, so two runs on the same cache give
identical files.
"""

from __future__ import annotations

import ast
import json
import posixpath
import re
import sys
from ast import literal_eval
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml
from nbformat import NotebookNode

from bookbuild.config import notebook_pages, site_url
from bookbuild.pages import read_page
from bookbuild.paths import CACHE, EXECUTED, HTML, NOTEBOOKS, ROOT

OUT_DIRS = (NOTEBOOKS, HTML / "_sources")

INSTALL_MARK = 'find_spec("cnnbook")'
GLUE_MIME = "application/papermill.record/"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
#: Directives whose argument is their title: block quotes too.
TITLED_BLOCKS = ("admonition", "dropdown")
ADMONITIONS = {
    "attention",
    "caution",
    "danger",
    "error",
    "hint",
    "important",
    "note",
    "seealso",
    "tip",
    "warning",
}

FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
DIRECTIVE = re.compile(r"^\{(?P<name>[\w:-]+)\}\s*(?P<argument>.*)$")
OPTION = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*)$")
MD_FORMATS = ("commonmark", "gfm", "myst")  # what {glue:md}'s :format: may say
TARGET = re.compile(r"^\([\w.:-]+\)=\s*$")
INLINE = re.compile(
    r"\{(?P<role>[a-zA-Z][\w:.-]*)\}`(?P<content>[^`]*)`"  # a role
    r"|(?P<ticks>`+).+?(?P=ticks)"  # a code span: left alone
    # a link to another page (not an image, not a URL with a scheme)
    r"|(?<!!)\[(?P<text>[^\[\]]*)\]"
    r"\((?P<target>(?![a-z][a-z+.-]*:)[^)\s#]+)\.md(?P<anchor>#[^)\s]*)?\)",
    re.DOTALL,
)
TITLED = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>$|~])")


class ExportError(Exception):
    """A page holds something the export cannot turn into plain notebook markdown."""


@dataclass
class Context:
    """What the markdown transforms of one page need to know."""

    page: str  # e.g. "book/output-size"
    source_dir: Path  # the folder of the page's .md, for relative includes
    glue: Mapping[str, str] = field(default_factory=dict)  # key -> text/plain
    notebooks: frozenset[str] = frozenset()  # the exported pages, e.g. "book/intro"
    site_url: str = ""  # the published book's base URL ("" when none is configured)
    glue_markdown: Mapping[str, str] = field(
        default_factory=dict
    )  # key -> text/markdown


# ---------------------------------------------------------------- inline markup


def escape_markdown(text: str) -> str:
    """``text`` with the characters markdown would interpret backslash-escaped."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def format_glue(text: str, spec: str) -> str:
    """A glued ``text/plain`` value formatted as myst-nb's ``{glue:text}`` role does.

    ``spec`` is the format spec after the key (``""`` when there is none): the value
    is parsed as a Python literal (which drops a string's quotes), converted to the
    type the spec's last character asks for, and formatted.
    """
    try:
        value = literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if spec == "":
        return str(value)
    kind = spec[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    return format(value, spec)


def glue_text(content: str, ctx: Context) -> str:
    """The text a ``{glue:text}`key:spec``` role shows, escaped for markdown."""
    if "::" in content:
        raise ExportError(
            f"{ctx.page}: glue from another page is not supported: {content}"
        )
    key, spec = content.rsplit(":", 1) if ":" in content else (content, "s")
    if key not in ctx.glue:
        raise ExportError(f"{ctx.page}: no glued value for key {key!r}")
    try:
        text = format_glue(ctx.glue[key], spec)
    except (TypeError, ValueError) as exc:
        raise ExportError(
            f"{ctx.page}: cannot format glue {key!r} as {spec!r}: {exc}"
        ) from exc
    return escape_markdown(text)


def reference_text(content: str) -> tuple[str, str]:
    """The text and target of ``{ref}``/``{numref}``/``{doc}`` content."""
    match = TITLED.match(content)
    return (match["text"], match["target"]) if match else (content, content)


def page_link(text: str, target: str, anchor: str, ctx: Context) -> str:
    """A link to another page as the notebook can follow it (see the module docstring).

    ``target`` is the page's name without ``.md``, relative to the linking page's
    folder, or to the book's root when it starts with ``/``.
    """
    folder = posixpath.dirname(ctx.page)
    page = posixpath.normpath(
        target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
    )
    if page in ctx.notebooks:
        return f"[{text}]({posixpath.relpath(page, folder or '.')}.ipynb{anchor})"
    if ctx.site_url:
        return f"[{text}]({ctx.site_url}/{page}.html{anchor})"
    return text


def replace_role(role: str, content: str, ctx: Context) -> str:
    """The markdown that replaces one MyST role."""
    if role in ("glue", "glue:", "glue:any", "glue:text"):
        return glue_text(content, ctx)
    if role in ("ref", "numref"):
        return reference_text(content)[0]
    if role == "doc":
        text, target = reference_text(content)
        return page_link(text, target.removesuffix(".md"), "", ctx)
    if role == "math":
        return f"${content}$"
    raise ExportError(f"{ctx.page}: no plain-markdown form for the role {{{role}}}")


def transform_inline(text: str, ctx: Context) -> str:
    """Replace the roles and the links to pages in ``text``, not in code spans."""

    def replace(match: re.Match[str]) -> str:
        if match["role"] is not None:
            return replace_role(match["role"], match["content"], ctx)
        if match["target"] is not None:
            text = transform_inline(match["text"], ctx)
            return page_link(text, match["target"], match["anchor"] or "", ctx)
        return match[0]  # a code span

    return INLINE.sub(replace, text)


# ---------------------------------------------------------------- literalinclude


def python_object_source(source: str, name: str) -> str:
    """The source of the function or class ``name`` (dotted for a method) in ``source``.

    Like Sphinx's ``:pyobject:``: from the first decorator to the last non-blank line
    of the body, comments included. When a name is defined more than once (the
    ``@overload`` stubs before an implementation), the last definition counts.
    """
    lines = source.splitlines()
    nodes: list[ast.stmt] = ast.parse(source).body
    node: ast.stmt | None = None
    for part in name.split("."):
        node = next(
            (
                n
                for n in reversed(nodes)
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and n.name == part
            ),
            None,
        )
        if node is None:
            raise ValueError(f"no function or class {name!r} in the file")
        nodes = node.body
    assert node is not None and node.end_lineno is not None
    decorators = getattr(node, "decorator_list", [])
    start = min([node.lineno] + [d.lineno for d in decorators])
    end = node.end_lineno
    # trailing comments indented inside the body belong to it, as in Sphinx
    while end < len(lines) and (
        not lines[end].strip()
        or len(lines[end]) - len(lines[end].lstrip()) > node.col_offset
    ):
        end += 1
    while not lines[end - 1].strip():
        end -= 1
    return "\n".join(line[node.col_offset :] for line in lines[start - 1 : end])


def literal_include(argument: str, options: Mapping[str, str], ctx: Context) -> str:
    """A ``literalinclude`` directive as a fenced code block."""
    unknown = set(options) - {"language", "pyobject"}
    if unknown:
        raise ExportError(
            f"{ctx.page}: literalinclude options not supported: {unknown}"
        )
    path = (ctx.source_dir / argument).resolve()
    try:
        code = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"{ctx.page}: cannot include {argument}: {exc}") from exc
    if "pyobject" in options:
        try:
            code = python_object_source(code, options["pyobject"])
        except SyntaxError as exc:
            raise ExportError(
                f"{ctx.page}: cannot parse {argument} for :pyobject:: {exc}"
            ) from exc
        except ValueError as exc:
            raise ExportError(f"{ctx.page}: {argument}: {exc}") from exc
    fence = "`" * max(3, 1 + max((len(t) for t in re.findall("`+", code)), default=0))
    return f"{fence}{options.get('language', '')}\n{code.rstrip()}\n{fence}"


# ---------------------------------------------------------------- block structure


def split_options(body: list[str]) -> tuple[dict[str, str], list[str]]:
    """A directive's ``:key: value`` (or ``---`` YAML) options, and the rest of it.

    Raises ValueError for a ``---`` block that is not closed or not a YAML mapping.
    """
    if body and body[0].strip() == "---":
        ends = [i for i, line in enumerate(body) if i > 0 and line.strip() == "---"]
        if not ends:
            raise ValueError("the '---' options block is not closed")
        end = ends[0]
        try:
            options = yaml.safe_load("\n".join(body[1:end])) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"the '---' options are not valid YAML: {exc}") from exc
        if not isinstance(options, dict):
            raise ValueError("the '---' options are not a YAML mapping")
        return {k: str(v) for k, v in options.items()}, body[end + 1 :]
    options = {}
    index = 0
    while index < len(body) and (match := OPTION.match(body[index])):
        options[match["key"]] = match["value"].strip()
        index += 1
    return options, body[index:]


def quote(title: str, body: str) -> str:
    """A block quote with a bold title line, the plain form of an admonition."""
    lines = [f"**{title}**", ""] + body.splitlines()
    return "\n".join(f"> {line}".rstrip() for line in lines)


def render_directive(name: str, argument: str, body: list[str], ctx: Context) -> str:
    """The plain markdown for one MyST directive."""
    try:
        options, content = split_options(body)
    except ValueError as exc:
        raise ExportError(f"{ctx.page}: {{{name}}} directive: {exc}") from exc
    if name == "literalinclude":
        return literal_include(argument, options, ctx)
    if name in ADMONITIONS or name in TITLED_BLOCKS:
        if name in TITLED_BLOCKS:
            if not argument:
                raise ExportError(f"{ctx.page}: {{{name}}} without a title")
            title = argument
        else:
            title = name.capitalize() + (f": {argument}" if argument else "")
        inner = transform_markdown("\n".join(content), ctx).strip("\n")
        return quote(transform_inline(title, ctx), inner)
    if name == "glue:md":
        return glued_markdown(argument, options, ctx)
    if name == "nb-exec-table":
        return (
            "*The table of executed pages is generated when the book is built; "
            "it is on this page of the published book.*"
        )
    raise ExportError(
        f"{ctx.page}: no plain-markdown form for the directive {{{name}}}"
    )


def glued_markdown(key: str, options: Mapping[str, str], ctx: Context) -> str:
    """A ``{glue:md}`` directive: the glued ``text/markdown`` value, transformed."""
    if set(options) - {"format"} or options.get("format", "myst") not in MD_FORMATS:
        raise ExportError(f"{ctx.page}: glue:md options not supported: {options}")
    if key not in ctx.glue_markdown:
        raise ExportError(f"{ctx.page}: no glued markdown for key {key!r}")
    return transform_markdown(ctx.glue_markdown[key], ctx)


def fenced_blocks(lines: list[str]) -> Iterator[tuple[str, list[str]]]:
    """Split markdown lines into ("text", lines) and ("fence", lines) runs.

    A fence run holds the opening line, the body and the closing line: a line of the
    same character, at least as long as the opening, with nothing after it.
    """
    text: list[str] = []
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            text.append(lines[index])
            index += 1
            continue
        if text:
            yield "text", text
            text = []
        fence = match["fence"]
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        yield "fence", lines[index : end + 1]
        index = end + 1
    if text:
        yield "text", text


def transform_fence(block: list[str], ctx: Context) -> str:
    """A fenced block: a directive becomes plain markdown, code stays as it is."""
    match = FENCE.match(block[0])
    assert match is not None
    directive = DIRECTIVE.match(match["info"].strip())
    if directive is None:
        if match["fence"][0] == ":":
            raise ExportError(f"{ctx.page}: a colon fence without a directive")
        return "\n".join(block)
    body = block[1:-1] if len(block) > 1 and FENCE.match(block[-1]) else block[1:]
    return render_directive(directive["name"], directive["argument"], body, ctx)


def transform_text(lines: list[str], ctx: Context) -> str:
    """Prose lines: targets and MyST comments dropped, roles and links replaced."""
    kept = [
        line
        for line in lines
        if not TARGET.match(line.strip()) and not line.startswith("%")
    ]
    return transform_inline("\n".join(kept), ctx)


def transform_markdown(source: str, ctx: Context) -> str:
    """One markdown cell's MyST source as markdown that Jupyter renders."""
    parts = [
        transform_text(lines, ctx) if kind == "text" else transform_fence(lines, ctx)
        for kind, lines in fenced_blocks(source.splitlines())
    ]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(parts)).strip("\n")


def raw_myst(markdown: str) -> list[str]:
    """The MyST constructs left in exported markdown (an empty list when clean)."""
    found = [
        line
        for kind, lines in fenced_blocks(markdown.splitlines())
        if kind == "fence"
        for line in lines[:1]
        if "{" in line or line.lstrip().startswith(":::")
    ]
    for kind, lines in fenced_blocks(markdown.splitlines()):
        if kind == "text":
            for match in INLINE.finditer("\n".join(lines)):
                if match["role"] is not None:
                    found.append(match[0])
            found += [line for line in lines if TARGET.match(line.strip())]
    return found


# ---------------------------------------------------------------- cells and outputs


def is_glue_output(output: NotebookNode) -> bool:
    """Whether an output is only a glue record (not meant to be shown)."""
    data = output.get("data", {})
    return bool(data) and all(mime.startswith(GLUE_MIME) for mime in data)


def merge_streams(outputs: list[NotebookNode]) -> list[NotebookNode]:
    """Consecutive stream outputs of the same name joined, as the site shows them."""
    merged: list[NotebookNode] = []
    for output in outputs:
        if (
            output.output_type == "stream"
            and merged
            and merged[-1].output_type == "stream"
            and merged[-1].name == output.name
        ):
            merged[-1].text += output.text
        else:
            merged.append(output)
    return merged


def clean_outputs(outputs: list[NotebookNode]) -> list[NotebookNode]:
    """Outputs with glue records dropped and streams merged."""
    kept = [nbformat.from_dict(dict(o)) for o in outputs if not is_glue_output(o)]
    for output in kept:
        output.pop("transient", None)
    return merge_streams(kept)


def code_cell(cell: NotebookNode) -> list[NotebookNode]:
    """A code cell for the export, and its figure caption if it has one."""
    tags = cell.metadata.get("tags", [])
    metadata: dict[str, object] = {}
    if {"remove-input", "hide-input", "hide-cell"} & set(tags):
        metadata["jupyter"] = {"source_hidden": True}
    outputs = [] if "remove-output" in tags else clean_outputs(cell.outputs)
    new = nbformat.v4.new_code_cell(cell.source, metadata=metadata, outputs=outputs)
    new.execution_count = cell.get("execution_count")
    caption = cell.metadata.get("mystnb", {}).get("figure", {}).get("caption")
    if caption and outputs:
        return [new, nbformat.v4.new_markdown_cell(f"*{escape_markdown(caption)}*")]
    return [new]


def is_install_cell(cell: NotebookNode) -> bool:
    """Whether ``cell`` is the cell that installs cnnbook when it is missing."""
    return cell.cell_type == "code" and INSTALL_MARK in cell.source


def export_cells(cells: list[NotebookNode], ctx: Context) -> list[NotebookNode]:
    """The cells of the clean notebook, from the executed page's cells."""
    first_code = next((c for c in cells if c.cell_type == "code"), None)
    if first_code is None or not is_install_cell(first_code):
        raise ExportError(f"{ctx.page}: the first code cell does not install cnnbook")
    exported: list[NotebookNode] = []
    for cell in cells:
        if cell.cell_type == "markdown":
            source = transform_markdown(cell.source, ctx)
            if source.strip():
                exported.append(nbformat.v4.new_markdown_cell(source))
        elif cell.cell_type == "code":
            tags = cell.metadata.get("tags", [])
            if "remove-cell" in tags and cell is not first_code:
                continue
            exported.extend(code_cell(cell))
    return exported


def check_clean(notebook: NotebookNode, page: str) -> None:
    """Fail unless ``notebook`` has no MyST markup and no myst_nb import."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown" and (left := raw_myst(cell.source)):
            raise ExportError(f"{page}: cell {index} still has MyST markup: {left}")
        if cell.cell_type == "code" and re.search(r"\bmyst_nb\b", cell.source):
            raise ExportError(f"{page}: cell {index} uses myst_nb")


# ---------------------------------------------------------------- pages


def load_glue(
    page: str, executed: Path = EXECUTED, mime: str = "text/plain"
) -> dict[str, str]:
    """The page's glued values (key -> their ``mime`` form) from glue.json."""
    path = executed / f"{page}.glue.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        key: value["data"][mime]
        for key, value in data.items()
        if mime in value.get("data", {})
    }


def executed_page(page: str, root: Path = ROOT, cache: Path = CACHE) -> NotebookNode:
    """The page read as myst-nb reads it, with the outputs of its cached execution."""
    from jupyter_cache import get_cache

    notebook = read_page(root / f"{page}.md")
    try:
        merged: NotebookNode
        _, merged = get_cache(str(cache)).merge_match_into_notebook(notebook)
    except KeyError as exc:
        raise ExportError(
            f"{page}: no executed copy in {cache}; run jupyter-book build first"
        ) from exc
    return merged


def export_notebook(executed: NotebookNode, ctx: Context) -> NotebookNode:
    """The clean notebook for one page."""
    notebook: NotebookNode = nbformat.v4.new_notebook(
        metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    )
    notebook.cells = export_cells(executed.cells, ctx)
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index:03d}"
    nbformat.validate(notebook)
    check_clean(notebook, ctx.page)
    return notebook


def write_all(pages: list[str], make: Callable[[str], NotebookNode]) -> list[Path]:
    """Write ``make(page)`` for every page into each output folder; return the paths.

    Every notebook is made before anything is written, so a page that fails leaves
    the previous export as it was. The first output folder is the export's own: the
    notebooks in the folders that hold the pages there (``_build/notebooks/book``)
    are deleted first, so the notebook of a removed or renamed page does not stay
    behind. In the others
    (Sphinx's ``_sources``) only the pages' own files are replaced.
    """
    texts = {page: nbformat.writes(make(page)) + "\n" for page in pages}
    own = OUT_DIRS[0]
    for folder in sorted({(own / page).parent for page in pages}):
        inside = folder.resolve() == own.resolve() or own.resolve() in (
            folder.resolve().parents
        )
        if not inside:
            raise ExportError(f"refusing to clear {folder}: it is not in {own}")
        for stale in folder.glob("*.ipynb"):
            stale.unlink()
    written = []
    for page, text in texts.items():
        for folder in OUT_DIRS:
            target = folder / f"{page}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            written.append(target)
    return written


def main() -> int:
    """Export every notebook page of the toc."""

    pages = notebook_pages()
    url = site_url()

    def make(page: str) -> NotebookNode:
        ctx = Context(
            page,
            (ROOT / page).parent,
            load_glue(page),
            frozenset(pages),
            url,
            load_glue(page, mime="text/markdown"),
        )
        return export_notebook(executed_page(page), ctx)

    try:
        written = write_all(pages, make)
    except ExportError as exc:
        print(f"export_notebooks: {exc}", file=sys.stderr)
        return 1
    print(f"exported {len(written) // len(OUT_DIRS)} notebooks to {OUT_DIRS[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

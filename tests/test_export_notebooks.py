"""bookbuild/export_notebooks.py: MyST markup and glue cells become a plain notebook."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from bookbuild import export_notebooks as export
from bookbuild.config import site_url
from bookbuild.paths import ROOT

INSTALL = (
    "import importlib.util\n\n"
    'if importlib.util.find_spec("cnnbook") is None:\n'
    '    %pip install --quiet "cnnbook @ git+https://example.org/cnnbook"'
)


def _ctx(tmp_path, glue=None, notebooks=("book/intro", "book/next"), site_url=""):
    return export.Context(
        "book/page", tmp_path, glue or {}, frozenset(notebooks), site_url
    )


def _code(source, tags=(), outputs=(), **metadata):
    cell = nbformat.v4.new_code_cell(source, outputs=list(outputs))
    if tags:
        cell.metadata["tags"] = list(tags)
    cell.metadata.update(metadata)
    return cell


@pytest.mark.parametrize(
    ("text", "spec", "expected"),
    [
        ("0.8758", ".1%", "87.6%"),
        ("0.3928082735301841", ".2f", "0.39"),
        ("'70,000'", "", "70,000"),
        ("'Egyptian cat'", "s", "Egyptian cat"),
        ("14", "d", "14"),
        ("5.960464477539063e-08", ".1e", "6.0e-08"),
        ("not a literal", "s", "not a literal"),
    ],
)
def test_glue_is_formatted_as_myst_nb_formats_it(text, spec, expected):
    from myst_nb.core.variables import format_plain_text

    assert export.format_glue(text, spec) == expected
    assert format_plain_text(text, spec or "s") == expected


def test_glue_roles_become_text_with_their_format(tmp_path):
    ctx = _ctx(tmp_path, {"acc": "0.8758", "name": "'T-shirt/top'", "n": "'4,999'"})
    source = (
        "Accuracy {glue:text}`acc:.1%` on {glue:text}`n` images; "
        "worst: **{glue:text}`name`**; code `{glue:text}` stays."
    )
    assert export.transform_markdown(source, ctx) == (
        "Accuracy 87.6% on 4,999 images; worst: **T-shirt/top**; "
        "code `{glue:text}` stays."
    )


def test_glue_text_is_escaped_for_markdown(tmp_path):
    ctx = _ctx(tmp_path, {"word": "'a_b*c'"})
    assert export.transform_markdown("{glue:text}`word`", ctx) == r"a\_b\*c"


def test_glue_md_directive_becomes_the_glued_markdown(tmp_path):
    ctx = export.Context(
        "book/page",
        tmp_path,
        glue_markdown={"table": "| a | b |\n| --: | --: |\n| 1 | [x](next.md) |"},
        notebooks=frozenset({"book/next"}),
    )
    out = export.transform_markdown(
        "Before.\n\n```{glue:md} table\n:format: myst\n```\n\nAfter.", ctx
    )
    assert (
        out == "Before.\n\n| a | b |\n| --: | --: |\n| 1 | [x](next.ipynb) |\n\nAfter."
    )
    assert export.raw_myst(out) == []


@pytest.mark.parametrize(
    ("markdown", "error"),
    [
        ("```{glue:md} missing\n```", "no glued markdown for key 'missing'"),
        ("```{glue:md} table\n:format: rst\n```", "glue:md options not supported"),
    ],
)
def test_glue_md_without_value_or_with_other_format_fails(tmp_path, markdown, error):
    ctx = export.Context("book/page", tmp_path, glue_markdown={"table": "| a |"})
    with pytest.raises(export.ExportError, match=error):
        export.transform_markdown(markdown, ctx)


def test_load_glue_reads_the_asked_mime_type(tmp_path):
    record = {"data": {"text/plain": "<Markdown>", "text/markdown": "| a |"}}
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "page.glue.json").write_text(json.dumps({"t": record}))
    assert export.load_glue("book/page", tmp_path) == {"t": "<Markdown>"}
    assert export.load_glue("book/page", tmp_path, mime="text/markdown") == {
        "t": "| a |"
    }


def test_a_glue_key_without_value_fails_naming_page_and_key(tmp_path):
    with pytest.raises(export.ExportError, match=r"book/page.*'missing'"):
        export.transform_markdown("Seen {glue:text}`missing:.2f` here.", _ctx(tmp_path))


def test_a_glue_value_that_does_not_fit_its_format_fails(tmp_path):
    ctx = _ctx(tmp_path, {"name": "'cat'"})
    with pytest.raises(export.ExportError, match=r"book/page.*'name'.*'\.2f'"):
        export.transform_markdown("{glue:text}`name:.2f`", ctx)


def test_literalinclude_with_pyobject_gives_the_object_source(tmp_path):
    (tmp_path / "mod.py").write_text(
        "import x\n\n\n"
        "@decorate\n"
        "def chosen(a):\n"
        '    """Doc."""\n'
        "    return a\n"
        "    # a trailing comment\n\n\n"
        "class Other:\n"
        "    def method(self):\n"
        "        return 1\n"
    )
    source = (
        "Before.\n\n"
        "```{literalinclude} mod.py\n:language: python\n:pyobject: chosen\n```\n\n"
        "```{literalinclude} mod.py\n:pyobject: Other.method\n```"
    )
    assert export.transform_markdown(source, _ctx(tmp_path)) == (
        "Before.\n\n"
        "```python\n@decorate\ndef chosen(a):\n"
        '    """Doc."""\n    return a\n    # a trailing comment\n```\n\n'
        "```\ndef method(self):\n    return 1\n```"
    )


def test_literalinclude_of_a_missing_object_or_option_fails(tmp_path):
    (tmp_path / "mod.py").write_text("def f():\n    pass\n")
    with pytest.raises(export.ExportError, match=r"book/page.*'g'"):
        export.transform_markdown(
            "```{literalinclude} mod.py\n:pyobject: g\n```", _ctx(tmp_path)
        )
    with pytest.raises(export.ExportError, match="lines"):
        export.transform_markdown(
            "```{literalinclude} mod.py\n:lines: 1\n```", _ctx(tmp_path)
        )


def test_pyobject_matches_sphinx_for_every_include_in_the_book():
    from sphinx.pycode import ModuleAnalyzer

    pattern = re.compile(
        r"\{literalinclude\} (\S+)\n(?::language: \w+\n)?:pyobject: (\S+)"
    )
    seen = 0
    for page in sorted((ROOT / "book").glob("*.md")):
        for path, name in pattern.findall(page.read_text(encoding="utf-8")):
            file = (page.parent / path).resolve()
            source = file.read_text(encoding="utf-8")
            _, start, end = ModuleAnalyzer.for_string(source, "m").find_tags()[name]
            expected = "\n".join(source.splitlines()[start - 1 : end])
            assert export.python_object_source(source, name) == expected, name
            seen += 1
    assert seen >= 10


def test_admonitions_and_dropdowns_become_block_quotes(tmp_path):
    source = (
        "````{admonition} Show the source\n:class: dropdown\n\n"
        "Some **text**.\n\n```python\nx = 1\n```\n````\n\n"
        ":::{note}\nA note.\n:::\n\n"
        "~~~~{tip}\nA tip.\n~~~~\n\n"
        "~~~~{dropdown} Show more\n:open:\n\nMore.\n~~~~"
    )
    assert export.transform_markdown(source, _ctx(tmp_path)) == (
        "> **Show the source**\n>\n> Some **text**.\n>\n> ```python\n> x = 1\n> ```\n"
        "\n> **Note**\n>\n> A note.\n\n> **Tip**\n>\n> A tip.\n\n"
        "> **Show more**\n>\n> More."
    )
    with pytest.raises(export.ExportError, match=r"book/page: \{dropdown\} without"):
        export.transform_markdown("```{dropdown}\nUntitled.\n```", _ctx(tmp_path))


def test_targets_references_and_page_links_become_plain_markdown(tmp_path):
    source = (
        "(sec-a)=\n## Title\n\nSee {ref}`the section <sec-a>`, {numref}`fig-b`, "
        "{doc}`the intro <intro>` and the [next page](next.md#part), "
        "not [a site](https://example.org/page.md)."
    )
    assert export.transform_markdown(source, _ctx(tmp_path)) == (
        "## Title\n\nSee the section, fig-b, [the intro](intro.ipynb) and the "
        "[next page](next.ipynb#part), not [a site](https://example.org/page.md)."
    )


def test_links_to_pages_without_a_notebook_become_text_or_site_links(tmp_path):
    source = (
        "The [API](api.md#cnnbook.show), {doc}`the API <api>`, "
        "{doc}`/book/intro` and [**intro**](../book/intro.md)."
    )
    assert export.transform_markdown(source, _ctx(tmp_path)) == (
        "The API, the API, [/book/intro](intro.ipynb) and [**intro**](intro.ipynb)."
    )
    ctx = _ctx(tmp_path, site_url="https://example.org/cnnbook")
    assert export.transform_markdown(source, ctx) == (
        "The [API](https://example.org/cnnbook/book/api.html#cnnbook.show), "
        "[the API](https://example.org/cnnbook/book/api.html), "
        "[/book/intro](intro.ipynb) and [**intro**](intro.ipynb)."
    )


def test_the_site_url_is_the_configured_baseurl(tmp_path):
    (tmp_path / "_config.yml").write_text("title: t\n")
    assert site_url(tmp_path) == ""
    (tmp_path / "_config.yml").write_text("html:\n  baseurl: https://x.org/b/\n")
    assert site_url(tmp_path) == "https://x.org/b"


def test_links_in_code_spans_are_left_alone(tmp_path):
    source = "Write `[a](next.md)` or ``{doc}`next` ``; [b](next.md) is a link."
    assert export.transform_markdown(source, _ctx(tmp_path)) == (
        "Write `[a](next.md)` or ``{doc}`next` ``; [b](next.ipynb) is a link."
    )


def test_reference_text_splits_title_and_target():
    assert export.reference_text("the intro <intro>") == ("the intro", "intro")
    assert export.reference_text("fig-b") == ("fig-b", "fig-b")


@pytest.mark.parametrize("content", ["other::key", "other::key:.2f"])
def test_glue_from_another_page_fails_saying_so(tmp_path, content):
    ctx = _ctx(tmp_path, {"key": "1", "other::key": "1", "other:": "1"})
    with pytest.raises(export.ExportError, match=r"book/page: glue from another"):
        export.transform_markdown(f"{{glue:text}}`{content}`", ctx)


def test_an_unclosed_or_bad_yaml_options_block_fails_naming_the_page(tmp_path):
    for body in ["---\nclass: dropdown\n\nText.", "---\n[a, b]\n---\nText."]:
        with pytest.raises(export.ExportError, match=r"book/page: \{note\}"):
            export.transform_markdown(f"```{{note}}\n{body}\n```", _ctx(tmp_path))


def test_pyobject_include_of_an_unparsable_file_fails_naming_the_page(tmp_path):
    (tmp_path / "bad.py").write_text("def f(:\n")
    with pytest.raises(export.ExportError, match=r"book/page: cannot parse bad\.py"):
        export.transform_markdown(
            "```{literalinclude} bad.py\n:pyobject: f\n```", _ctx(tmp_path)
        )


def test_main_reports_a_bad_page_without_a_traceback(tmp_path, monkeypatch, capsys):
    (tmp_path / "bad.py").write_text("def f(:\n")
    cells = [
        _code(INSTALL),
        nbformat.v4.new_markdown_cell("```{literalinclude} bad.py\n:pyobject: f\n```"),
    ]
    monkeypatch.setattr(export, "ROOT", tmp_path)
    monkeypatch.setattr(export, "OUT_DIRS", (tmp_path / "out",))
    monkeypatch.setattr(export, "notebook_pages", lambda: ["page"])
    monkeypatch.setattr(export, "site_url", lambda: "")
    monkeypatch.setattr(export, "load_glue", lambda page, mime="text/plain": {})
    monkeypatch.setattr(
        export, "executed_page", lambda page: nbformat.v4.new_notebook(cells=cells)
    )
    assert export.main() == 1
    assert "page: cannot parse bad.py" in capsys.readouterr().err


def test_stale_notebooks_go_and_a_failing_page_writes_nothing(tmp_path, monkeypatch):
    own, sources = tmp_path / "notebooks", tmp_path / "sources"
    monkeypatch.setattr(export, "OUT_DIRS", (own, sources))
    for folder in (own, sources):
        (folder / "book").mkdir(parents=True)
        (folder / "book" / "renamed.ipynb").write_text("old")
        (folder / "book" / "page.ipynb").write_text("old")
    (sources / "book" / "api.md").write_text("kept")
    (own / "README").write_text("kept")

    def make(page):
        if page == "book/broken":
            raise export.ExportError(f"{page}: broken")
        return export.export_notebook(
            nbformat.v4.new_notebook(cells=[_code(INSTALL)]), _ctx(tmp_path)
        )

    with pytest.raises(export.ExportError):
        export.write_all(["book/page", "book/broken"], make)
    assert (own / "book" / "page.ipynb").read_text() == "old"  # nothing written
    export.write_all(["book/page"], make)
    assert sorted(p.name for p in (own / "book").iterdir()) == ["page.ipynb"]
    assert (own / "README").read_text() == "kept"
    assert sorted(p.name for p in (sources / "book").iterdir()) == [
        "api.md",
        "page.ipynb",
        "renamed.ipynb",
    ]
    assert (sources / "book" / "page.ipynb").read_text() != "old"


@pytest.mark.parametrize(
    "source",
    ["```{eval-rst}\n.. x::\n```", "{abbr}`CNN`", ":::\nbare colon fence\n:::"],
)
def test_unknown_myst_fails_loudly(tmp_path, source):
    with pytest.raises(export.ExportError, match="book/page"):
        export.transform_markdown(source, _ctx(tmp_path))


def test_cells_glue_dropped_install_kept_outputs_cleaned(tmp_path):
    glue = nbformat.v4.new_output(
        "display_data", data={"application/papermill.record/text/plain": "1"}
    )
    shown = nbformat.v4.new_output("stream", name="stdout", text="a\n")
    shown2 = nbformat.v4.new_output("stream", name="stdout", text="b\n")
    figure = nbformat.v4.new_output(
        "execute_result", data={"image/png": "iVBOR", "text/plain": "<Figure>"}
    )
    cells = [
        nbformat.v4.new_markdown_cell("# Title {glue:text}`n`"),
        _code(INSTALL, tags=["remove-cell"]),
        _code("print('a'); print('b')", outputs=[shown, shown2]),
        _code("from myst_nb import glue\nglue('n', 1)", ["remove-cell"], [glue]),
        _code("assert True", tags=["remove-input"], outputs=[shown]),
        _code("noisy()", tags=["remove-output"], outputs=[shown]),
        _code(
            "plot()",
            outputs=[figure],
            mystnb={"figure": {"caption": "A *plot*."}},
        ),
        _code("solution()", tags=["hide-cell"], outputs=[shown]),
    ]
    ctx = _ctx(tmp_path, {"n": "1"})
    notebook = export.export_notebook(nbformat.v4.new_notebook(cells=cells), ctx)
    sources = [cell.source for cell in notebook.cells]
    assert sources == [
        "# Title 1",
        INSTALL,
        "print('a'); print('b')",
        "assert True",
        "noisy()",
        "plot()",
        r"*A \*plot\*.*",
        "solution()",
    ]
    assert not any("myst_nb" in source for source in sources)
    outputs = [cell.get("outputs") for cell in notebook.cells]
    assert [o.text for o in outputs[2]] == ["a\nb\n"]  # streams merged
    assert [o.text for o in outputs[3]] == ["a\n"]  # the check's output kept
    assert outputs[4] == []
    assert outputs[5][0].data["image/png"] == "iVBOR"
    assert notebook.cells[3].metadata == {"jupyter": {"source_hidden": True}}
    assert notebook.metadata == {
        "kernelspec": export.KERNELSPEC,
        "language_info": {"name": "python"},
    }
    assert [cell.id for cell in notebook.cells][:2] == ["cell-000", "cell-001"]


def test_a_page_without_install_cell_or_with_myst_nb_code_fails(tmp_path):
    plain = nbformat.v4.new_notebook(cells=[_code("import cnnbook")])
    with pytest.raises(export.ExportError, match="install"):
        export.export_notebook(plain, _ctx(tmp_path))
    uses = nbformat.v4.new_notebook(
        cells=[_code(INSTALL), _code("import myst_nb\nmyst_nb.glue('x', 1)")]
    )
    with pytest.raises(export.ExportError, match="myst_nb"):
        export.export_notebook(uses, _ctx(tmp_path))


def test_two_exports_are_identical(tmp_path, monkeypatch):
    cells = [_code(INSTALL), nbformat.v4.new_markdown_cell("Text.")]
    monkeypatch.setattr(export, "OUT_DIRS", (tmp_path / "a", tmp_path / "b"))

    def make(page):
        return export.export_notebook(
            nbformat.v4.new_notebook(cells=cells), _ctx(tmp_path)
        )

    first = [p.read_bytes() for p in export.write_all(["book/page"], make)]
    second = [p.read_bytes() for p in export.write_all(["book/page"], make)]
    assert first == second and first[0] == first[1]


def test_pyobject_of_an_overloaded_function_is_its_implementation():
    source = (
        "from typing import overload\n\n\n"
        "@overload\ndef f(x: int) -> int: ...\n\n\n"
        "@overload\ndef f(x: str) -> str: ...\n\n\n"
        "def f(x):\n    return x\n"
    )
    assert export.python_object_source(source, "f") == "def f(x):\n    return x"


def test_an_install_cell_that_adds_an_extra_is_kept_whole(tmp_path):
    """The attribution chapter installs cnnbook with its Captum extra, and Captum alone
    where cnnbook is already there (Binder): the whole cell reaches the notebook."""
    install = (
        "import importlib.util\n\n"
        'if importlib.util.find_spec("cnnbook") is None:\n'
        '    %pip install --quiet "cnnbook[attribution] @ git+https://example.org/c"\n'
        'elif importlib.util.find_spec("captum") is None:\n'
        '    %pip install --quiet "captum>=0.7,<1"'
    )
    cells = [_code(install, tags=["remove-cell"]), _code("import captum")]
    notebook = export.export_notebook(
        nbformat.v4.new_notebook(cells=cells), _ctx(tmp_path)
    )
    assert [cell.source for cell in notebook.cells] == [install, "import captum"]


def test_the_attribution_chapter_installs_captum_for_readers():
    source = (ROOT / "book" / "what-drives-a-decision.md").read_text()
    first = source[source.index("```{code-cell}") :]
    first = first[: first.index("\n```\n")]
    assert export.INSTALL_MARK in first
    assert '%pip install --quiet "cnnbook[attribution] @ git+' in first
    assert 'elif importlib.util.find_spec("captum") is None:' in first
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (captum,) = project["optional-dependencies"]["attribution"]
    assert f'%pip install --quiet "{captum}"' in first  # the extra's own pin

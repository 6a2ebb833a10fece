"""bookbuild.sphinxext.page_speed: what each page leaves out, and how its figures load.

The built site is checked in a browser by checks/test_page_speed.py.
"""

import base64
import shutil
from pathlib import Path
from types import SimpleNamespace

import pydata_sphinx_theme
import pytest
from fontTools.ttLib import TTFont
from PIL import Image
from sphinx.builders.html._assets import _CascadingStyleSheet as _Css
from sphinx.builders.html._assets import _JavaScript
from sphinx.errors import ExtensionError

from bookbuild.sphinxext import page_speed

THEME_STATIC = (
    Path(pydata_sphinx_theme.__file__).parent
    / "theme"
    / "pydata_sphinx_theme"
    / "static"
)
HEAD = (
    '<!-- icons -->\n  <script defer src="../_static/scripts/fontawesome.js?digest=1">'
    "</script>\n"
    '  <link rel="preload" as="script" href="../_static/scripts/bootstrap.js" />'
)


def test_drop_scripts_removes_the_named_tag_only():
    kept = page_speed.drop_scripts(HEAD, "fontawesome.js")
    assert "fontawesome.js" not in kept and "bootstrap.js" in kept
    assert kept.startswith("<!-- icons -->")


@pytest.mark.parametrize("text", ["<p>no scripts</p>", HEAD + HEAD])
def test_drop_scripts_wants_exactly_one_tag(text):
    with pytest.raises(ExtensionError, match=r"found [02] scripts 'fontawesome.js'"):
        page_speed.drop_scripts(text, "fontawesome.js")


def _script(filename, **attributes):
    return _JavaScript(filename, **attributes)


#: Sphinx, as far as page_scripts looks: sphinx-togglebutton's default selector.
APP = SimpleNamespace(
    config=SimpleNamespace(togglebutton_selector=".toggle, .admonition.dropdown")
)


def test_scripts_are_deferred_but_those_inline_code_needs_at_once():
    scripts = [
        _script("_static/documentation_options.js?v=1"),
        _script("_static/doctools.js?v=2"),
        _script("_static/sphinx-thebe.js", **{"async": "async"}),
        _script(None, body="let x = 1;"),
        _script("_static/copybutton.js", defer="defer"),
    ]
    context = {"script_files": scripts, "body": '<span class="math">x</span>'}
    page_speed.page_scripts(APP, "book/x", "page.html", context, None)
    assert scripts[1].attributes == {}, "the shared entry must not change"
    assert [s.attributes for s in context["script_files"]] == [
        {},
        {"defer": "defer"},
        {"async": "async"},
        {"body": "let x = 1;"},
        {"defer": "defer"},
    ]


def test_the_search_page_keeps_its_scripts_as_they_are():
    scripts = [_script("_static/doctools.js")]
    context = {"script_files": scripts, "body": '<span class="math">x</span>'}
    page_speed.page_scripts(APP, "search", "search.html", context, None)
    assert scripts[0].attributes == {}


def test_togglebutton_stays_only_where_there_is_a_toggle():
    def kept(body):
        scripts = [
            _script("_static/doctools.js"),
            _script(None, body="let toggleHintShow = 'Click to show';"),
            _script("_static/togglebutton.js?v=1"),
            _script(None, body="var togglebuttonSelector = '.toggle';"),
            _script(None, body="let other = 1;"),
        ]
        css = [_Css("_static/togglebutton.css?v=2"), _Css("_static/pygments.css")]
        context = {"script_files": scripts, "css_files": css, "body": body}
        page_speed.page_scripts(APP, "book/x", "page.html", context, None)
        return len(context["script_files"]), len(context["css_files"])

    assert kept('<div class="admonition dropdown note">') == (5, 2)
    assert kept('<div class="x toggle">') == (5, 2)
    assert kept('<details class="sd-dropdown"><div class="admonition">') == (2, 1)
    assert kept('<div class="toggle-details dropdown">') == (2, 1)


def test_has_toggle_reads_class_selectors():
    assert page_speed.has_toggle('<p class="b a c">', ".x, .a.b")
    assert not page_speed.has_toggle('<p class="a">', ".x, .a.b")
    assert not page_speed.has_toggle('<p class="ab">', ".a")


THEME_SCRIPT = (
    'document.documentElement.dataset.mode = localStorage.getItem("mode") || "auto";\n'
    'document.documentElement.dataset.theme = localStorage.getItem("theme") || "auto";'
)


def test_the_first_script_sets_the_theme_the_mode_shows():
    out = page_speed.system_theme(f"<script>{THEME_SCRIPT}</script>")
    assert out.startswith("<script>document.documentElement.dataset.mode = ")
    assert (
        'dataset.theme = document.documentElement.dataset.mode == "auto" ? (matchMedia('
        '"(prefers-color-scheme: dark)").matches ? "dark" : "light") : '
        'localStorage.getItem("theme") || "auto";</script>'
    ) in out


@pytest.mark.parametrize("text", ["<script></script>", THEME_SCRIPT * 2])
def test_system_theme_wants_the_themes_script_once(text):
    with pytest.raises(ExtensionError, match=r"found [02] first theme scripts"):
        page_speed.system_theme(text)


CSS = (
    '.fa-bars:before,.fa-navicon:before{content:"\\f0c9"}'
    '.fa-github:before{content:"\\f09b"}'
    '.fa-rocket:before{content:"\\f135"}'
    ':root{--pst-icon-external-link:"\uf35d"}'
    '.dropdown:after{content:"\\f107"}'
)


def test_used_icons_are_those_pages_name_and_the_css_draws():
    html = (
        '<i class="theme-switch fa-solid fa-bars fa-lg"></i><i class="fab fa-github">'
    )
    assert page_speed.used_icons(html, CSS) == {0xF0C9, 0xF09B, 0xF35D, 0xF107}


def test_large_data_uris_move_beside_the_page(tmp_path):
    picture = base64.b64encode(b"\x00" * 6000).decode()
    small = base64.b64encode(b"\x01" * 30).decode()
    html = (
        f'<img src="data:image/webp;base64,{picture}">'
        f'{{"frames": ["data:image/webp;base64,{picture}"]}}'
        f'<img src="data:image/png;base64,{small}">'
    )
    page = tmp_path / "book" / "page.html"
    out = page_speed.pictures_beside(html, page, tmp_path / "_images")
    (written,) = (tmp_path / "_images").iterdir()
    assert written.read_bytes() == b"\x00" * 6000 and written.suffix == ".webp"
    url = f"../_images/{written.name}"
    assert out.startswith(f'<img src="{url}">{{"frames": ["{url}"]}}')
    assert out.endswith(f'<img src="data:image/png;base64,{small}">')


def test_images_load_lazily_with_their_size(tmp_path):
    for name, size in (("a.png", (40, 30)), ("b.jpg", (10, 20))):
        Image.new("RGB", size).save(tmp_path / name)
    html = (
        '<nav><img alt="logo" src="a.png"></nav><article>'
        '<img alt="second" src="b.jpg?v=1"><img alt="sized" width="5" src="b.jpg">'
        '<img loading="eager" src="a.png"><img alt="inline" src="data:,x"></article>'
    )
    out = page_speed.image_tags(html, tmp_path)
    lazy = 'loading="lazy" decoding="async"'
    assert f'<img width="40" height="30" {lazy} alt="logo"' in out
    assert f'<img width="10" height="20" {lazy} alt="second"' in out
    assert f'<img {lazy} alt="sized" width="5"' in out
    assert '<img width="40" height="30" loading="eager"' in out
    assert '<img alt="inline" src="data:,x">' in out


@pytest.fixture
def static(tmp_path):
    """A copy of the theme's icon fonts and its @font-face rules."""
    fonts = tmp_path / "vendor" / "fontawesome" / "webfonts"
    fonts.mkdir(parents=True)
    for stem in page_speed.FONTS:
        shutil.copy(
            THEME_STATIC / "vendor" / "fontawesome" / "webfonts" / f"{stem}.ttf", fonts
        )
    css = tmp_path / page_speed.THEME_CSS
    css.parent.mkdir()
    css.write_text(
        "".join(
            f"@font-face{{font-display:block;font-family:X;font-weight:{w};"
            f'src:url(../vendor/fontawesome/webfonts/{stem}.woff2) format("woff2"),'
            f'url(../vendor/fontawesome/webfonts/{stem}.ttf) format("truetype")}}'
            for stem, w in zip(page_speed.FONTS, (900, 400), strict=True)
        )
    )
    return tmp_path


def test_icon_fonts_hold_only_the_icons_used_and_the_css_points_at_them(static):
    page_speed.write_icon_fonts(static, {0xF0C9, 0xF09B})
    with TTFont(static / page_speed.ICONS_DIR / "fa-solid-900.woff") as solid:
        assert set(solid.getBestCmap()) == {0xF0C9}  # bars is solid, github a brand
    with TTFont(static / page_speed.ICONS_DIR / "fa-brands-400.woff") as brands:
        assert set(brands.getBestCmap()) == {0xF09B}
    css = (static / page_speed.THEME_CSS).read_text()
    assert css.count("font-display:swap") == 2 and "block" not in css
    assert 'src:url(../cnnbook-icons/fa-solid-900.woff) format("woff")}' in css
    assert ".woff2" not in css
    page_speed.write_icon_fonts(static, {0xF0C9, 0xF09B})  # a rebuild that kept the CSS
    assert (static / page_speed.THEME_CSS).read_text() == css


def test_icon_fonts_need_the_themes_rules(static):
    (static / page_speed.THEME_CSS).write_text("body{}")
    with pytest.raises(ExtensionError, match="0 @font-face rules for fa-solid-900"):
        page_speed.write_icon_fonts(static, {0xF0C9})

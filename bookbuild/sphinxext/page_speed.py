"""Sphinx extension: each page loads what it shows, so that it is fast on a phone.

``make lighthouse`` (``bookbuild/lighthouse.py``) measures the effect. Six changes:

1. **Icons without the icon kit.** The theme's ``fontawesome.js`` (1.5 MB) only turns
   the ``<i class="fa-...">`` icons into SVG; the theme's CSS and Font Awesome's fonts
   draw the same icons without it. The script is left out of every page, and the two
   fonts the site uses (270 KB) are replaced by subsets holding only its icons: those
   its pages name, and those the theme's CSS draws (admonitions, external links, ...).
   The theme's ``@font-face`` rules, in the built site's copy of its CSS, point at the
   subsets (WOFF) and swap in text while they load.
2. **The search index on the search page only.** The theme loads Sphinx's search tools
   and index on every page for a search-as-you-type box that is off
   (``search_as_you_type``); the search page loads its own.
3. **Scripts after the page, and toggles only where there are any.** Every script
   file in the head runs deferred, after the page is parsed and in the same order,
   except ``documentation_options.js``, which inline scripts use at once (and on the
   search page, whose search scripts use the others as they are parsed).
   sphinx-togglebutton's script, settings and stylesheet (which the theme adds to
   every page) are left out of pages with nothing for it to fold; the chapters'
   dropdowns are sphinx-design's, which fold without a script.
4. **Pictures beside the page.** An image embedded in a page as a data URI larger than
   :data:`INLINE_LIMIT` (the interactive figures' maps) is written to ``_images/`` and
   referenced by its URL, so that the page arrives without it and the browser fetches
   it when it is shown. The reader's notebooks keep them inline.
5. **Figures that wait until they are needed.** Every image loads lazily
   (``loading="lazy"``: the browser fetches it as it nears the screen; on a phone even
   a page's first figure lies below the first screen) and decodes off the main thread,
   and every image file gets its ``width`` and ``height`` in the tag, so that nothing
   shifts as the figures arrive.
6. **The theme that the mode shows, before the first style.** The theme's first
   script sets the mode and the theme; on a first visit (every visitor from a
   search result) the theme is "auto", for which the theme's stylesheet defines no
   colours, until the theme's script sets the system's theme: on a phone, a restyle
   of the whole page that held the main thread for hundreds of milliseconds. The
   first script now sets the theme the mode shows, the system's for "auto", and the
   theme's script finds nothing to change.

1's script, 2 and 6 are Jinja filters applied in ``templates/layout.html``, an
extension of the theme's layout; 3 changes each page's lists of scripts and
stylesheets; 1's fonts, 4 and 5 are written when the build has finished.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from pathlib import Path
from typing import Any

from fontTools import subset
from markupsafe import Markup
from PIL import Image
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError

TEMPLATES = Path(__file__).parent / "templates"
#: Where the subsets go, in ``_static``.
ICONS_DIR = "cnnbook-icons"
#: The theme's stylesheet that declares the icon fonts.
THEME_CSS = "styles/pydata-sphinx-theme.css"
#: The icon fonts the theme's CSS uses (the regular style is not).
FONTS = ("fa-solid-900", "fa-brands-400")
_CLASSES = re.compile(r'\bclass="([^"]*)"')
_ICON_RULE = re.compile(r'((?:\.fa-[a-z0-9-]+:before,?)+)\{content:"\\([0-9a-f]+)"\}')
_PRIVATE = re.compile("[\ue000-\uf8ff]|\\\\(f[0-9a-f]{3})")
_IMG = re.compile(r"<img\b[^>]*>")
#: Data URIs up to this many characters stay in the page.
INLINE_LIMIT = 4096
_DATA_URI = re.compile(
    rf"data:image/(png|webp|jpeg|gif);base64,([A-Za-z0-9+/=]{{{INLINE_LIMIT},}})"
)
#: Scripts that inline scripts use as they are parsed: not deferred.
NOT_DEFERRED = ("documentation_options.js",)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif")
#: sphinx-togglebutton's files and settings, which only pages with a toggle use.
TOGGLE_FILES = ("togglebutton.js", "togglebutton.css")
_TOGGLE_SETTINGS = re.compile(r"(let toggle|var togglebutton)\w+ = ")
#: The theme's first script: on a first visit it sets the theme "auto", which has no
#: colours in the theme's stylesheet, and the theme's script sets the system's later.
_FIRST_THEME = re.compile(
    r'(document\.documentElement\.dataset\.theme = )localStorage\.getItem\("theme"\)'
    r' \|\| "(\w+)";'
)
SYSTEM_THEME = (
    r'\g<1>document.documentElement.dataset.mode == "auto" ? (matchMedia('
    r'"(prefers-color-scheme: dark)").matches ? "dark" : "light") : '
    r'localStorage.getItem("theme") || "\g<2>";'
)


def drop_scripts(markup: str, *names: str) -> Markup:
    """``markup`` without the ``<script src=...>`` tags of the files ``names``.

    Raises ``ExtensionError`` when one is not there: the theme changed, and this
    filter needs a look.
    """
    text = str(markup)
    for name in names:
        tag = re.compile(
            r'\s*<script\b[^>]*\bsrc="[^"]*\b' + re.escape(name) + r'(\?[^"]*)?"[^>]*>'
            r"</script>"
        )
        text, count = tag.subn("", text)
        if count != 1:
            raise ExtensionError(f"page_speed: found {count} scripts {name!r}, not 1")
    return Markup(text)


def system_theme(markup: str) -> Markup:
    """``markup`` with the theme's first script setting the theme that the mode
    shows at once: in the mode "auto" the system's, light or dark.

    Without it, a first visit is styled twice: once unthemed and once when the
    theme's script sets the theme, a restyle of the whole page on the phone's
    main thread. Raises ``ExtensionError`` when the script is not the theme's.
    """
    text, count = _FIRST_THEME.subn(SYSTEM_THEME, str(markup))
    if count != 1:
        raise ExtensionError(f"page_speed: found {count} first theme scripts, not 1")
    return Markup(text)


def add_templates(app: Sphinx, config: Config) -> None:
    """Put this extension's ``layout.html`` before the theme's."""
    config.templates_path.insert(0, str(TEMPLATES))


def add_filters(app: Sphinx) -> None:
    """Give the templates :func:`drop_scripts` and :func:`system_theme`."""
    templates = getattr(app.builder, "templates", None)
    if templates is not None:
        templates.environment.filters["drop_scripts"] = drop_scripts
        templates.environment.filters["system_theme"] = system_theme


def has_toggle(body: str, selector: str) -> bool:
    """Whether a page's rendered ``body`` has an element that sphinx-togglebutton's
    ``selector`` (``togglebutton_selector``: class selectors, ``.a.b, .c``) picks."""
    wanted = [
        set(option.strip().lstrip(".").split("."))
        for option in selector.split(",")
        if option.strip()
    ]
    return any(
        classes.issuperset(option)
        for classes in map(set, map(str.split, _CLASSES.findall(body)))
        for option in wanted
    )


def page_scripts(
    app: Sphinx,
    pagename: str,
    templatename: str,
    context: dict[str, Any],
    doctree: object,
) -> None:
    """Leave sphinx-togglebutton out of a page without a toggle; mark each script
    file ``defer``, but those of :data:`NOT_DEFERRED` and those already ``async`` or
    ``defer``, and none on the search page, whose own scripts (in its body) need
    them at once."""
    if not has_toggle(context.get("body", ""), app.config.togglebutton_selector):
        context["script_files"] = [
            script
            for script in context.get("script_files", [])
            if not (script.filename or "").split("?")[0].endswith(TOGGLE_FILES)
            and not _TOGGLE_SETTINGS.match(str(script.attributes.get("body", "")))
        ]
        context["css_files"] = [
            css
            for css in context.get("css_files", [])
            if not (css.filename or "").split("?")[0].endswith(TOGGLE_FILES)
        ]
    if pagename == "search":
        return
    scripts = []
    for script in context.get("script_files", []):
        name = (script.filename or "").split("?")[0]
        if (
            name
            and not name.endswith(NOT_DEFERRED)
            and not {"async", "defer"} & set(script.attributes)
        ):
            # a new entry: the builder shares one script object among all pages
            attributes = {**script.attributes, "defer": "defer"}
            script = type(script)(
                script.filename, priority=script.priority, **attributes
            )
        scripts.append(script)
    context["script_files"] = scripts


def pictures_beside(html: str, page: Path, images: Path) -> str:
    """``html`` with each large data URI written to ``images`` (named by its
    content's hash) and replaced by its URL relative to ``page``."""

    def write(match: re.Match[str]) -> str:
        data = base64.b64decode(match.group(2))
        kind = "jpg" if match.group(1) == "jpeg" else match.group(1)
        target = images / f"{hashlib.sha256(data).hexdigest()[:32]}.{kind}"
        if not target.is_file():
            images.mkdir(exist_ok=True)
            target.write_bytes(data)
        return os.path.relpath(target, page.parent).replace(os.sep, "/")

    return _DATA_URI.sub(write, html)


def used_icons(html: str, css: str) -> set[int]:
    """The code points of the icons that ``html`` names and that ``css`` draws.

    ``css`` is the theme's: its ``.fa-NAME:before{content:"\\fXXX"}`` rules map the
    names, and every private-use character elsewhere in it (custom properties such as
    ``--pst-icon-external-link``, and ``content`` values) is an icon it may draw.
    """
    names = {
        name
        for classes in _CLASSES.findall(html)
        for name in re.findall(r"(?<![\w-])fa-([a-z0-9-]+)", classes)
    }
    points = set()
    for selectors, point in _ICON_RULE.findall(css):
        if names & set(re.findall(r"\.fa-([a-z0-9-]+):before", selectors)):
            points.add(int(point, 16))
    rest = _ICON_RULE.sub("", css)
    for match in _PRIVATE.finditer(rest):
        escaped = match.group(1)
        points.add(int(escaped, 16) if escaped else ord(match.group(0)))
    return points


def write_icon_fonts(static: Path, points: set[int]) -> None:
    """Subset the theme's icon fonts to ``points``, and point its CSS at them."""
    css_path = static / THEME_CSS
    css = css_path.read_text(encoding="utf-8")
    for stem in FONTS:
        source = static / "vendor" / "fontawesome" / "webfonts" / f"{stem}.ttf"
        if not source.is_file():
            raise ExtensionError(f"page_speed: {source} is missing")
        options = subset.Options()
        options.flavor = "woff"
        options.layout_features = []
        font = subset.load_font(str(source), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(points))
        subsetter.subset(font)
        target = static / ICONS_DIR / f"{stem}.woff"
        target.parent.mkdir(exist_ok=True)
        subset.save_font(font, str(target), options)
        font.close()
        rule = re.compile(
            # the theme's rule, or this one when Sphinx did not copy the CSS again
            r"@font-face\{font-display:(?:block|swap);([^}]*)src:url\([^)]*/"
            + stem
            + r"\.woff2?\)[^}]*\}"
        )
        url = f'url(../{ICONS_DIR}/{stem}.woff) format("woff")'
        css, count = rule.subn(
            r"@font-face{font-display:swap;\g<1>src:" + url + "}", css
        )
        if count != 1:
            raise ExtensionError(f"page_speed: {count} @font-face rules for {stem}")
    css_path.write_text(css, encoding="utf-8")


def image_tags(html: str, folder: Path) -> str:
    """``html`` with each image loaded lazily and decoded asynchronously, and each
    image file's size in its tag (``folder`` holds the page)."""

    def rewrite(match: re.Match[str]) -> str:
        tag = match.group(0)
        source = re.search(r'\bsrc="([^"]+)"', tag)
        if source is None or source.group(1).startswith(("data:", "http")):
            return tag
        extra = []
        path = (folder / source.group(1).split("?")[0]).resolve()
        if " width=" not in tag and path.suffix.lower() in IMAGE_SUFFIXES:
            with Image.open(path) as image:
                width, height = image.size
            extra.append(f'width="{width}" height="{height}"')
        if " loading=" not in tag:
            extra.append('loading="lazy" decoding="async"')
        if not extra:
            return tag
        return tag[:4] + " " + " ".join(extra) + tag[4:]

    return _IMG.sub(rewrite, html)


def finish(app: Sphinx, exception: Exception | None) -> None:
    """After an HTML build: the icon fonts, their CSS, and the images' tags."""
    if exception is not None or app.builder.name != "html":
        return
    out = Path(app.outdir)
    static = out / "_static"
    pages = sorted(out.rglob("*.html"))
    html = {page: page.read_text(encoding="utf-8") for page in pages}
    css = (static / THEME_CSS).read_text(encoding="utf-8")
    css += (static / "styles" / "sphinx-book-theme.css").read_text(encoding="utf-8")
    write_icon_fonts(static, used_icons("".join(html.values()), css))
    for page, text in html.items():
        rewritten = image_tags(
            pictures_beside(text, page, out / "_images"), page.parent
        )
        if rewritten != text:
            page.write_text(rewritten, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the template, its filters and the clean-up."""
    app.connect("config-inited", add_templates)
    app.connect("builder-inited", add_filters)
    app.connect("html-page-context", page_scripts, priority=950)
    app.connect("build-finished", finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

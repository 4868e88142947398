"""Plugin widget HTML laid out as Rich renderables, plain text or ANSI text.

Plugins describe dashboard widgets in HTML, styled with Tailwind/daisyUI classes. A
terminal cannot run a browser, so this renders the useful subset: headings, paragraphs,
lists, links, preformatted text, emphasis, tables and the daisyUI "stat" cards that
dashboards are made of. Everything else degrades to its text.

The HTML is untrusted. Every piece of text goes through `sanitize` before it reaches a
`rich.text.Text` (never a markup string), hrefs are shown as plain text (no OSC 8
hyperlinks) and no input, however malformed or deeply nested, raises or recurses without
bound: the tree is capped at `MAX_DEPTH` levels (`html_tree`) and boxes (tables, cards)
at `_MAX_BOXES`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.constrain import Constrain
from rich.measure import Measurement
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from goatui.core.sanitize import sanitize, sanitize_line
from goatui.core.widgets.html_tree import (
    BLOCK,
    CELLS,
    DROPPED,
    HEADINGS,
    TABLE_SECTIONS,
    Element,
    names,
    parse_html,
)

__all__ = ["html_to_ansi", "html_to_text", "render_html"]

# Nested tables/cards/grids: each costs Rich a dozen stack frames to render.
_MAX_BOXES = 6
# Lists and quotes nest by indentation; past this the text would have no room left.
_INDENT_CAP = 24
_MAX_COLUMNS = 64
_MAX_URL = 200
# Narrower than this a stat card wraps every word, so the grid drops a column instead.
_MIN_CARD_WIDTH = 18


_MARGIN = names("blockquote dl figure p pre table") | HEADINGS
_BULLETS = ("•", "◦", "▪")
# HTML's whitespace (not Python's: a non-breaking space must survive).
_WHITESPACE = re.compile(r"[ \t\n\r\f]+")
_GRID_COLS = re.compile(r"grid-cols-(\d{1,2})")

_NULL = Style.null()
_BOLD = Style(bold=True)
_DIM = Style(dim=True)
_ITALIC = Style(italic=True)
_UNDERLINE = Style(underline=True)
_STRIKE = Style(strike=True)
_CODE = Style(color="cyan")
_LINK = Style(underline=True)

_TAG_STYLES: dict[str, Style] = {
    "b": _BOLD,
    "strong": _BOLD,
    "i": _ITALIC,
    "em": _ITALIC,
    "cite": _ITALIC,
    "dfn": _ITALIC,
    "var": _ITALIC,
    "u": _UNDERLINE,
    "ins": _UNDERLINE,
    "s": _STRIKE,
    "strike": _STRIKE,
    "del": _STRIKE,
    "code": _CODE,
    "kbd": _CODE,
    "samp": _CODE,
    "tt": _CODE,
    "pre": _CODE,
    "mark": Style(reverse=True),
    "small": _DIM,
    "h1": Style(bold=True, underline=True),
    "h2": Style(bold=True, underline=True),
    "h3": _BOLD,
    "h4": _BOLD,
    "h5": Style(bold=True, dim=True),
    "h6": Style(bold=True, dim=True),
    "th": _BOLD,
    "dt": _BOLD,
    "summary": _BOLD,
    "legend": _BOLD,
    "blockquote": _ITALIC,
}

# The few Tailwind/daisyUI classes whose meaning survives in a terminal.
_CLASS_STYLES: dict[str, Style] = {
    "font-bold": _BOLD,
    "font-semibold": _BOLD,
    "font-extrabold": _BOLD,
    "font-black": _BOLD,
    "italic": _ITALIC,
    "underline": _UNDERLINE,
    "line-through": _STRIKE,
    "stat-title": _DIM,
    "stat-desc": _DIM,
    "stat-value": _BOLD,
    "card-title": _BOLD,
    "text-success": Style(color="green"),
    "text-error": Style(color="red"),
    "text-warning": Style(color="yellow"),
    "text-info": Style(color="cyan"),
}
_TEXT_COLOURS: dict[str, Style] = {
    **{name: Style(color="green") for name in ("green", "emerald", "lime")},
    **{name: Style(color="red") for name in ("red", "rose")},
    **{name: Style(color="yellow") for name in ("yellow", "amber", "orange")},
    **{name: Style(color="blue") for name in ("blue", "indigo")},
    **{name: Style(color="cyan") for name in ("sky", "cyan", "teal")},
    **{name: Style(color="magenta") for name in ("purple", "violet", "fuchsia", "pink")},
    **{name: _DIM for name in ("gray", "slate", "zinc", "neutral", "stone")},
}


def _class_style(classes: Iterable[str]) -> Style:
    style = _NULL
    for name in classes:
        found = _CLASS_STYLES.get(name)
        if found is None and name.startswith("text-"):
            # text-green-600 and the like; variants (md:, hover:) are ignored.
            found = _TEXT_COLOURS.get(name.split("-")[1])
        if found is not None:
            style += found
    return style


def _int_attr(value: str | None, default: int) -> int:
    """An integer attribute (start, value, colspan), or default when it is not one."""
    if value is None:
        return default
    value = value.strip()
    if len(value) > 9:  # also keeps int() far from its digit limit
        return default
    try:
        return int(value)
    except ValueError:
        return default


def _clean_url(raw: str) -> str:
    url = raw.strip(" \t\n\r\f")
    if len(url) > _MAX_URL:
        url = url[: _MAX_URL - 1] + "…"
    return sanitize_line(url)


# ---------------------------------------------------------------------------------------
# Layout.


def _indented(renderable: RenderableType, indent: int) -> RenderableType:
    return Padding(renderable, (0, 0, 0, indent), expand=False) if indent > 0 else renderable


def _trim_end(text: Text) -> None:
    """Drop trailing spaces and one trailing line break (a <br> that ends a block)."""
    plain = text.plain
    kept = plain.rstrip(" ")
    if kept.endswith("\n"):
        kept = kept[:-1].rstrip(" ")
    if len(kept) < len(plain):
        text.right_crop(len(plain) - len(kept))


def _is_card(classes: Sequence[str]) -> bool:
    return "stat" in classes or "card" in classes


def _is_grid(classes: Sequence[str]) -> bool:
    return "grid" in classes or "stats" in classes


def _grid_columns(classes: Sequence[str]) -> int:
    """Columns the HTML asks for (the widest breakpoint), 0 when it does not say."""
    if "stats-vertical" in classes:
        return 1
    columns = 0
    for name in classes:
        match = _GRID_COLS.fullmatch(name.rsplit(":", 1)[-1])
        if match:
            columns = max(columns, int(match.group(1)))
    return min(columns, 12)


class _CardGrid:
    """A row of cards that wraps: as many columns as the width allows, up to the asked."""

    def __init__(self, cells: list[tuple[RenderableType, bool]], columns: int) -> None:
        self._cells = cells  # (content, is a card to frame in a Panel)
        self._columns = max(1, min(columns, len(cells)))

    def _columns_for(self, width: int) -> int:
        columns = self._columns
        while columns > 1 and (width - (columns - 1)) // columns < _MIN_CARD_WIDTH:
            columns -= 1
        # Balance the rows: four cards that cannot share a row make 2 + 2, not 3 + 1.
        rows = -(-len(self._cells) // columns)
        return -(-len(self._cells) // rows)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        columns = self._columns_for(width)
        usable = max(columns, width - (columns - 1))  # one space between cards
        widths = [usable // columns + (i < usable % columns) for i in range(columns)]
        for start in range(0, len(self._cells), columns):
            row = list(zip(self._cells[start : start + columns], widths, strict=False))
            # Cards in a row share a height, so their borders line up.
            height = max(
                len(
                    console.render_lines(
                        self._frame(cell, None), options.update(width=w, height=None)
                    )
                )
                for cell, w in row
            )
            rendered = [
                Segment.set_shape(
                    console.render_lines(
                        self._frame(cell, height), options.update(width=w, height=None)
                    ),
                    w,
                    height,
                )
                for cell, w in row
            ]
            for y in range(height):
                for x, lines in enumerate(rendered):
                    if x:
                        yield Segment(" ")
                    yield from lines[y]
                yield Segment.line()

    @staticmethod
    def _frame(cell: tuple[RenderableType, bool], height: int | None) -> RenderableType:
        content, card = cell
        if not card:
            return content
        return Panel(content, box=box.ROUNDED, expand=True, padding=(0, 1), height=height)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(_MIN_CARD_WIDTH, options.max_width), options.max_width)


class _ListState:
    __slots__ = ("next", "ordered")

    def __init__(self, ordered: bool, start: int) -> None:
        self.ordered = ordered
        self.next = start


class _Renderer:
    """Walks the tree into a list of blocks, collecting inline content into paragraphs."""

    def __init__(self, boxes: int, indent_cap: int) -> None:
        self._boxes = boxes
        self._indent_cap = indent_cap
        self._blocks: list[RenderableType] = []
        self._line = Text()
        # At the start of a line or after a space, a leading space is collapsed away.
        self._line_start = True
        self._space_end = False  # the line ends in a collapsed space (a <br> drops it)
        # The text of each open link, to tell whether it already shows its URL.
        self._link_texts: list[list[str]] = []
        self._indent = 0
        self._gap = False
        self._marker: Text | None = None  # a list item's bullet, waiting for its first line
        self._marker_indent = 0
        self._lists: list[_ListState] = []

    def render(self, nodes: Sequence[Element | str], style: Style) -> RenderableType:
        self._children(nodes, style, pre=False)
        self._flush()
        self._flush_marker()
        if not self._blocks:
            return Text()
        if len(self._blocks) == 1:
            return self._blocks[0]
        return Group(*self._blocks)

    def _sub_render(self, nodes: Sequence[Element | str], style: Style) -> RenderableType:
        return _Renderer(self._boxes - 1, self._indent_cap).render(nodes, style)

    # Blocks -------------------------------------------------------------------------

    def _emit(self, renderable: RenderableType) -> None:
        if self._gap and self._blocks:
            self._blocks.append(Text())
        self._gap = False
        marker = self._marker
        if marker is not None and isinstance(renderable, Text):
            # Bullet and text side by side, so wrapped lines hang under the text.
            self._marker = None
            grid = Table.grid(padding=0)
            grid.add_column(no_wrap=True, width=marker.cell_len)
            grid.add_column()
            grid.add_row(marker, renderable)
            self._blocks.append(_indented(grid, self._marker_indent))
            return
        self._flush_marker()
        self._blocks.append(_indented(renderable, self._indent))

    def _flush_marker(self) -> None:
        if self._marker is not None:
            self._blocks.append(_indented(self._marker, self._marker_indent))
            self._marker = None

    def _flush(self) -> None:
        line = self._line
        self._line = Text()
        self._line_start = True
        self._space_end = False
        _trim_end(line)
        if len(line):
            self._emit(line)

    def _block(self, renderable: RenderableType | None) -> None:
        self._flush()
        if renderable is not None:
            self._gap = True
            self._emit(renderable)
            self._gap = True

    # Inline ---------------------------------------------------------------------------

    def _text(self, data: str, style: Style, pre: bool) -> None:
        if pre:
            text = sanitize(data)
            self._line_start = self._space_end = False
        else:
            text = _WHITESPACE.sub(" ", data)
            if self._line_start and text.startswith(" "):
                text = text[1:]
            if not text:
                return
            text = sanitize(text)
            self._line_start = self._space_end = text.endswith(" ")
        self._line.append(text, style)
        if self._link_texts:
            self._link_texts[-1].append(text)

    def _break(self) -> None:
        if self._space_end:  # browsers drop the space before a line break
            self._line.right_crop(1)
        self._line.append("\n")
        self._line_start = True
        self._space_end = False

    # Elements -------------------------------------------------------------------------

    def _children(self, nodes: Sequence[Element | str], style: Style, pre: bool) -> None:
        for node in nodes:
            if isinstance(node, str):
                self._text(node, style, pre)
            else:
                self._element(node, style, pre)

    def _element(self, element: Element, style: Style, pre: bool) -> None:
        tag = element.tag
        if tag in DROPPED or "hidden" in element.attrs:
            return
        if tag == "br":
            self._break()
            return
        if tag == "hr":
            self._block(Rule(style=_DIM))
            return
        if tag == "img":
            alt = element.attrs.get("alt", "")
            if alt.strip():
                self._text(f"[{alt}]", style + _DIM, pre=False)
            return
        classes = element.classes
        inner = style + _TAG_STYLES.get(tag, _NULL) + _class_style(classes)
        if self._boxes > 0 and not pre:
            if tag == "table":
                self._block(self._table(element, inner))
                return
            if _is_grid(classes):
                self._block(self._grid(element, inner, classes))
                return
            if _is_card(classes):
                self._block(self._card(element, inner, expand=False))
                return
        if tag == "pre":
            self._pre(element, inner)
        elif tag in ("ul", "ol", "menu", "dir"):
            self._list(element, inner, ordered=tag == "ol")
        elif tag == "li":
            self._item(element, inner, pre)
        elif tag == "a":
            self._link(element, inner, pre)
        elif tag in CELLS:  # a table past the box limit: cells in a line
            self._children(element.children, inner, pre)
            self._text(" ", inner, pre=False)
        elif tag in BLOCK:
            self._flush()
            margin = tag in _MARGIN
            self._gap = self._gap or margin
            outer = self._indent
            if tag in ("blockquote", "dd"):
                self._indent = min(outer + 2, self._indent_cap)
            self._children(element.children, inner, pre)
            self._flush()
            self._indent = outer
            self._gap = self._gap or margin
        else:  # inline, or unknown: its text, in its style
            self._children(element.children, inner, pre)

    def _pre(self, element: Element, style: Style) -> None:
        self._flush()
        self._gap = True
        nodes = list(element.children)
        first = nodes[0] if nodes else None
        if isinstance(first, str) and first.startswith("\n"):
            nodes[0] = first[1:]  # HTML ignores a newline right after <pre>
        self._children(nodes, style, pre=True)
        # Long lines wrap rather than crop: nothing the plugin said is lost.
        self._line.overflow = "fold"
        self._flush()
        self._gap = True

    def _list(self, element: Element, style: Style, ordered: bool) -> None:
        self._flush()
        top = not self._lists
        self._gap = self._gap or top
        start = _int_attr(element.attrs.get("start"), 1) if ordered else 1
        self._lists.append(_ListState(ordered, start))
        self._children(element.children, style, pre=False)
        self._flush()
        self._lists.pop()
        self._gap = self._gap or top

    def _item(self, element: Element, style: Style, pre: bool) -> None:
        self._flush()
        self._flush_marker()  # an outer item with no text before this one keeps its bullet
        state = self._lists[-1] if self._lists else None
        if state is not None and state.ordered:
            number = _int_attr(element.attrs.get("value"), state.next)
            state.next = number + 1
            label = f"{number}."
        else:
            label = _BULLETS[(max(1, len(self._lists)) - 1) % len(_BULLETS)]
        self._marker = Text(label + " ")
        outer = self._indent
        self._marker_indent = outer
        self._indent = min(outer + self._marker.cell_len, self._indent_cap)
        self._children(element.children, style, pre)
        self._flush()
        self._flush_marker()
        self._indent = outer

    def _link(self, element: Element, style: Style, pre: bool) -> None:
        self._link_texts.append([])
        self._children(element.children, style + _LINK, pre)
        pieces = self._link_texts.pop()
        if self._link_texts:
            self._link_texts[-1].extend(pieces)
        href = _clean_url(element.attrs.get("href", ""))
        if not href or href.startswith("#"):  # an anchor on this page: nothing to show
            return
        if "".join(pieces).strip() != href:  # an autolink already shows its URL
            self._text(f" ({href})", style + _DIM, pre=False)

    def _table(self, element: Element, style: Style) -> RenderableType | None:
        rows: list[tuple[bool, list[Element]]] = []
        extras: list[Element | str] = []
        captions: list[Element] = []
        self._collect_rows(element, False, rows, extras, captions)
        head = [cells for is_head, cells in rows if is_head]
        body = [cells for is_head, cells in rows if not is_head]
        if not head and body and body[0] and all(cell.tag == "th" for cell in body[0]):
            head.append(body.pop(0))
        columns = min(_MAX_COLUMNS, max((_span(row) for row in head + body), default=0))

        pieces: list[RenderableType] = []
        # What browsers move out of a table (stray text, a caption) goes above it.
        for caption in captions:
            pieces.append(self._sub_render(caption.children, style + _ITALIC))
        if extras:
            pieces.append(self._sub_render(extras, style))
        if columns:
            table = Table(box=box.ROUNDED, show_header=bool(head), header_style=_BOLD)
            headers = self._cells(head[0], columns, style) if head else [Text()] * columns
            for header in headers:
                table.add_column(header=header)
            for row in head[1:]:
                table.add_row(*self._cells(row, columns, style), style=_BOLD)
            for row in body:
                table.add_row(*self._cells(row, columns, style))
            pieces.append(table)
        if not pieces:
            return None
        return pieces[0] if len(pieces) == 1 else Group(*pieces)

    def _collect_rows(
        self,
        node: Element,
        head: bool,
        rows: list[tuple[bool, list[Element]]],
        extras: list[Element | str],
        captions: list[Element],
    ) -> None:
        loose: list[Element] = []  # cells with no <tr>: an implied row
        for child in node.children:
            if isinstance(child, str):
                if child.strip(" \t\n\r\f"):
                    extras.append(child)
                continue
            tag = child.tag
            if tag in CELLS:
                loose.append(child)
                continue
            if loose:
                rows.append((head, loose))
                loose = []
            if tag == "tr":
                cells: list[Element] = []
                for item in child.children:
                    if isinstance(item, Element) and item.tag in CELLS:
                        cells.append(item)
                    elif isinstance(item, Element) or item.strip(" \t\n\r\f"):
                        extras.append(item)
                if cells:  # an empty <tr> shows nothing in a browser either
                    rows.append((head, cells))
            elif tag in TABLE_SECTIONS:
                self._collect_rows(child, tag == "thead", rows, extras, captions)
            elif tag == "caption":
                captions.append(child)
            elif tag not in ("colgroup", "col") and tag not in DROPPED:
                extras.append(child)
        if loose:
            rows.append((head, loose))

    def _cells(self, row: list[Element], columns: int, style: Style) -> list[RenderableType]:
        cells: list[RenderableType] = []
        for cell in row:
            if len(cells) >= columns:
                break
            cell_style = style + _TAG_STYLES.get(cell.tag, _NULL) + _class_style(cell.classes)
            cells.append(self._sub_render(cell.children, cell_style))
            cells.extend(Text() for _ in range(_colspan(cell) - 1))
        del cells[columns:]
        cells.extend(Text() for _ in range(columns - len(cells)))
        return cells

    def _card(self, element: Element, style: Style, expand: bool) -> RenderableType:
        content = self._sub_render(element.children, style)
        return Panel(content, box=box.ROUNDED, expand=expand, padding=(0, 1))

    def _grid(
        self, element: Element, style: Style, classes: Sequence[str]
    ) -> RenderableType | None:
        cells: list[tuple[RenderableType, bool]] = []
        for child in element.children:
            if isinstance(child, str):
                if child.strip(" \t\n\r\f"):
                    cells.append((self._sub_render([child], style), False))
                continue
            if child.tag in DROPPED or "hidden" in child.attrs:
                continue
            card = _is_card(child.classes) and self._boxes > 1
            if card:
                child_style = style + _TAG_STYLES.get(child.tag, _NULL)
                child_style += _class_style(child.classes)
                # The grid frames the card itself, to give a row one height.
                sub = _Renderer(self._boxes - 1, self._indent_cap)
                cells.append((sub._sub_render(child.children, child_style), True))
            else:
                cells.append((self._sub_render([child], style), False))
        if not cells:
            return None
        return _CardGrid(cells, _grid_columns(classes) or len(cells))


def _colspan(cell: Element) -> int:
    return max(1, min(_int_attr(cell.attrs.get("colspan"), 1), _MAX_COLUMNS))


def _span(row: list[Element]) -> int:
    return sum(_colspan(cell) for cell in row)


# ---------------------------------------------------------------------------------------
# Public API.


def render_html(html: str, width: int | None = None) -> RenderableType:
    """A Rich renderable of widget HTML; with width, it never renders wider than that."""
    indent_cap = _INDENT_CAP if width is None else max(0, min(_INDENT_CAP, width // 2))
    renderable: RenderableType
    try:
        renderable = _Renderer(_MAX_BOXES, indent_cap).render(parse_html(html).children, _NULL)
    except Exception:  # a renderer bug costs the widget its layout, never the console
        renderable = _fallback(html)
    if width is not None:
        return Constrain(renderable, max(1, width))
    return renderable


def _fallback(html: str) -> RenderableType:
    """The HTML as plain, escaped text: what is shown if rendering fails."""
    return Text(sanitize(html))


def _print(console: Console, html: str, width: int) -> str:
    try:
        console.print(render_html(html, width))
    except Exception:  # as in render_html: Rich failing on a layout must not raise
        file = console.file
        assert isinstance(file, io.StringIO)
        file.seek(0)
        file.truncate()
        console.print(_fallback(html))
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


def html_to_text(html: str, width: int = 80) -> str:
    """Widget HTML as plain text laid out to width: no colours, no escape sequences."""
    width = max(1, width)
    console = Console(
        file=io.StringIO(),
        width=width,
        no_color=True,
        color_system=None,
        force_terminal=False,
        force_jupyter=False,
        force_interactive=False,
        legacy_windows=False,
        markup=False,
        emoji=False,
        highlight=False,
    )
    lines = [line.rstrip(" ") for line in _print(console, html, width).split("\n")]
    return "\n".join(lines).strip("\n")


def html_to_ansi(html: str, width: int = 80) -> str:
    """Widget HTML laid out to width with ANSI styles (SGR only) for a terminal."""
    width = max(1, width)
    console = Console(
        file=io.StringIO(),
        width=width,
        color_system="standard",
        force_terminal=True,
        force_jupyter=False,
        force_interactive=False,
        legacy_windows=False,
        markup=False,
        emoji=False,
        highlight=False,
    )
    return _print(console, html, width).rstrip("\n")

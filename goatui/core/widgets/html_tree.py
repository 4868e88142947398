"""Untrusted widget HTML parsed into a small, tolerant tree, as a browser would read it.

What HTML closes implicitly (p, li, td, tr…) is closed; markup that never ends becomes
text; the tree is at most `MAX_DEPTH` deep (deeper elements are flattened into their
text), and parsing is linear in the input whatever it holds. `html_render` lays the
tree out; nothing here knows about terminals.
"""

from __future__ import annotations

from html import unescape
from html.parser import HTMLParser

# Elements deeper than this are flattened into their deepest kept ancestor: their text
# survives, their structure does not. Keeps the renderer's recursion bounded.
MAX_DEPTH = 48
# Times parsing resumes after markup that never closes (see TreeBuilder.parse).
_MAX_RESUMES = 16


def names(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


VOID = names("area base br col embed hr img input keygen link meta param source track wbr")
# Never shown: code, styling, document metadata, and SVG (icons and chart internals).
DROPPED = names("script style template head title iframe svg")
HEADINGS = frozenset(f"h{n}" for n in range(1, 7))
# Start tags that end an open <p> (the HTML parsing spec's list, give or take).
_CLOSES_P = HEADINGS | names(
    "address article aside blockquote center dd details dialog dir div dl dt fieldset "
    "figcaption figure footer form header hgroup hr li main menu nav ol p pre section "
    "summary table ul"
)
BLOCK = _CLOSES_P | names("body caption html legend option tbody tfoot thead tr")
# Blocks set apart by a blank line, like a browser's default margins.
TABLE_SECTIONS = names("thead tbody tfoot")
CELLS = names("td th")
_P = names("p")
_P_SCOPE = names("table td th caption button")
# A start tag that ends an open element of the same kind: tag -> (kinds, unless past one of).
_IMPLIED_ENDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "li": (names("li"), names("ul ol menu dir table")),
    "dt": (names("dt dd"), names("dl table")),
    "dd": (names("dt dd"), names("dl table")),
    "td": (CELLS, names("tr table")),
    "th": (CELLS, names("tr table")),
    "tr": (names("tr"), names("table thead tbody tfoot")),
    **{section: (TABLE_SECTIONS, names("table")) for section in TABLE_SECTIONS},
}


class Element:
    __slots__ = ("attrs", "children", "tag")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[Element | str] = []

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()


class TreeBuilder(HTMLParser):
    """Builds an `Element` tree, closing what HTML closes implicitly (p, li, td, tr)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self._stack: list[Element] = [self.root]
        # Tags opened beyond MAX_DEPTH: not in the tree, tracked only to match their ends.
        self._overflow: list[str] = []
        self._overflow_dropped = 0

    def _add(self, node: Element | str) -> None:
        if self._overflow_dropped:
            return
        self._stack[-1].children.append(node)

    def _close_open(self, names: frozenset[str], boundary: frozenset[str]) -> None:
        for index in range(len(self._stack) - 1, 0, -1):
            tag = self._stack[index].tag
            if tag in names:
                del self._stack[index:]
                return
            if tag in boundary:
                return

    def _close_implied(self, tag: str) -> None:
        if tag in _CLOSES_P:
            self._close_open(_P, _P_SCOPE)
        implied = _IMPLIED_ENDS.get(tag)
        if implied is not None:
            self._close_open(*implied)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes: dict[str, str] = {}
        for name, value in attrs:
            attributes.setdefault(name, value or "")  # HTML: the first of duplicates wins
        element = Element(tag, attributes)
        if tag in VOID:
            self._add(element)
            return
        if self._overflow or len(self._stack) > MAX_DEPTH:
            self._overflow.append(tag)
            if tag in DROPPED:
                self._overflow_dropped += 1
            elif tag in BLOCK:
                self._add(" ")  # keep the words of flattened blocks apart
            return
        self._close_implied(tag)
        self._stack[-1].children.append(element)
        self._stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            if tag == "br":  # browsers read </br> as <br>
                self._add(Element("br", {}))
            return
        overflow = self._overflow
        # Only the last few: a stray end tag must not make this quadratic.
        for index in range(len(overflow) - 1, max(-1, len(overflow) - 33), -1):
            if overflow[index] == tag:
                self._overflow_dropped -= sum(1 for t in overflow[index:] if t in DROPPED)
                del overflow[index:]
                if tag in BLOCK:
                    self._add(" ")
                return
        for index in range(len(self._stack) - 1, 0, -1):
            if self._stack[index].tag == tag:
                del self._stack[index:]
                overflow.clear()
                self._overflow_dropped = 0
                return
        # An end tag with nothing open to close: ignored, as browsers do.

    def handle_data(self, data: str) -> None:
        if data:
            self._add(data)

    def parse(self, text: str) -> None:
        """feed() and close(), without the stdlib's quadratic handling of unclosed markup.

        feed() stops at the first construct that never ends ("<a x='..." with no closing
        quote, "<!--" with no "-->"); close() would then retry every later "<" against the
        whole rest, O(n) each. Here the unclosed construct becomes text, as close() would
        make it, and parsing resumes after it a bounded number of times; past that the
        rest is text. Linear, and ordinary stray "<"s still parse the markup after them.
        """
        self.feed(text)
        for _ in range(_MAX_RESUMES):
            rest = self.rawdata
            if not rest or self.cdata_elem:  # an unclosed <script> swallows the rest
                break
            self.rawdata = ""
            end = rest.find(">", 1) + 1 or rest.find("<", 1)
            if end <= 0:
                end = len(rest)
            self.handle_data(unescape(rest[:end]))
            self.feed(rest[end:])
        if self.rawdata and not self.cdata_elem:
            self.handle_data(unescape(self.rawdata))
        self.rawdata = ""
        self.close()

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        # The stdlib raises AssertionError on an unknown "<![keyword["; a browser reads
        # it as a bogus comment.
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            return self.parse_bogus_comment(i, report)


def parse_html(html: str) -> Element:
    builder = TreeBuilder()
    builder.parse(html.replace("\r\n", "\n").replace("\r", "\n"))
    return builder.root

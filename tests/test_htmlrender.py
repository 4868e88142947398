"""The widget HTML renderer: layout of real widget HTML, and safety on hostile input."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from goatui.core.sanitize import UNSAFE_CODEPOINTS
from goatui.core.widgets import html_render as htmlrender
from goatui.core.widgets.html_render import html_to_ansi, html_to_text, render_html

# The tutorial's widget: four daisyUI stat cards in a Tailwind grid.
STAT_GRID = """
<div class="grid grid-cols-4 gap-4">
  <div class="stat bg-base-200 rounded-lg p-4">
    <div class="stat-title">Today's Tickets</div>
    <div class="stat-value">42</div>
    <div class="stat-desc">+5 from yesterday</div>
  </div>
  <div class="stat bg-base-200 rounded-lg p-4">
    <div class="stat-title">Avg Resolution</div>
    <div class="stat-value">18.5h</div>
    <div class="stat-desc">Target: 24h</div>
  </div>
  <div class="stat bg-base-200 rounded-lg p-4">
    <div class="stat-title">Open Tickets</div>
    <div class="stat-value">127</div>
    <div class="stat-desc">Across all queues</div>
  </div>
  <div class="stat bg-base-200 rounded-lg p-4">
    <div class="stat-title">SLA Compliance</div>
    <div class="stat-value">94%</div>
    <div class="stat-desc">Last 7 days</div>
  </div>
</div>
"""
TITLES = ["Today's Tickets", "Avg Resolution", "Open Tickets", "SLA Compliance"]
VALUES = ["42", "18.5h", "127", "94%"]

QUEUE_TABLE = """
<table class="table table-zebra">
  <thead><tr><th>Queue</th><th>Open</th><th>Oldest</th></tr></thead>
  <tbody>
    <tr><td>Support</td><td>12</td><td>3d</td></tr>
    <tr><td>Billing</td><td>4</td><td>5h</td></tr>
  </tbody>
</table>
"""

SGR = re.compile(r"\x1b\[[0-9;]*m")
REAL_FALLBACK = htmlrender._fallback


@pytest.fixture(autouse=True, scope="module")
def _no_fallback() -> Iterator[None]:
    """Fail loudly instead of showing raw text: the fallback hides renderer bugs."""

    def fail(html: str) -> None:
        raise AssertionError("htmlrender fell back to plain text")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(htmlrender, "_fallback", fail)
        yield


def line_with(text: str, needle: str) -> str:
    return next(line for line in text.splitlines() if needle in line)


def assert_fits(text: str, width: int) -> None:
    assert max((cell_len(line) for line in text.splitlines()), default=0) <= width


def assert_safe_text(text: str) -> None:
    assert not [ch for ch in text if ord(ch) in UNSAFE_CODEPOINTS]


def assert_safe_ansi(text: str) -> None:
    rest = SGR.sub("", text)
    assert "\x1b" not in rest
    assert not [ch for ch in rest if ord(ch) in UNSAFE_CODEPOINTS]


# --- stat cards -----------------------------------------------------------------------


def test_stat_grid_wide_puts_the_cards_in_one_row() -> None:
    text = html_to_text(STAT_GRID, width=100)
    for piece in [*TITLES, *VALUES, "+5 from yesterday", "Target: 24h", "Last 7 days"]:
        assert piece in text
    row = line_with(text, "Today's Tickets")
    assert all(title in row for title in TITLES)
    assert "╭" in text  # framed as cards
    assert_fits(text, 100)


def test_stat_grid_at_80_still_one_row() -> None:
    text = html_to_text(STAT_GRID, width=80)
    assert all(title in line_with(text, "Today's Tickets") for title in TITLES)
    assert_fits(text, 80)


def test_stat_grid_narrow_wraps_into_balanced_rows() -> None:
    text = html_to_text(STAT_GRID, width=40)
    for piece in [*TITLES, *VALUES]:
        assert piece in text
    first = line_with(text, "Today's Tickets")
    assert "Avg Resolution" in first and "Open Tickets" not in first  # 2 + 2
    assert "SLA Compliance" in line_with(text, "Open Tickets")
    assert_fits(text, 40)


def test_stat_grid_very_narrow_is_one_column() -> None:
    text = html_to_text(STAT_GRID, width=24)
    assert all(sum(title in line for title in TITLES) <= 1 for line in text.splitlines())
    assert_fits(text, 24)


def test_stat_card_styles_in_ansi() -> None:
    ansi = html_to_ansi(STAT_GRID, width=100)
    assert "\x1b[1m42" in ansi  # the value stands out
    assert "\x1b[2mToday's Tickets" in ansi  # the title is muted


def test_daisyui_stats_container_is_a_row() -> None:
    html = (
        '<div class="stats shadow">'
        '<div class="stat"><div class="stat-title">Up</div><div class="stat-value">3</div></div>'
        '<div class="stat"><div class="stat-title">Down</div><div class="stat-value">1</div></div>'
        "</div>"
    )
    text = html_to_text(html, width=80)
    assert "Down" in line_with(text, "Up")


def test_render_html_width_constrains_the_layout() -> None:
    file = io.StringIO()
    Console(file=file, width=120, color_system=None).print(render_html(STAT_GRID, width=40))
    output = file.getvalue()
    assert all(title in output for title in TITLES)
    assert_fits("\n".join(line.rstrip() for line in output.splitlines()), 40)


# --- tables, lists, links, pre ----------------------------------------------------------


def test_table_has_headers_cells_and_borders() -> None:
    text = html_to_text(QUEUE_TABLE, width=80)
    for piece in ["Queue", "Open", "Oldest", "Support", "Billing", "12", "5h"]:
        assert piece in text
    assert "│" in text and "─" in text
    assert text.index("Queue") < text.index("Support") < text.index("Billing")
    assert "Open" in line_with(text, "Queue")  # headers share a row
    assert "12" in line_with(text, "Support")


def test_table_header_is_bold_and_unclosed_cells_still_form_rows() -> None:
    html = "<table><tr><th>Name<th>State<tr><td>alpha<td>up<tr><td>beta<td>down</table>"
    text = html_to_text(html)
    assert "State" in line_with(text, "Name")
    assert "up" in line_with(text, "alpha")
    assert "down" in line_with(text, "beta")
    assert "\x1b[1m" in html_to_ansi(html)


def test_table_colspan_and_caption() -> None:
    html = (
        "<table><caption>Totals</caption><tr><th>a</th><th>b</th></tr>"
        '<tr><td colspan="2">both</td></tr></table>'
    )
    text = html_to_text(html)
    assert text.index("Totals") < text.index("both")


def test_nested_lists_indent_and_number() -> None:
    html = """
    <ul>
      <li>Queues
        <ul><li>Support</li><li>Billing</li></ul>
      </li>
      <li>Agents</li>
    </ul>
    <ol start="3"><li>third</li><li>fourth</li></ol>
    """
    text = html_to_text(html)
    outer = line_with(text, "Queues")
    inner = line_with(text, "Support")
    assert outer.lstrip().startswith("•")
    assert len(inner) - len(inner.lstrip()) > len(outer) - len(outer.lstrip())
    assert line_with(text, "Agents").startswith("•")
    assert "3. third" in text and "4. fourth" in text


def test_list_item_wraps_under_its_text() -> None:
    text = html_to_text("<ul><li>" + "word " * 30 + "</li></ul>", width=40)
    lines = text.splitlines()
    assert lines[0].startswith("• ")
    assert all(line.startswith("  word") for line in lines[1:])


def test_links_show_their_url() -> None:
    html = (
        '<p>See <a href="https://goatflow.example/tickets?q=open">open tickets</a>, '
        '<a href="https://x.example">https://x.example</a> and <a href="#top">top</a>.</p>'
    )
    text = html_to_text(html, width=120)
    assert "open tickets (https://goatflow.example/tickets?q=open)" in text
    assert text.count("https://x.example") == 1  # an autolink is not repeated
    assert "#top" not in text


def test_link_is_never_a_terminal_hyperlink() -> None:
    html = '<a href="https://evil.example/\x1b]8;;x\x07">click</a>'
    ansi = html_to_ansi(html)
    assert "\x1b]8" not in ansi
    assert_safe_ansi(ansi)
    assert "(https://evil.example/\\x1b]8;;x\\x07)" in html_to_text(html)


def test_pre_keeps_whitespace() -> None:
    html = "<pre>\nqueue    open\n  support   12\n</pre><p>after</p>"
    text = html_to_text(html)
    assert "queue    open" in text
    assert "  support   12" in text.splitlines()
    assert text.splitlines()[0] == "queue    open"  # the newline after <pre> is not content


def test_inline_styles_in_ansi() -> None:
    ansi = html_to_ansi("<p><b>bold</b> <i>it</i> <u>under</u> <code>x</code></p>")
    assert "\x1b[1mbold" in ansi
    assert "\x1b[3mit" in ansi
    assert "\x1b[4munder" in ansi
    assert html_to_text("<p><b>bold</b> <i>it</i></p>") == "bold it"


def test_headings_are_emphasised_and_set_apart() -> None:
    html = "<h1>Overview</h1><p>text</p><h3>Detail</h3>"
    assert html_to_text(html) == "Overview\n\ntext\n\nDetail"
    ansi = html_to_ansi(html)
    assert "\x1b[1;4mOverview" in ansi
    assert "\x1b[1mDetail" in ansi


# --- text handling ------------------------------------------------------------------------


def test_script_style_and_comments_are_dropped() -> None:
    html = (
        "<style>.x{color:red}</style><script>alert('hi')</script>"
        "<!-- secret --><p>shown</p><svg><title>icon</title></svg><template>t</template>"
    )
    assert html_to_text(html) == "shown"


def test_entities_are_decoded_and_not_reparsed() -> None:
    html = "<p>a &amp; b &lt;b&gt;not bold&lt;/b&gt; &copy; &#x41;&#66; &nbsp;x</p>"
    assert html_to_text(html) == "a & b <b>not bold</b> © AB \xa0x"
    assert "\x1b[1m" not in html_to_ansi(html)


def test_whitespace_collapses_like_a_browser() -> None:
    html = "<div>\n   <p>  several \n\t  spaces   <b> here </b> end  </p>\n</div>  <div> next</div>"
    assert html_to_text(html) == "several spaces here end\n\nnext"


def test_br_breaks_lines_and_drops_the_space_before_it() -> None:
    assert html_to_text("<p>one <br> two<br/>three</p>") == "one\ntwo\nthree"


def test_unknown_tags_keep_their_text() -> None:
    html = "<blink>old</blink> <goat-widget data-x='1'>custom <marquee>move</marquee></goat-widget>"
    assert html_to_text(html) == "old custom move"


def test_rich_markup_is_shown_literally() -> None:
    html = "<p>[bold red]x[/] [link=https://e.example]y[/link] :smile:</p>"
    assert html_to_text(html) == "[bold red]x[/] [link=https://e.example]y[/link] :smile:"
    ansi = html_to_ansi(html)
    assert "[bold red]x[/]" in ansi
    assert "\x1b[31m" not in ansi and "\x1b]8" not in ansi


def test_control_sequences_are_escaped_visibly() -> None:
    html = "<p>a\x1b[31mred\x9b2J\x07 \x1b]0;title\x07 \u202eevil</p><pre>\x1b[2J</pre>"
    text = html_to_text(html)
    assert "\\x1b[31mred\\x9b2J\\x07" in text
    assert "\\x1b]0;title\\x07" in text
    assert "\\u202e" in text
    assert_safe_text(text)
    assert_safe_ansi(html_to_ansi(html))


def test_malformed_and_odd_markup_does_not_raise() -> None:
    for html in [
        "",
        "   ",
        "<",
        "</",
        "<p",
        "<![foo[bar]]>x",
        "<!doctype html><html><head><title>t</title></head><body>ok</body></html>",
        "<table><td>loose cell<tr>x</table>",
        "<ul><li>a<li>b",
        "</div></span>text",
        '<img alt="chart"><hr><input value="v">',
        "<td>outside</td>",
        '<ol start="99999999999999999999"><li value="x">a</ol>',
        "<table></table><ul></ul><pre></pre>",
        '<div class="grid grid-cols-99"></div><div class="stat"></div>',
    ]:
        html_to_text(html)
        html_to_ansi(html, width=20)


def test_a_renderer_bug_falls_back_to_escaped_text(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(html: str) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(htmlrender, "_fallback", REAL_FALLBACK)
    monkeypatch.setattr(htmlrender, "parse_html", broken)
    assert html_to_text("<p>x\x1b[2J</p>") == "<p>x\\x1b[2J</p>"
    assert_safe_ansi(html_to_ansi("<p>x\x1b[2J</p>"))


@pytest.mark.parametrize(
    "html",
    [
        "<div>" * 5000 + "deep" + "</div>" * 5000,
        "<span><div>" * 4000 + "deep",
        "<ul><li>" * 3000 + "deep",
        "<table><tr><td>" * 2000 + "deep",
        '<div class="grid"><div class="stat">' * 2000 + "deep",
        "<b>" * 10000 + "deep",
    ],
)
def test_deep_nesting_is_flattened_not_recursed(html: str) -> None:
    assert "deep" in html_to_text(html, width=200)


def test_deep_script_is_still_dropped() -> None:
    html = "<div>" * 200 + "<script>alert(1)</script>shown" + "</div>" * 200
    assert html_to_text(html) == "shown"


@pytest.mark.parametrize("unit", ["<a x='", "<a ", "a<", "<!--a>"])
def test_unclosed_markup_is_linear(unit: str) -> None:
    # The stdlib parser takes minutes on these (it rescans the rest at every "<").
    started = time.monotonic()
    html_to_text(unit * (60_000 // len(unit)))
    assert time.monotonic() - started < 10


# --- properties -----------------------------------------------------------------------

DANGER = [
    "\x1b[31m",
    "\x9b",
    "\x07",
    "\x1b]0;title\x07",
    "\x1b]8;;https://evil.example\x1b\\",
    "\x1bP+q\x1b\\",
    "\x00",
    "\x7f",
    "\x85",
    "\u202e",
    "\u2066",
    "\u2028",
    "\r",
    "\t",
    "\n",
    "&#27;",
    "&#x9b;",
    "&#155;",
    "&#x202e;",
    "&#0;",
    "&amp;",
    "&",
    "[bold red]x[/]",
    ":smile:",
]
TAGS = [
    *("div", "p", "span", "b", "strong", "i", "em", "u", "a", "pre", "code", "blink"),
    *("ul", "ol", "li", "dl", "dt", "dd", "blockquote", "h1", "h2", "h3", "br", "hr", "img"),
    *("table", "thead", "tbody", "tr", "th", "td", "caption"),
    *("script", "style", "svg", "title"),
]
CLASSES = [
    "stat",
    "stat-title",
    "stat-value",
    "stat-desc",
    "grid grid-cols-4 gap-4",
    "grid md:grid-cols-2",
    "stats",
    "card",
    "text-success",
    "font-bold",
]
ATTRIBUTES = ["class", "href", "alt", "colspan", "start", "value", "hidden", "data-x"]

attribute_value = st.one_of(st.sampled_from(CLASSES + DANGER), st.text(max_size=12))
attribute = st.builds(
    lambda name, value, quote: f" {name}={quote}{value}{quote}",
    st.sampled_from(ATTRIBUTES),
    attribute_value,
    st.sampled_from(['"', "'", ""]),
)
open_tag = st.builds(
    lambda tag, attrs, close: f"<{tag}{''.join(attrs)}{close}",
    st.sampled_from(TAGS),
    st.lists(attribute, max_size=3),
    st.sampled_from([">", ">", "/>", ""]),
)
fragment = st.one_of(
    open_tag,
    st.sampled_from(TAGS).map(lambda tag: f"</{tag}>"),
    st.sampled_from(DANGER),
    st.sampled_from(["<!--", "-->", "<!-- c -->", "<![CDATA[x]]>", "<![if x]>", "<?pi?>"]),
    st.sampled_from(["<!doctype html>", "&nbsp;", "<", "</", ">", " ", "\n  "]),
    st.text(max_size=20),
)
html_ish = st.lists(fragment, max_size=40).map("".join)
widths = st.sampled_from([1, 2, 5, 12, 24, 40, 80, 131])

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(html=html_ish, width=widths)
def test_html_ish_input_renders_safely(html: str, width: int) -> None:
    assert_safe_text(html_to_text(html, width=width))
    assert_safe_ansi(html_to_ansi(html, width=width))


@PROPERTY
@given(text=st.text(), width=widths)
def test_arbitrary_text_renders_safely(text: str, width: int) -> None:
    for html in (text, f"<p>{text}</p>", f"<pre>{text}</pre>", f'<a href="{text}">{text}</a>'):
        assert_safe_text(html_to_text(html, width=width))
        assert_safe_ansi(html_to_ansi(html, width=width))


@PROPERTY
@given(html=html_ish)
def test_layout_stays_within_a_reasonable_width(html: str) -> None:
    assert_fits(html_to_text(html, width=80), 80)


@PROPERTY
@given(text=st.text(alphabet=st.sampled_from("ab Z.,;:!?'\"/()[]{}=+-_\t\n\r"), max_size=80))
def test_plain_text_comes_back_with_collapsed_whitespace(text: str) -> None:
    assert html_to_text(f"<p>{text}</p>", width=500) == " ".join(text.split())

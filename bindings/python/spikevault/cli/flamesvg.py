"""An interactive SVG flame graph from folded stacks, after Brendan Gregg's flamegraph.pl:
one ``<g>`` per frame (a ``<title>`` for hover, a ``<rect>``, a ``<text>`` label), the root
at the bottom, children sorted by name, widths proportional to sample counts. Embedded
JavaScript (no network) shows details on hover, zooms on click (click "Reset Zoom" or press
Escape twice to undo) and searches by regular expression (the "Search" button, Ctrl-F or /),
printing the share of samples matched."""

from __future__ import annotations

import re
import zlib
from typing import Callable, List, Optional, Tuple

from .stacks import Node, build_tree

__all__ = ["flamegraph_svg", "FRAME_HEIGHT", "IMAGE_WIDTH", "XPAD", "MIN_WIDTH"]

IMAGE_WIDTH = 1200
FRAME_HEIGHT = 16
FONT_SIZE = 12
FONT_WIDTH = 0.59
XPAD = 10
YPAD_TOP = FONT_SIZE * 3
YPAD_BOTTOM = FONT_SIZE * 2 + 10
MIN_WIDTH = 0.1  # px: narrower frames (and their children) are left out, as flamegraph.pl does

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    text = _INVALID_XML.sub("?", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _colour(name: str) -> str:
    """flamegraph.pl's "hot" palette, hashed from the name so a function keeps its colour."""
    h = zlib.crc32(name.encode("utf-8", "replace"))
    v1, v2, v3 = (h & 0xFF) / 255, ((h >> 8) & 0xFF) / 255, ((h >> 16) & 0xFF) / 255
    return f"rgb({205 + int(50 * v3)},{int(230 * v1)},{int(55 * v2)})"


def _label(name: str, width: float) -> str:
    chars = int((width - 3) / (FONT_SIZE * FONT_WIDTH))
    if chars < 3:
        return ""
    return name if len(name) <= chars else name[: chars - 2] + ".."


def _layout(root: Node, total: int) -> List[Tuple[Node, int, float, float]]:
    """(node, level, x, width) for every drawn frame, root first; children by name."""
    scale = (IMAGE_WIDTH - 2 * XPAD) / total
    out: List[Tuple[Node, int, float, float]] = []
    stack = [(root, 0, float(XPAD))]
    while stack:
        node, level, x = stack.pop()
        width = node.count * scale
        if width < MIN_WIDTH:
            continue
        out.append((node, level, x, width))
        cx = x
        children = []
        for name in sorted(node.children):
            child = node.children[name]
            children.append((child, level + 1, cx))
            cx += child.count * scale
        stack.extend(reversed(children))
    return out


def diff_colour(maxdelta: float) -> Callable[[Node], str]:
    """flamegraph.pl's differential colours: red where the frame's own samples grew, blue where
    they shrank, saturation in proportion to the change over the largest change; white if none."""
    def colour(node: Node) -> str:
        d = node.delta
        if maxdelta <= 0 or abs(d) < 1e-9:
            return "rgb(255,255,255)"
        fade = int(210 * (maxdelta - abs(d)) / maxdelta)
        return f"rgb(255,{fade},{fade})" if d > 0 else f"rgb({fade},{fade},255)"
    return colour


def diff_info(total: int, unit: str = "samples") -> Callable[[Node], str]:
    """Hover text as flamegraph.pl writes it for a differential: the change in points of the total."""
    def info(node: Node) -> str:
        share = 100.0 * node.count / total if total else 0.0
        change = 100.0 * node.delta / total if total else 0.0
        return f"{node.name} ({node.count:,} {unit}, {share:.2f}%; {change:+.2f}%)"
    return info


def flamegraph_svg(stacks: List[Tuple[List[str], int]], title: str = "Flame Graph", subtitle: str = "",
                   unit: str = "samples", root: Optional[Node] = None,
                   colour: Optional[Callable[[Node], str]] = None,
                   info: Optional[Callable[[Node], str]] = None) -> str:
    """The SVG document as text. ``stacks`` as from ``stacks.parse_folded`` (non-empty), or a
    ready ``root`` (a differential tree) with its ``colour`` and hover ``info`` functions."""
    if root is None:
        if not stacks:
            raise ValueError("no stacks to draw")
        root = build_tree(stacks)
    if root.count <= 0:
        raise ValueError("no stacks to draw")
    total = root.count
    frames = _layout(root, total)
    depth = max(level for _, level, _, _ in frames) + 1
    height = depth * FRAME_HEIGHT + YPAD_TOP + YPAD_BOTTOM + (FONT_SIZE if subtitle else 0)
    base = height - YPAD_BOTTOM
    w = IMAGE_WIDTH
    out = [
        '<?xml version="1.0" standalone="no"?>',
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">',
        f'<svg version="1.1" width="{w}" height="{height}" onload="init(evt)" viewBox="0 0 {w} {height}" '
        'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">',
        "<!-- Flame graph written by spikevault (after flamegraph.pl, https://github.com/brendangregg/FlameGraph) -->",
        "<defs><linearGradient id=\"background\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">"
        "<stop stop-color=\"#eeeeee\" offset=\"5%\"/><stop stop-color=\"#eeeeb0\" offset=\"95%\"/>"
        "</linearGradient></defs>",
        "<style type=\"text/css\">"
        "text { font-family: Verdana, sans-serif; font-size: %dpx; fill: rgb(0,0,0); }"
        "#title { text-anchor: middle; font-size: %dpx; }"
        "#search, #ignorecase, #unzoom { cursor: pointer; opacity: 0.1; } #search:hover, #unzoom:hover { opacity: 1; }"
        "#matched { text-anchor: end; } #search { text-anchor: end; }"
        "#frames > g:hover > rect { stroke: black; stroke-width: 0.5; cursor: pointer; }"
        ".hide { display: none; } .parent { opacity: 0.5; }"
        "</style>" % (FONT_SIZE, FONT_SIZE + 5),
        f'<script type="text/ecmascript"><![CDATA[\nvar xpad = {XPAD}, fontsize = {FONT_SIZE}, fontwidth = {FONT_WIDTH}, '
        f'total = {total}, unit = "{_xml(unit)}";\n{_JS}\n]]></script>',
        f'<rect x="0" y="0" width="{w}" height="{height}" fill="url(#background)"/>',
        f'<text id="title" x="{w / 2:.1f}" y="{FONT_SIZE * 2}">{_xml(title)}</text>',
    ]
    if subtitle:
        out.append(f'<text id="subtitle" x="{w / 2:.1f}" y="{FONT_SIZE * 3 + 2}" style="text-anchor: middle">'
                   f'{_xml(subtitle)}</text>')
    out += [
        f'<text id="details" x="{XPAD}" y="{height - YPAD_BOTTOM / 2 + 2:.0f}"> </text>',
        f'<text id="unzoom" class="hide" x="{XPAD}" y="{FONT_SIZE * 2}">Reset Zoom</text>',
        f'<text id="search" x="{w - XPAD}" y="{FONT_SIZE * 2}">Search</text>',
        f'<text id="matched" x="{w - XPAD}" y="{height - YPAD_BOTTOM / 2 + 2:.0f}"> </text>',
        '<g id="frames">',
    ]
    for node, level, x, width in frames:
        y = base - (level + 1) * FRAME_HEIGHT
        share = 100.0 * node.count / total
        plural = unit if node.count != 1 else unit.rstrip("s")
        text = info(node) if info else f"{node.name} ({node.count:,} {plural}, {share:.2f}%)"
        fill = colour(node) if colour else _colour(node.name)
        out.append(
            f'<g><title>{_xml(text)}</title>'
            f'<rect x="{x:.2f}" y="{y}" width="{width:.2f}" height="{FRAME_HEIGHT - 1}" fill="{fill}" '
            f'rx="2" ry="2"/><text x="{x + 3:.2f}" y="{y + FRAME_HEIGHT - 4.5:.1f}">{_xml(_label(node.name, width))}</text></g>'
        )
    out += ["</g>", "</svg>", ""]
    return "\n".join(out)


_JS = r"""
var details, searchbtn, unzoombtn, matchedtxt, frames, svg, searching = null, zoomed = false;
function init(evt) {
  svg = document.documentElement;
  details = document.getElementById("details").firstChild;
  searchbtn = document.getElementById("search");
  unzoombtn = document.getElementById("unzoom");
  matchedtxt = document.getElementById("matched");
  frames = document.getElementById("frames");
}
function group_of(node) {
  while (node && node.parentNode) {
    if (node.parentNode.id === "frames") return node;
    node = node.parentNode;
  }
  return null;
}
function info_of(g) { return g.getElementsByTagName("title")[0].firstChild.nodeValue; }
function name_of(g) { var t = info_of(g); var i = t.lastIndexOf(" ("); return i < 0 ? t : t.substring(0, i); }
function orig(e, attr) {
  if (!e.hasAttribute("_o" + attr)) e.setAttribute("_o" + attr, e.getAttribute(attr));
  return e.getAttribute("_o" + attr);
}
function fit_text(g) {
  var r = g.getElementsByTagName("rect")[0], t = g.getElementsByTagName("text")[0];
  var x = parseFloat(r.getAttribute("x")), w = parseFloat(r.getAttribute("width")), name = name_of(g);
  t.setAttribute("x", (x + 3).toFixed(2));
  var chars = Math.floor((w - 3) / (fontsize * fontwidth));
  t.textContent = chars < 3 ? "" : (name.length <= chars ? name : name.substring(0, chars - 2) + "..");
}
function zoom(g) {
  var r = g.getElementsByTagName("rect")[0];
  var x = parseFloat(orig(r, "x")), w = parseFloat(orig(r, "width")), y = parseFloat(r.getAttribute("y"));
  var full = parseFloat(svg.getAttribute("width")) - 2 * xpad, ratio = full / w, eps = 0.0001;
  zoomed = true;
  unzoombtn.classList.remove("hide");
  var all = frames.children;
  for (var i = 0; i < all.length; i++) {
    var e = all[i], er = e.getElementsByTagName("rect")[0];
    var ex = parseFloat(orig(er, "x")), ew = parseFloat(orig(er, "width")), ey = parseFloat(er.getAttribute("y"));
    if (ey > y && ex <= x + eps && ex + ew >= x + w - eps) {          // an ancestor: full width, dimmed
      e.classList.add("parent"); e.classList.remove("hide");
      er.setAttribute("x", xpad); er.setAttribute("width", full);
    } else if (ey <= y && ex >= x - eps && ex + ew <= x + w + eps) {  // the frame or a descendant
      e.classList.remove("parent"); e.classList.remove("hide");
      er.setAttribute("x", (xpad + (ex - x) * ratio).toFixed(2)); er.setAttribute("width", (ew * ratio).toFixed(2));
    } else {
      e.classList.add("hide");
    }
    fit_text(e);
  }
  if (searching) search(searching);
}
function unzoom() {
  zoomed = false;
  unzoombtn.classList.add("hide");
  var all = frames.children;
  for (var i = 0; i < all.length; i++) {
    var e = all[i], er = e.getElementsByTagName("rect")[0];
    e.classList.remove("parent"); e.classList.remove("hide");
    er.setAttribute("x", orig(er, "x")); er.setAttribute("width", orig(er, "width"));
    fit_text(e);
  }
  if (searching) search(searching);
}
function reset_search() {
  var all = frames.children;
  for (var i = 0; i < all.length; i++) {
    var r = all[i].getElementsByTagName("rect")[0];
    if (r.hasAttribute("_ofill")) r.setAttribute("fill", r.getAttribute("_ofill"));
  }
  searching = null;
  matchedtxt.textContent = " ";
  searchbtn.style.opacity = "";
  searchbtn.textContent = "Search";
}
function search(term) {
  var re;
  try { re = new RegExp(term); } catch (err) { matchedtxt.textContent = "Bad regexp: " + term; return; }
  reset_search();
  searching = term;
  var all = frames.children, spans = {}, maxw = 0;
  for (var i = 0; i < all.length; i++) {
    var g = all[i], r = g.getElementsByTagName("rect")[0];
    var w = parseFloat(orig(r, "width"));
    if (w > maxw) maxw = w;
    if (g.classList.contains("hide") || !re.test(name_of(g))) continue;
    orig(r, "fill");
    r.setAttribute("fill", "rgb(230,0,230)");
    var x = parseFloat(orig(r, "x"));
    if (spans[x] === undefined || spans[x] < w) spans[x] = w;   // nested matches counted once
  }
  var xs = Object.keys(spans).map(parseFloat).sort(function (a, b) { return a - b; });
  var covered = 0, end = -1;
  for (var j = 0; j < xs.length; j++) {
    var s = xs[j], e = s + spans[xs[j]];
    if (s >= end) { covered += e - s; end = e; } else if (e > end) { covered += e - end; end = e; }
  }
  searchbtn.style.opacity = "1";
  searchbtn.textContent = "Reset Search";
  matchedtxt.textContent = "Matched: " + (maxw > 0 ? (100 * covered / maxw).toFixed(1) : "0") + "%";
}
function search_prompt() {
  if (searching) { reset_search(); return; }
  var term = prompt("Search for (regular expression, case-sensitive):", "");
  if (term) search(term);
}
window.addEventListener("mouseover", function (e) {
  var g = group_of(e.target);
  if (g) details.nodeValue = info_of(g);
});
window.addEventListener("mouseout", function (e) {
  if (group_of(e.target)) details.nodeValue = " ";
});
window.addEventListener("click", function (e) {
  var g = group_of(e.target);
  if (g) { zoom(g); return; }
  if (e.target.id === "unzoom") unzoom();
  else if (e.target.id === "search") search_prompt();
});
window.addEventListener("keydown", function (e) {
  if ((e.ctrlKey && e.key === "f") || e.key === "/") { e.preventDefault(); search_prompt(); }
  else if (e.key === "Escape") { if (searching) reset_search(); else if (zoomed) unzoom(); }
});
"""

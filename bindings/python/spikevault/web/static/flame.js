// An interactive flame graph from /api/stacks/<id> (a call tree {n, v, c}): click a frame to
// zoom into it, "reset zoom" or the root to zoom out, search highlights matching frames.
// Frames are <div>s positioned in % of the zoomed frame's width; names go in textContent.
"use strict";
(function () {
  var ROW = 18, MIN_PCT = 0.1;
  var root = null, zoomed = null, container = null, search = null;

  function hue(name) {
    var h = 0;
    for (var i = 0; i < name.length; i++) { h = (h * 31 + name.charCodeAt(i)) % 360; }
    return "hsl(" + (10 + h % 40) + ",85%," + (55 + h % 15) + "%)";
  }

  function link(node, parent) {
    node.parent = parent;
    (node.c || []).forEach(function (c) { link(c, node); });
  }

  function depthOf(node) {
    var d = 0;
    for (var n = node; n.parent; n = n.parent) { d++; }
    return d;
  }

  function maxDepth(node) {
    var d = 0;
    (node.c || []).forEach(function (c) { d = Math.max(d, maxDepth(c)); });
    return d + 1;
  }

  function render() {
    container.textContent = "";
    var pattern = null;
    if (search.value) { try { pattern = new RegExp(search.value); } catch (e) { pattern = null; } }
    var matched = 0;
    var base = depthOf(zoomed);
    var ancestors = [];
    for (var a = zoomed.parent; a; a = a.parent) { ancestors.push(a); }
    var rows = maxDepth(zoomed) + ancestors.length;
    container.style.height = (rows * ROW) + "px";
    function place(node, left, width, level, isAncestor) {
      if (width < MIN_PCT) { return; }
      var el = document.createElement("div");
      el.className = "frame" + (isAncestor ? " ancestor" : "") + (node === zoomed ? " zoomed" : "");
      el.style.left = left + "%"; el.style.width = width + "%";
      el.style.bottom = (level * ROW) + "px"; el.style.background = hue(node.n);
      el.textContent = node.n;
      el.title = node.n + " (" + node.v + " samples, " + (100 * node.v / root.v).toFixed(2) + "%)";
      el.dataset.name = node.n; el.dataset.samples = String(node.v);
      if (pattern && pattern.test(node.n)) { el.classList.add("match"); if (!isAncestor) { matched += node.v; } }
      el.addEventListener("click", function () { zoom(node); });
      el.addEventListener("mouseenter", function () { document.getElementById("flame-info").textContent = el.title; });
      container.appendChild(el);
      if (isAncestor) { return; }
      var x = left;
      (node.c || []).forEach(function (c) {
        var w = width * c.v / node.v;
        place(c, x, w, level + 1, false);
        x += w;
      });
    }
    ancestors.reverse().forEach(function (n, i) { place(n, 0, 100, i, true); });
    place(zoomed, 0, 100, ancestors.length, false);
    document.getElementById("flame-match").textContent =
      pattern ? "matched " + (100 * matched / zoomed.v).toFixed(1) + "% of the zoomed samples" : "";
    container.dataset.zoom = zoomed.n;
    container.dataset.depth = String(base);
  }

  function zoom(node) { zoomed = node; render(); }

  document.addEventListener("DOMContentLoaded", function () {
    container = document.getElementById("flame");
    if (!container) { return; }
    search = document.getElementById("flame-search");
    fetch(container.dataset.src, { credentials: "same-origin" }).then(function (r) { return r.json(); })
      .then(function (doc) {
        if (!doc.root) { container.textContent = doc.error || "no stacks"; return; }
        root = doc.root; link(root, null); zoomed = root; render();
        container.dataset.ready = "1";
      });
    search.addEventListener("input", render);
    document.getElementById("flame-reset").addEventListener("click", function () { zoom(root); });
  });
})();

// SpikeVault review pages: live update of the list (polling), copy summary, copy path.
// Loaded as a file (the Content-Security-Policy forbids inline script). Text from the server
// is only ever put in the page with textContent or .value, never as HTML.
"use strict";
(function () {
  function byId(id) { return document.getElementById(id); }

  function copyText(text, status) {
    var area = byId("clipboard");
    area.value = text;
    function done(ok) { if (status) { status.textContent = ok ? "copied" : "copy failed: select the text below"; } }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { fallback(); });
    } else { fallback(); }
    function fallback() {
      area.hidden = false; area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    }
  }

  function wireCopy(id) {
    var button = byId(id);
    if (!button) { return; }
    button.addEventListener("click", function () {
      fetch(button.dataset.src, { credentials: "same-origin" }).then(function (r) { return r.json(); })
        .then(function (doc) {
          var text = typeof doc.summary === "string" ? doc.summary : JSON.stringify(doc.summary, null, 2);
          copyText(text, byId("copy-status"));
        });
    });
  }

  function poll() {
    var data = byId("live-data");
    if (!data) { return; }
    var shown = JSON.parse(data.textContent).newest;
    setInterval(function () {
      fetch("/api/latest", { credentials: "same-origin" }).then(function (r) { return r.json(); })
        .then(function (doc) { if (doc.newest !== shown) { byId("live").hidden = false; } });
    }, 3000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireCopy("copy-summary");
    wireCopy("copy-json");
    Array.prototype.forEach.call(document.querySelectorAll("button.copy-path"), function (b) {
      b.addEventListener("click", function () { copyText(b.dataset.path, byId("copy-status")); });
    });
    poll();
  });
})();

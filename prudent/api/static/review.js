// The review page's keys: 1-9 label, / finds a class (type-ahead), S skip, F flag, U undo.
// No inline code and no eval: the page's Content-Security-Policy allows this file only.
(function () {
  "use strict";
  function root() { return document.getElementById("case"); }
  function press(selector) {
    var el = root() && root().querySelector(selector);
    if (el && !el.disabled && !el.hidden) { el.click(); return true; }
    return false;
  }
  function filter(text) {
    var wanted = text.trim().toLowerCase();
    root().querySelectorAll(".labels button.label").forEach(function (b) {
      b.hidden = wanted !== "" && b.dataset.label.toLowerCase().indexOf(wanted) === -1;
    });
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    var target = event.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) {
      if (event.key === "Enter" && target.id === "typeahead") {
        event.preventDefault();
        press(".labels button.label:not([hidden])");
      } else if (event.key === "Escape") {
        target.value = ""; filter(""); target.blur();
      }
      return;
    }
    var key = event.key.toLowerCase(), done = false;
    if (/^[1-9]$/.test(key)) done = press('.labels button[data-key="' + key + '"]');
    else if (key === "s") done = press("#skip");
    else if (key === "f") done = press("#flag");
    else if (key === "u") done = press("#undo");
    else if (key === "/") {
      var box = document.getElementById("typeahead");
      if (box) { box.focus(); done = true; }
    }
    if (done) event.preventDefault();
  });
  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "typeahead") filter(event.target.value);
  });
  // A refused action (4xx JSON) is shown above the case instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var flash = document.getElementById("flash"), text = event.detail.xhr.responseText;
    try { text = JSON.parse(text).error || text; } catch (e) { /* not JSON */ }
    if (flash) { flash.textContent = text; flash.className = "flash error"; }
  });
})();

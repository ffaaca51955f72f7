/* Settings pages helpers (no inline handlers: CSP-friendly).
   Copy buttons ([data-copy="#id"]) are handled by dashboard.js through the Clipboard API.
   Where that API is missing (pages served over plain http on a non-local host), this
   selects the target's text instead, tries the legacy copy command and says what happened,
   so the user can always press Ctrl+C / Cmd+C. */
(function () {
  "use strict";
  if (navigator.clipboard) { return; }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) { return; }
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    var before = button.textContent;
    button.textContent = copied ? "Copied" : "Selected: press Ctrl+C";
    window.setTimeout(function () { button.textContent = before; }, 2000);
  });
})();

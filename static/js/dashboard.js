/* Footfall UI helpers (no framework, no inline handlers: CSP-friendly).
   - theme: html[data-theme] from localStorage, set before first paint; [data-theme-toggle] flips it
   - [data-copy="#selector"]: copies the target element's text, announces "Copied"
   - [data-toggle-class="class"][aria-controls=id]: toggles a class on the element with that id
     (used for the chart's previous-period overlay) and keeps aria-pressed in step
   - form[data-autosubmit]: submits when a select in it changes (range picker) */
(function () {
  "use strict";
  var root = document.documentElement;
  try {
    var stored = window.localStorage.getItem("footfall-theme");
    if (stored === "dark" || stored === "light") { root.setAttribute("data-theme", stored); }
  } catch (e) { /* storage disabled: follow the system */ }

  function currentTheme() {
    var forced = root.getAttribute("data-theme");
    if (forced) { return forced; }
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function labelToggle(button) {
    var dark = currentTheme() === "dark";
    button.setAttribute("aria-pressed", dark ? "true" : "false");
    button.textContent = dark ? "Light theme" : "Dark theme";
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-theme-toggle]");
    if (toggle) {
      var next = currentTheme() === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { window.localStorage.setItem("footfall-theme", next); } catch (e) { /* ignore */ }
      labelToggle(toggle);
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var source = document.querySelector(copy.getAttribute("data-copy"));
      if (source && navigator.clipboard) {
        var text = "value" in source && source.value !== undefined ? source.value : source.textContent;
        navigator.clipboard.writeText(text.trim()).then(function () {
          var before = copy.textContent;
          copy.textContent = "Copied";
          window.setTimeout(function () { copy.textContent = before; }, 1500);
        });
      }
      return;
    }
    var toggler = event.target.closest("[data-toggle-class]");
    if (toggler) {
      var target = document.getElementById(toggler.getAttribute("aria-controls"));
      if (target) {
        var on = target.classList.toggle(toggler.getAttribute("data-toggle-class"));
        toggler.setAttribute("aria-pressed", on ? "true" : "false");
      }
    }
  });

  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-autosubmit]");
    if (form && event.target.matches("select[data-autosubmit-trigger]")) {
      if (event.target.value === "custom") {
        var custom = form.querySelector("[data-custom-range]");
        if (custom) { custom.hidden = false; var first = custom.querySelector("input"); if (first) { first.focus(); } }
        return;
      }
      form.requestSubmit ? form.requestSubmit() : form.submit();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-theme-toggle]").forEach(labelToggle);
  });
})();

/* kefu console behaviour that is not htmx: the reply box's unsent-text warning and draft status, presence,
   selects that submit on change, and the queue's bulk bar. No inline script needed, no build step. */
(function () {
  "use strict";

  // --- reply box: warn before leaving with unsent text; no draft save once the reply is being sent ---
  function replyForms() { return document.querySelectorAll("form[data-unsent-warning]"); }
  var sending = false;

  function unsentText() {
    if (sending) return false;
    return Array.prototype.some.call(replyForms(), function (form) {
      var body = form.querySelector("textarea[name=body]");
      return body && body.value.trim() !== "";
    });
  }

  window.addEventListener("beforeunload", function (event) {
    if (!unsentText()) return;
    event.preventDefault();
    event.returnValue = "";  // older browsers need a value to show their own "leave site?" question
  });

  document.addEventListener("submit", function (event) {
    if (event.target.matches("form[data-unsent-warning]")) sending = true;
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    // A debounced draft save that fires after "send" would bring the sent text back as a draft.
    if (sending && event.target.closest("form[data-unsent-warning]")) event.preventDefault();
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target.closest && event.target.closest("form[data-unsent-warning]");
    var state = form && form.querySelector("[data-testid=draft-state]");
    if (!state) return;
    var ok = event.detail.successful;
    var time = new Date().toTimeString().slice(0, 5);
    state.textContent = (ok ? state.dataset.saved : state.dataset.failed) + (ok ? " " + time : "");
    state.classList.toggle("error", !ok);
  });

  // --- presence: a ticket page that is closed or left says so, so others stop seeing its user at once ---
  function presenceBox() { return document.querySelector("[data-presence-leave]"); }

  window.addEventListener("pagehide", function () {
    var box = presenceBox();
    if (!box || !navigator.sendBeacon) return;
    var data = new FormData();  // a beacon sends no headers: the CSRF token goes in the form
    data.append("csrfmiddlewaretoken", JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]);
    navigator.sendBeacon(box.dataset.presenceLeave, data);
  });

  window.addEventListener("pageshow", function (event) {
    // Back from the browser's page cache after having said "left": say "here" again at once.
    var box = presenceBox();
    if (event.persisted && box && window.htmx) {
      window.htmx.ajax("GET", box.getAttribute("hx-get"), { target: box, swap: "innerHTML" });
    }
  });

  // --- selects that submit their form on change (language, availability): no inline handler, CSP ----
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  });

  // --- queue bulk bar: the value list follows the action; the selection is counted -----------------
  function setUpBulk(form) {
    var action = form.querySelector("select[name=action]");
    var count = form.querySelector("[data-selection-count]");
    var run = form.querySelector("button[data-bulk-run]");
    if (!action) return;

    function syncValue() {
      form.querySelectorAll("[data-bulk-for]").forEach(function (input) {
        var used = input.dataset.bulkFor === action.value;
        input.hidden = !used;
        input.disabled = !used;
      });
    }

    function syncCount() {
      var n = form.querySelectorAll("input[name=tickets]:checked").length;
      count.textContent = count.dataset.template.replace("{n}", n);
      count.dataset.count = n;
      if (run) run.disabled = n === 0;
    }

    action.addEventListener("change", syncValue);
    form.addEventListener("change", function (event) {
      if (event.target.matches("input[type=checkbox]")) syncCount();
    });
    form.addEventListener("click", function (event) {
      var all = event.target.closest("input[data-select-all]");
      if (!all) return;
      form.querySelectorAll("input[name=tickets]").forEach(function (box) { box.checked = all.checked; });
      syncCount();
    });
    document.body.addEventListener("htmx:afterSwap", syncCount);  // new rows from the filters
    form.addEventListener("submit", function (event) {
      if (action.value !== "merge") return;
      var into = form.querySelector("input[name=into]");
      if (!window.confirm(form.dataset.mergeQuestion + "\n" + count.dataset.count + " → " + into.value.trim())) {
        event.preventDefault();
      }
    });
    syncValue();
    syncCount();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var bulk = document.getElementById("bulk-form");
    if (bulk) setUpBulk(bulk);
  });
})();

/* Keyboard shortcuts of the queue (/ j k Enter) and the ticket page (r n a); the page kind comes from
   the hint's data-shortcuts attribute (tickets/_shortcuts.html). */
(function () {
  var hint = document.querySelector("[data-shortcuts]");
  if (!hint) return;
  var page = hint.dataset.shortcuts;
  function typing(e) { var t = e.target; return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)); }
  var current = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr[data-row]")); }
  function mark(i) {
    var list = rows(); if (!list.length) return;
    current = Math.max(0, Math.min(list.length - 1, i));
    list.forEach(function (r, n) { r.classList.toggle("selected", n === current); });
    list[current].scrollIntoView({block: "nearest"});
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e)) return;
    var k = e.key;
    if (page === "queue") {
      if (k === "/") { var s = document.querySelector("[data-shortcut=search]"); if (s) { e.preventDefault(); s.focus(); } }
      else if (k === "j") { mark(current + 1); }
      else if (k === "k") { mark(current - 1); }
      else if (k === "Enter" && current >= 0) { window.location = rows()[current].dataset.href; }
    } else {
      var box = document.querySelector("#reply-body");
      if ((k === "r" || k === "n") && box) {
        e.preventDefault();
        var v = document.querySelector("input[name=visibility][value=" + (k === "r" ? "public" : "internal") + "]");
        if (v) { v.checked = true; v.dispatchEvent(new Event("change", {bubbles: true})); }
        box.focus();
      } else if (k === "a") {
        var f = document.querySelector("#assign-me"); if (f) { e.preventDefault(); f.submit(); }
      }
    }
  });
})();

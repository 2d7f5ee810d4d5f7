// Live notice on the export page: listens to the page's Server-Sent Events URL
// (data-live-url) and, when the ZIP is announced, asks htmx to refresh the status block at
// once instead of waiting for its next poll. Loaded as a file: the CSP allows no inline script.
(function () {
  function start() {
    var el = document.querySelector("[data-live-url]");
    if (!el || !window.EventSource || el.getAttribute("data-state") === "ready") return;
    var source = new EventSource(el.getAttribute("data-live-url"));
    source.addEventListener("export-ready", function () {
      source.close();
      el.setAttribute("data-live", "ready");
      if (window.htmx) { window.htmx.trigger(el, "export-ready"); }
      else { window.location.reload(); }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

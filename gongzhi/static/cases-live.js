// Live case lists: listen to the signed-in user's event stream and ask htmx to reload the
// list (the element with data-live-stream) when a case event arrives, at most once a second.
// EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed.
(function () {
  "use strict";
  var list = document.querySelector("[data-live-stream]");
  if (!list || !window.EventSource) { return; }
  var topics = ["create", "accept", "reject", "assign", "acknowledge", "start", "return",
    "transfer", "pause", "resume", "request_extension", "approve_extension",
    "decline_extension", "resolve", "rate", "reopen", "close", "mark_duplicate", "withdraw",
    "escalate", "comment", "attach", "supervise", "overdue", "auto_close"];
  var pending = null;
  var note = document.getElementById("live-note");
  function changed() {
    if (pending) { return; }
    pending = window.setTimeout(function () {
      pending = null;
      document.body.dispatchEvent(new CustomEvent("gz:cases-changed"));
    }, 1000);
  }
  var source = new EventSource(list.getAttribute("data-live-stream"));
  source.addEventListener("open", function () { if (note) { note.hidden = false; } });
  source.addEventListener("error", function () { if (note) { note.hidden = true; } });
  topics.forEach(function (t) { source.addEventListener("case." + t, changed); });
}());

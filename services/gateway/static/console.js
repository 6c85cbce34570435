// Progress while a report, a print job or a backup is being made. Pages that wait for
// one name a status URL (data-poll) and the state they show (data-poll-state); this asks
// it every few seconds and reloads the page once the state changed. No inline script
// (the CSP allows only this file); without JavaScript the page offers a link to reload.
(function () {
  "use strict";
  var body = document.body;
  var url = body.getAttribute("data-poll");
  if (!url) { return; }
  var shown = body.getAttribute("data-poll-state");
  var every = 2000;
  function ask() {
    window.fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (status) {
        if (status && status.state !== shown) { window.location.reload(); }
        else { window.setTimeout(ask, every); }
      })
      .catch(function () { window.setTimeout(ask, every * 3); });
  }
  window.setTimeout(ask, every);
}());

// Every page: a script's POST (fetch) carries the page's CSRF token in the X-CSRFToken
// header, as forms carry it in a hidden field (web/security.py). Same-origin requests only.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!meta || !window.fetch || window.fetch.csrf) return;
  var plain = window.fetch;
  var safe = /^(GET|HEAD|OPTIONS)$/i;
  function withToken(input, init) {
    init = init || {};
    var method = init.method || (input && input.method) || "GET";
    var url = new URL(typeof input === "string" ? input : input.url, location.href);
    if (!safe.test(method) && url.origin === location.origin) {
      var headers = new Headers(init.headers || (typeof input === "string" ? {} : input.headers));
      headers.set("X-CSRFToken", meta.content);
      init = Object.assign({}, init, {headers: headers});
    }
    return plain.call(window, input, init);
  }
  withToken.csrf = true;
  window.fetch = withToken;
})();

// Keeps the room page current: polls the readiness document once a second and updates
// the state, the reasons and each device row in place. No framework, no build step.
(function () {
  "use strict";
  var cfg = window.PANEL;
  if (!cfg) return;
  var offline = document.getElementById("offline");

  function text(el, value) { if (el && el.textContent !== value) el.textContent = value; }

  function render(r) {
    var state = document.getElementById("room-state");
    state.className = "state state-" + r.state;
    state.dataset.state = r.state;
    text(document.getElementById("room-state-text"), r.labels.state);
    var reasons = document.getElementById("room-reasons");
    reasons.innerHTML = "";
    r.labels.reasons.forEach(function (reason) {
      var li = document.createElement("li");
      li.textContent = reason;
      reasons.appendChild(li);
    });
    Object.keys(r.devices).forEach(function (id) {
      var row = document.getElementById("dev-" + id);
      if (!row) return;
      var d = r.devices[id], label = r.labels.devices[id];
      row.className = "health-" + d.health;
      row.dataset.health = d.health;
      text(row.querySelector(".health"), label.health);
      text(row.querySelector(".reason-text"), label.reasons.join("; "));
      var more = row.querySelector("details.detail");   // the technician's detail, kept open as it was
      if (more) {
        more.hidden = !label.details.length;
        text(more.querySelector("pre"), label.details.join("\n"));
      }
    });
    var button = document.getElementById("selftest-button");
    if (button) {
      var running = r.activity === "selftest";
      button.disabled = running;
      text(button, running ? cfg.running : cfg.run);
    }
  }

  function poll() {
    fetch(cfg.readiness, {headers: {"Accept": "application/json"}, cache: "no-store"})
      .then(function (resp) { if (!resp.ok) throw new Error(resp.status); return resp.json(); })
      .then(function (r) { offline.hidden = true; render(r); })
      .catch(function () { offline.hidden = false; })
      .then(function () { setTimeout(poll, 1000); });
  }
  setTimeout(poll, 1000);
})();

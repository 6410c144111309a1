// Live regions (see web/live.py): every element marked data-live is refreshed in place, once
// a second, from this page's own URL with ?live=1 ({"regions": {id: html}}). A region the
// user is typing in is left alone until they leave it; open <details> stay open. No framework,
// no external resources; without this script the page is whole at every load.
(function () {
  "use strict";
  // Buttons marked data-print print the page (hidden without this script: the browser's own print remains).
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
  // Pictures marked data-refresh (a camera's snapshot) load again a second after each load.
  document.querySelectorAll("img[data-refresh]").forEach(function (img) {
    var base = img.getAttribute("src");
    function again(wait) {
      setTimeout(function () {
        img.src = base + (base.indexOf("?") < 0 ? "?" : "&") + "_=" + Date.now();
      }, wait);
    }
    img.addEventListener("load", function () { img.dataset.loaded = String(Number(img.dataset.loaded || 0) + 1); again(1000); });
    img.addEventListener("error", function () { again(3000); });
    if (img.complete) again(1000);
  });
  if (!window.fetch || !document.querySelector("[data-live]")) return;
  var offline = document.getElementById("offline");
  var stopped = false;
  var url = new URL(window.location.href);
  url.searchParams.set("live", "1");

  function typingIn(el) {   // focused in it, or something typed there and not yet sent
    var a = document.activeElement;
    if (a && el.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName)) return true;
    return Array.prototype.some.call(el.querySelectorAll("textarea, input:not([type]), input[type=text]"),
      function (f) { return f.value !== f.defaultValue; });
  }

  // What each region last received, as the server wrote it (the DOM's own serialisation differs),
  // without a form's CSRF token (a fresh one in every answer is no change).
  var last = {};
  function same(id, html) {
    var bare = html.replace(/<input[^>]*csrf[^>]*>/gi, "");
    if (last[id] === bare) return true;
    last[id] = bare;
    return false;
  }

  function put(el, html) {
    if (typingIn(el)) { delete last[el.id]; return; }   // try again once they are done
    if (same(el.id, html)) return;
    var open = [];
    el.querySelectorAll("details").forEach(function (d, i) { if (d.open) open.push(i); });
    el.innerHTML = html;
    var details = el.querySelectorAll("details");
    open.forEach(function (i) { if (details[i]) details[i].open = true; });
  }

  function poll() {
    fetch(url.toString(), {cache: "no-store", credentials: "same-origin"})
      .then(function (resp) {
        var json = (resp.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        if (resp.ok && !json || resp.status === 404 || resp.status === 405) return null;  // not a live page (a POST's answer, the login)
        if (!resp.ok) throw new Error(resp.status);
        return resp.json();
      })
      .then(function (data) {
        if (data === null) { stopped = true; return; }
        if (offline) offline.hidden = true;
        Object.keys(data.regions || {}).forEach(function (id) {
          var el = document.getElementById(id);
          if (el && el.hasAttribute("data-live")) put(el, data.regions[id]);
        });
      })
      .catch(function () { if (offline) offline.hidden = false; })
      .then(function () { if (!stopped) setTimeout(poll, 1000); });
  }
  setTimeout(poll, 1000);
})();

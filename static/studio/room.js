/* A review room (projects/review/rooms.py): everyone's player follows the presenter's.
 *
 * The room's state (presenter, position, playing, when) arrives in one region, #room-state-<id>: drawn in the
 * page for a late joiner, then redrawn by the project's live channel (live.js) whenever the presenter's player
 * moves. A follower's page moves its player there, at the presenter's speed; the presenter's page sends each play,
 * pause, seek, frame step and change of speed as a numbered event (a stale one is ignored by the server), at most ten a second.
 * On the compare page both players follow, and the presenter's view (side by side, wipe, overlay) is the room's.
 * On Play all the sequence follows: the scene playing, the moment in it, play and pause (review.js's box.studioCut),
 * whether the presenter moved it with Play all's own controls or with its player's (frame steps, J/K/L, arrow keys).
 */
(function () {
  "use strict";

  var SEND_GAP_MS = 100;     // at most ten events a second; the last one always goes
  var DRIFT_SECONDS = 0.25;  // a follower that plays along is only moved when it drifts further than this

  var bar = document.querySelector("[data-room]");
  // The take's player, or the compare page's two (review.js keeps them together; the left one leads).
  var videos = Array.prototype.slice.call(document.querySelectorAll("[data-review-video]"));
  if (!videos.length) videos = Array.prototype.slice.call(document.querySelectorAll("[data-compare-video]"));
  var video = videos[0];
  var cutBox = document.querySelector("[data-cut]");
  if (!bar || !(video || cutBox)) return;
  if (cutBox && !cutBox.studioCut) {
    // review.js sets Play all up once the page is read (its listener came first): the room starts after it.
    document.addEventListener("DOMContentLoaded", function () { if (cutBox.studioCut) start(); });
    return;
  }
  start();
  function start() {
    // A compare room: the presenter's view (side by side, wipe, overlay) is the room's too.
    var modes = Array.prototype.slice.call(document.querySelectorAll("[data-compare-mode]"));
    function mode() {
      var chosen = modes.filter(function (radio) { return radio.checked; })[0];
      return chosen ? chosen.value : "";
    }

    var me = (document.getElementById("live") || { dataset: {} }).dataset.me || "";
    var seq = 0, state = null, applied = "", lastSent = 0, timer = null, ended = false;
    // The presenter's drawing on the frame (player.js), and what the room was last sent of it: a paused player sends
    // it when they differ (playing on clears it on the server, so pausing again shows it once more).
    var drawing = "", drawingSent = "";
    // The server's clock against this browser's: how long a playing room has played since its state was taken.
    var offset = (parseFloat(bar.dataset.serverNow) || Date.now()) - Date.now();

    function region() { return document.querySelector("[data-room-state]"); }
    function presenting() { return !!state && !ended && me !== "" && String(state.presenter) === me; }

    function csrfHeaders() {
      var headers = { "Content-Type": "application/x-www-form-urlencoded" };
      var csrf = (document.body.getAttribute("hx-headers") || "").match(/"X-CSRFToken":\s*"([^"]+)"/);
      var input = document.querySelector("[name=csrfmiddlewaretoken]");
      if (csrf) headers["X-CSRFToken"] = csrf[1];
      else if (input) headers["X-CSRFToken"] = input.value;
      return headers;
    }

    // --- the presenter: each move of the player, numbered ---------------------------------------
    function send() {
      timer = null;
      if (!presenting()) return;
      lastSent = Date.now();
      seq += 1;
      var now = current();
      var body = new URLSearchParams({ seq: String(seq), position: String(now.position), playing: now.playing ? "1" : "0" });
      if (modes.length) body.set("mode", mode());
      if (video) body.set("rate", String(video.playbackRate || 1));  // at 2×, the room moves two seconds a second
      if (cutBox) body.set("scene", now.scene);
      var before = drawingSent;
      if (!video) { /* Play all: no drawing over the sequence */ } else if (!video.paused) drawingSent = "";
      else if (drawing !== drawingSent) { body.set("drawing", drawing); drawingSent = drawing; }
      fetch(bar.dataset.stateUrl, { method: "POST", body: body, headers: csrfHeaders(), credentials: "same-origin" })
        .then(function (response) {
          if (response.status === 429) { drawingSent = before; schedule(1000); }  // the latest state goes again in a second
          else if (response.status === 422) {
            response.text().then(function (message) { say(message); });
          } else if (response.ok) say("");
        }).catch(function () { drawingSent = before; schedule(1000); });
    }

    function schedule(wait) {
      if (timer !== null) return;
      var left = wait != null ? wait : Math.max(0, SEND_GAP_MS - (Date.now() - lastSent));
      timer = window.setTimeout(send, left);
    }

    // Where the presenter's player is: the take's (the compare's left), or Play all's scene and moment in it.
    function current() {
      if (cutBox) return cutBox.studioCut.state();
      return { position: video.currentTime, playing: !video.paused, scene: "" };
    }
    if (video) {
      ["play", "pause", "seeked", "ratechange"].forEach(function (name) {
        video.addEventListener(name, function () { if (presenting()) schedule(); });
      });
    }
    if (cutBox) cutBox.addEventListener("cutMoved", function () { if (presenting()) schedule(); });
    modes.forEach(function (radio) {
      radio.addEventListener("change", function () { if (presenting()) schedule(); });
    });
    document.addEventListener("drawingChanged", function (event) {
      drawing = (event.detail && event.detail.drawing) || "";
      if (presenting() && video && video.paused) schedule();
    });

    // A drawing the server refused (too large, say) is named in the room's bar; the next accepted one clears it.
    function say(message) {
      var out = bar.querySelector("[data-room-error]");
      if (out) { out.textContent = message; out.hidden = !message; }
    }

    // --- a follower: go where the room is -----------------------------------------------------
    function target(s) {
      var t = s.position;
      if (s.playing) t += Math.max(0, (Date.now() + offset - s.updated_at) / 1000) * (s.rate || 1);
      if (!video) return t;  // Play all: the sequence carries on into the next scenes itself
      var length = video.duration;
      return isFinite(length) && length > 0 ? Math.min(t, length) : t;
    }

    function follow(s) {
      if (cutBox) {
        cutBox.studioCut.follow(s.scene, target(s), !!s.playing, s.playing ? DRIFT_SECONDS : 0.001);
        return;
      }
      if (video.readyState < 1) {
        video.addEventListener("loadedmetadata", function () { if (state === s) follow(s); }, { once: true });
        return;
      }
      var t = target(s), rate = s.rate || 1;
      // The presenter's speed, on the player and in its speed menu (a shuttle's 3× or 4× is not in the menu).
      document.querySelectorAll("[data-testid=player-speed]").forEach(function (menu) {
        Array.prototype.forEach.call(menu.options, function (o) {
          if (parseFloat(o.value) !== rate || menu.value === o.value) return;
          menu.value = o.value;
          menu.dispatchEvent(new Event("change"));  // player.js plays on at it when this page takes the lead
        });
      });
      videos.forEach(function (v) {
        if (v.playbackRate !== rate) v.playbackRate = rate;
        var at = isFinite(v.duration) && v.duration > 0 ? Math.min(t, v.duration) : t;
        if (s.playing) {
          if (Math.abs(v.currentTime - at) > DRIFT_SECONDS) v.currentTime = at;
          if (v.paused && !v.ended) {
            var started = v.play();
            // A browser that plays nothing unasked plays muted: the follower turns the sound on with the player's own control.
            if (started && started.catch) started.catch(function () { v.muted = true; v.play().catch(function () {}); });
          }
        } else {
          if (!v.paused) v.pause();
          if (Math.abs(v.currentTime - at) > 0.001) v.currentTime = at;
        }
      });
      var radio = modes.filter(function (r) { return r.value === s.mode; })[0];
      if (radio && !radio.checked) {
        radio.checked = true;
        radio.dispatchEvent(new Event("change", { bubbles: true }));  // player.js lays the compare out in that view
      }
    }

    function show() {
      var el = region();
      if (!el) return;
      var mine = presenting();
      el.querySelectorAll("[data-room-me]").forEach(function (n) { n.hidden = !mine; });
      el.querySelectorAll("[data-room-other]").forEach(function (n) { n.hidden = mine; });
      document.querySelectorAll("[data-room-lead]").forEach(function (f) { f.hidden = mine || ended; });
      document.querySelectorAll("[data-room-presenter-only]").forEach(function (f) { f.hidden = !mine; });
    }

    function read() {
      var el = region();
      if (!el) return;
      var s;
      try { s = JSON.parse(el.dataset.roomState || "null"); } catch (e) { return; }
      if (!s) return;
      var key = [s.seq, s.presenter, s.updated_at, s.closed].join(":");
      if (key === applied) return;
      applied = key;
      state = s;
      ended = !!s.closed;
      if (String(s.take) !== bar.dataset.roomTake && !ended) {
        window.location.reload();  // the presenter switched takes: the room's page shows the one it watches now
        return;
      }
      seq = Math.max(seq, s.seq);  // a new presenter numbers on from the room's last event
      show();
      var mine = presenting();
      if (mine) drawingSent = JSON.stringify(s.drawing || []) === "[]" ? "" : drawingSent;
      else say("");
      document.dispatchEvent(new CustomEvent("roomDrawing", { detail: { shapes: mine || ended ? [] : (s.drawing || []) } }));
      if (!mine && !ended) follow(s);
    }

    document.addEventListener("htmx:oobAfterSwap", read);
    document.addEventListener("htmx:afterSwap", read);
    read();
  }
})();

// The frame-accurate player and drawing on the frame.
//
// Every page with takes to watch (review, compare, Play all, the guest page) gets a bar
// under its player: SMPTE timecode at the take's frame rate (data-fps, probed from the
// delivered file) plus the frame number, frame and second steps, J/K/L shuttle, I/O range
// with loop, speed, and `?` for the shortcuts. Shortcuts never fire while typing.
//
// On a take under review, a reviewer pauses, presses "Draw on frame" and draws: freehand
// (pointer pressure, smoothed), arrow, rectangle, ellipse, text, in the palette's colours,
// with undo. The shapes ride along with the comment as JSON, coordinates 0..1 of the frame
// (checked strictly on the server, projects/review/drawing.py). A saved drawing shows over the
// video while playback is at its comment's moment or range, and while its comment is hovered.
//
// Strict CSP: no inline styles in templates; everything visual is set here via CSSOM or classes.
(function () {
  "use strict";

  // [colour, test name, the name a person reads (in their language, from the JavaScript catalog)]
  var PALETTE = [["#e53935", "red", gettext("Red")], ["#fdd835", "yellow", gettext("Yellow")],
                 ["#43a047", "green", gettext("Green")], ["#1e88e5", "blue", gettext("Blue")],
                 ["#ffffff", "white", gettext("White")], ["#000000", "black", gettext("Black")]];
  var TOOLS = [["pen", gettext("Freehand")], ["arrow", gettext("Arrow")], ["rect", gettext("Rectangle")],
               ["ellipse", gettext("Ellipse")], ["text", gettext("Text")]];
  var SPEEDS = [0.25, 0.5, 0.75, 1, 1.5, 2];
  var HOLD = 1.0;            // seconds a point comment's drawing stays up during playback
  var MAX_PEN_POINTS = 1000; // as projects/review/drawing.py
  var SHORTCUTS = [
    ["J / K / L", gettext("Play backwards / pause / play (press L or J again for 2×, 4×)")],
    ["← / →", gettext("One frame back / forward")],
    ["Shift + ← / →", gettext("One second back / forward")],
    ["I / O", gettext("Set the start / end of a range (fills the comment's At / Until)")],
    ["C", gettext("Comment at this moment")],
    ["?", gettext("Show or hide these shortcuts")],
  ];

  function typing(event) {
    var t = event.target;
    return !!t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName || ""));
  }

  function make(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) node.textContent = text;
    return node;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function fpsOf(video) { var f = parseFloat(video && video.dataset.fps); return f > 0 ? f : 24; }
  function frameOf(t, fps) { return Math.floor(Math.max(t || 0, 0) * fps + 1e-3); }

  // HH:MM:SS:FF (non-drop-frame: 29.97 counts 30 frames a second, as editors expect).
  function smpte(t, fps) {
    var base = Math.round(fps), n = frameOf(t, fps);
    var secs = Math.floor(n / base);
    return pad(Math.floor(secs / 3600)) + ":" + pad(Math.floor(secs / 60) % 60) + ":" + pad(secs % 60) + ":" + pad(n % base);
  }

  // review.js writes the compare and Play all clocks with it: one way of writing a moment on every page.
  window.studioTimecode = function (t, fps) { return smpte(t, fps > 0 ? fps : 24); };

  var players = [], active = null;

  // --- Player: one lead video (and, in compare, the ones that follow it) ---
  function Player(box, getVideos, anchor) {
    var self = this;
    this.box = box;
    this.getVideos = getVideos;
    this.shuttle = 0;
    this.rate = 1;
    this.inPoint = null;
    this.outPoint = null;
    this.reverse = 0;  // a token: stepping backwards runs while it is unchanged
    this.listeners = [];
    this.buildBar(anchor);
    var media = Array.prototype.slice.call(box.querySelectorAll("video"));
    media.forEach(function (v) {
      ["timeupdate", "seeked", "loadedmetadata", "pause", "play", "ratechange"].forEach(function (name) {
        v.addEventListener(name, function () { if (v === self.lead()) self.update(); });
      });
      // A callback per presented frame where the browser offers it: the timecode follows the picture.
      if (v.requestVideoFrameCallback) {
        var onFrame = function () { if (v === self.lead()) self.update(); v.requestVideoFrameCallback(onFrame); };
        v.requestVideoFrameCallback(onFrame);
      }
    });
    box.addEventListener("pointerdown", function () { active = self; });
    box.addEventListener("focusin", function () { active = self; });
    players.push(this);
    this.update();
  }

  Player.prototype.lead = function () { return this.getVideos()[0]; };
  Player.prototype.fps = function () { return fpsOf(this.lead()); };
  Player.prototype.time = function () { var v = this.lead(); return v ? v.currentTime : 0; };
  Player.prototype.duration = function () {
    var v = this.lead();
    return (v && isFinite(v.duration) && v.duration) || parseFloat(v && v.dataset.duration) || 0;
  };

  Player.prototype.buildBar = function (anchor) {
    var self = this;
    var bar = make("div", {"class": "player-bar row", "data-player-bar": ""});
    this.timecode = make("output", {"class": "timecode-smpte", "data-testid": "timecode", "title": gettext("Timecode (HH:MM:SS:FF)")}, "00:00:00:00");
    this.frame = make("output", {"data-testid": "frame-number"}, "0");
    var frameLabel = make("span", {"class": "muted"}, gettext("frame") + " ");
    frameLabel.appendChild(this.frame);
    var back = make("button", {"type": "button", "title": gettext("One frame back (←)"), "aria-label": gettext("One frame back")}, "◀︎|");
    var fwd = make("button", {"type": "button", "title": gettext("One frame forward (→)"), "aria-label": gettext("One frame forward"), "data-testid": "frame-forward"}, "|▶︎");
    back.addEventListener("click", function () { self.stepFrames(-1); });
    fwd.addEventListener("click", function () { self.stepFrames(1); });
    this.speed = make("select", {"data-testid": "player-speed", "aria-label": gettext("Speed")});
    SPEEDS.forEach(function (s) {
      var o = make("option", {"value": String(s)}, s + "×");
      if (s === 1) o.selected = true;
      self.speed.appendChild(o);
    });
    this.speed.addEventListener("change", function () {
      self.rate = parseFloat(self.speed.value) || 1;
      // The speed is the player's, whichever way it is then played (its own control, Space, L).
      if (self.shuttle > 0) self.setShuttle(1);
      else self.getVideos().forEach(function (v) { v.playbackRate = self.rate; });
    });
    var setIn = make("button", {"type": "button", "title": gettext("Start of the range (I)"), "data-testid": "set-in"}, "I");
    var setOut = make("button", {"type": "button", "title": gettext("End of the range (O)"), "data-testid": "set-out"}, "O");
    setIn.addEventListener("click", function () { self.markIn(); });
    setOut.addEventListener("click", function () { self.markOut(); });
    this.range = make("output", {"data-testid": "player-range", "class": "muted"}, gettext("no range"));
    var loopLabel = make("label", {});
    this.loopBox = make("input", {"type": "checkbox", "data-testid": "player-loop"});
    loopLabel.appendChild(this.loopBox);
    loopLabel.appendChild(document.createTextNode(" " + gettext("Loop range")));
    this.loopBox.addEventListener("change", function () { self.update(); });
    this.shuttleOut = make("output", {"data-testid": "player-shuttle", "class": "muted"}, "");
    // Named in words (a "?" alone reads as "question mark"); the name keeps the "?" it shows.
    var help = make("button", {"type": "button", "title": gettext("Keyboard shortcuts (?)"), "aria-label": gettext("Keyboard shortcuts (?)"),
                               "aria-keyshortcuts": "?", "aria-expanded": "false", "data-testid": "player-help-toggle"}, "?");
    help.addEventListener("click", function () { self.toggleHelp(); });
    this.helpButton = help;
    [this.timecode, frameLabel, back, fwd, this.speed, setIn, setOut, this.range, loopLabel, this.shuttleOut, help]
      .forEach(function (n) { bar.appendChild(n); });
    this.help = make("div", {"class": "player-help card", "data-testid": "player-help", "role": "dialog", "aria-label": gettext("Keyboard shortcuts")});
    this.help.hidden = true;
    var list = make("dl", {});
    SHORTCUTS.forEach(function (pair) {
      var dt = make("dt", {}); dt.appendChild(make("kbd", {}, pair[0]));
      list.appendChild(dt); list.appendChild(make("dd", {}, pair[1]));
    });
    this.help.appendChild(make("h3", {}, gettext("Keyboard shortcuts")));
    this.help.appendChild(list);
    this.help.appendChild(make("p", {"class": "muted"}, gettext("They do nothing while you type in a field.")));
    anchor.parentNode.insertBefore(bar, anchor.nextSibling);
    bar.parentNode.insertBefore(this.help, bar.nextSibling);
    this.bar = bar;
  };

  Player.prototype.toggleHelp = function (show) {
    this.help.hidden = show === undefined ? !this.help.hidden : !show;
    this.helpButton.setAttribute("aria-expanded", String(!this.help.hidden));
  };

  Player.prototype.onTime = function (fn) { this.listeners.push(fn); };

  Player.prototype.update = function () {
    var t = this.time(), fps = this.fps();
    var v = this.lead();
    // Loop the range: back to I when playback passes O.
    if (this.loopBox.checked && this.inPoint != null && this.outPoint != null && v && !v.paused && t >= this.outPoint) {
      this.seek(this.inPoint);
      t = this.inPoint;
    }
    this.timecode.textContent = smpte(t, fps);
    this.frame.textContent = String(frameOf(t, fps));
    this.box.dataset.frame = String(frameOf(t, fps));
    this.listeners.forEach(function (fn) { fn(t); });
  };

  Player.prototype.seek = function (t) {
    var length = this.duration();
    t = Math.max(0, length ? Math.min(t, length) : t);
    this.getVideos().forEach(function (v) { v.currentTime = Math.min(t, (isFinite(v.duration) && v.duration) || t); });
    this.update();
  };

  Player.prototype.pauseAll = function () {
    this.reverse += 1;
    this.getVideos().forEach(function (v) { v.pause(); });
  };

  Player.prototype.stepFrames = function (n) {
    this.stopShuttle();
    var fps = this.fps(), last = Math.max(0, Math.ceil(this.duration() * fps) - 1);
    var target = Math.max(0, Math.min(last || Infinity, frameOf(this.time(), fps) + n));
    // A quarter into the frame: the decoder shows frame `target`, and rounding cannot slip to its neighbour.
    this.seek((target + 0.25) / fps);
  };

  Player.prototype.stepSeconds = function (s) {
    this.stopShuttle();
    this.seek(this.time() + s);
  };

  Player.prototype.stopShuttle = function () {
    this.shuttle = 0;
    this.pauseAll();
    this.shuttleOut.textContent = "";
  };

  Player.prototype.setShuttle = function (s) {
    var self = this;
    this.pauseAll();
    this.shuttle = s;
    this.shuttleOut.textContent = s === 0 ? "" : (s > 0 ? "▶︎ " : "◀︎ ") + Math.abs(s > 0 && s === 1 ? this.rate : s) + "×";
    if (s === 0) {
      // K ends a shuttle: the player's own control plays at the chosen speed again, not at the shuttle's 4×.
      this.getVideos().forEach(function (v) { if (v.playbackRate !== self.rate) v.playbackRate = self.rate; });
      return;
    }
    if (s > 0) {
      var rate = s === 1 ? this.rate : s;
      if (this.loopBox.checked && this.inPoint != null && this.outPoint != null &&
          (this.time() < this.inPoint || this.time() >= this.outPoint)) this.seek(this.inPoint);
      this.getVideos().forEach(function (v) {
        v.playbackRate = rate;
        var p = v.play();
        if (p && p.catch) p.catch(function () {});
      });
      return;
    }
    // Browsers cannot play backwards (negative playbackRate is refused): step back frame by frame.
    var token = this.reverse, speed = -s, fps = this.fps(), lead = this.lead();
    var step = function () {
      if (token !== self.reverse) return;
      var started = performance.now();
      var t = self.time() - speed / fps;
      if (self.loopBox.checked && self.inPoint != null && self.outPoint != null && t < self.inPoint) t = self.outPoint;
      if (t <= 0) { self.seek(0); self.shuttle = 0; self.shuttleOut.textContent = ""; return; }
      lead.addEventListener("seeked", function () {
        setTimeout(step, Math.max(0, 1000 / fps - (performance.now() - started)));
      }, {once: true});
      self.seek(t);
    };
    step();
  };

  Player.prototype.shuttleBy = function (direction) {
    var s = this.shuttle;
    if (direction === 0) return this.setShuttle(0);
    if (direction > 0) return this.setShuttle(s <= 0 ? 1 : Math.min(s * 2, 4));
    return this.setShuttle(s >= 0 ? -1 : Math.max(s * 2, -4));
  };

  Player.prototype.fillForm = function () {
    var round = function (t) { return (Math.round(t * 10) / 10).toFixed(1); };
    var form = this.box.querySelector("[data-comment-form]");
    if (!form) return;
    var at = form.querySelector("[data-at]"), until = form.querySelector("[data-until]");
    if (at && this.inPoint != null) at.value = round(this.inPoint);
    if (until) until.value = this.outPoint != null ? round(this.outPoint) : "";
  };

  Player.prototype.showRange = function () {
    var fps = this.fps();
    this.range.textContent = this.inPoint == null ? gettext("no range") :
      smpte(this.inPoint, fps) + " – " + (this.outPoint == null ? "…" : smpte(this.outPoint, fps));
    this.box.dataset.rangeIn = this.inPoint == null ? "" : String(frameOf(this.inPoint, fps));
    this.box.dataset.rangeOut = this.outPoint == null ? "" : String(frameOf(this.outPoint, fps));
  };

  Player.prototype.markIn = function () {
    this.inPoint = this.time();
    if (this.outPoint != null && this.outPoint <= this.inPoint) this.outPoint = null;
    this.showRange();
    this.fillForm();
  };

  Player.prototype.markOut = function () {
    var t = this.time();
    if (this.inPoint == null) this.inPoint = 0;  // O before I: the range starts at the beginning
    if (t <= this.inPoint) return;
    this.outPoint = t;
    this.showRange();
    this.fillForm();
  };

  document.addEventListener("keydown", function (event) {
    if (typing(event) || event.ctrlKey || event.metaKey || event.altKey || !players.length) return;
    var p = active || players[0];
    var key = event.key;
    var handled = true;
    if (key === "ArrowRight" || key === "ArrowLeft") {
      var sign = key === "ArrowRight" ? 1 : -1;
      if (event.shiftKey) p.stepSeconds(sign); else p.stepFrames(sign);
    } else if (key === "l" || key === "L") p.shuttleBy(1);
    else if (key === "k" || key === "K") p.shuttleBy(0);
    else if (key === "j" || key === "J") p.shuttleBy(-1);
    else if (key === "i" || key === "I") p.markIn();
    else if (key === "o" || key === "O") p.markOut();
    else if (key === "?") p.toggleHelp();
    else if (key === "Escape" && !p.help.hidden) p.toggleHelp(false);
    else handled = false;
    if (handled) event.preventDefault();
  });

  // --- Drawing: shapes over the frame, in 0..1 of the frame ---
  function frameRect(video) {
    var w = video.clientWidth, h = video.clientHeight;
    var vw = video.videoWidth || w, vh = video.videoHeight || h;
    var scale = Math.min(w / vw, h / vh) || 1;
    var fw = vw * scale, fh = vh * scale;
    return {x: (w - fw) / 2, y: (h - fh) / 2, w: fw, h: fh};
  }

  function drawShapes(ctx, shapes, r) {
    var unit = Math.max(2, 0.006 * r.h);
    var px = function (p) { return [r.x + p[0] * r.w, r.y + p[1] * r.h]; };
    shapes.forEach(function (s) {
      ctx.strokeStyle = ctx.fillStyle = s.color;
      ctx.lineCap = ctx.lineJoin = "round";
      ctx.lineWidth = unit;
      var pts = s.points.map(px);
      if (s.kind === "pen") {
        // Width follows pressure; curves run through the midpoints (quadratic smoothing).
        for (var i = 1; i < pts.length; i++) {
          var a = i > 1 ? [(pts[i - 2][0] + pts[i - 1][0]) / 2, (pts[i - 2][1] + pts[i - 1][1]) / 2] : pts[0];
          var b = [(pts[i - 1][0] + pts[i][0]) / 2, (pts[i - 1][1] + pts[i][1]) / 2];
          if (i === pts.length - 1) b = pts[i];
          var pressure = (s.points[i - 1][2] + s.points[i][2]) / 2;
          ctx.lineWidth = unit * (0.4 + 1.6 * pressure);
          ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.quadraticCurveTo(pts[i - 1][0], pts[i - 1][1], b[0], b[1]); ctx.stroke();
        }
      } else if (s.kind === "arrow") {
        var from = pts[0], to = pts[1], angle = Math.atan2(to[1] - from[1], to[0] - from[0]), head = unit * 5;
        ctx.beginPath(); ctx.moveTo(from[0], from[1]); ctx.lineTo(to[0], to[1]);
        ctx.moveTo(to[0] - head * Math.cos(angle - 0.45), to[1] - head * Math.sin(angle - 0.45));
        ctx.lineTo(to[0], to[1]);
        ctx.lineTo(to[0] - head * Math.cos(angle + 0.45), to[1] - head * Math.sin(angle + 0.45));
        ctx.stroke();
      } else if (s.kind === "rect") {
        ctx.strokeRect(Math.min(pts[0][0], pts[1][0]), Math.min(pts[0][1], pts[1][1]),
                       Math.abs(pts[1][0] - pts[0][0]), Math.abs(pts[1][1] - pts[0][1]));
      } else if (s.kind === "ellipse") {
        ctx.beginPath();
        ctx.ellipse((pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2,
                    Math.abs(pts[1][0] - pts[0][0]) / 2, Math.abs(pts[1][1] - pts[0][1]) / 2, 0, 0, 2 * Math.PI);
        ctx.stroke();
      } else if (s.kind === "text") {
        ctx.font = "bold " + Math.max(12, Math.round(0.05 * r.h)) + "px sans-serif";
        ctx.textBaseline = "top";
        ctx.lineWidth = Math.max(2, unit * 0.8);
        ctx.strokeStyle = s.color === "#000000" ? "#ffffff" : "#000000";
        ctx.strokeText(s.text, pts[0][0], pts[0][1]);
        ctx.fillText(s.text, pts[0][0], pts[0][1]);
      }
    });
  }

  function setupDrawing(box, player) {
    var video = box.querySelector("[data-review-video]");
    var stage = make("div", {"class": "player-stage", "data-stage": ""});
    video.parentNode.insertBefore(stage, video);
    stage.appendChild(video);
    var canvas = make("canvas", {"class": "draw-layer", "data-draw-layer": "", "data-testid": "draw-layer", "data-shapes": "0"});
    stage.appendChild(canvas);
    var input = box.querySelector("[data-comment-form] [data-drawing-input]");
    var draft = [], current = null, drawing = false, hover = null, tool = "pen", color = PALETTE[0][0];
    var parsed = new WeakMap();
    // In a review room, the presenter's drawing as room.js is told it (shown over a follower's paused frame).
    var room = [];
    document.addEventListener("roomDrawing", function (event) {
      room = (event.detail && event.detail.shapes) || [];
      render();
    });
    if (input && input.value) {
      try { draft = JSON.parse(input.value) || []; } catch (e) { draft = []; }
    }

    function saved(el) {
      if (!parsed.has(el)) {
        var shapes = [];
        try { shapes = JSON.parse(el.dataset.drawing) || []; } catch (e) { shapes = []; }
        parsed.set(el, shapes);
      }
      return parsed.get(el);
    }

    function render() {
      var w = video.clientWidth, h = video.clientHeight, dpr = window.devicePixelRatio || 1;
      if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
        canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
        canvas.style.width = w + "px"; canvas.style.height = h + "px";
      }
      var ctx = canvas.getContext("2d");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      var shapes = [], shown = [];
      if (hover) {
        shapes = saved(hover); shown = [hover.id];
      } else if (drawing || draft.length) {
        shapes = draft.concat(current ? [current] : []);
      } else {
        shapes = room.slice();
        if (room.length) shown.push("room");
        var t = player.time(), frame = 1 / player.fps();
        box.querySelectorAll("[data-drawing]").forEach(function (el) {
          var at = parseFloat(el.dataset.drawingAt), until = parseFloat(el.dataset.drawingUntil);
          var end = isNaN(until) ? at + HOLD : until;
          if (t >= at - frame / 2 && t <= end) { shapes = shapes.concat(saved(el)); shown.push(el.id); }
        });
      }
      drawShapes(ctx, shapes, frameRect(video));
      canvas.dataset.shapes = String(shapes.length);
      canvas.dataset.showing = shown.join(" ");
    }
    player.onTime(render);
    window.addEventListener("resize", render);
    video.addEventListener("loadedmetadata", render);

    // Hovering a comment with a drawing shows it over the frame.
    box.addEventListener("mouseover", function (event) {
      var el = event.target.closest && event.target.closest("[data-drawing]");
      if (el !== hover) { hover = el; render(); }
    });
    box.addEventListener("mouseleave", function () { if (hover) { hover = null; render(); } });
    document.body.addEventListener("htmx:afterSwap", function () { hover = null; render(); });

    if (!input) { render(); return; }  // a page without a comment form only shows drawings

    // The tools.
    var tools = make("div", {"class": "draw-tools row", "data-draw-tools": ""});
    var toggle = make("button", {"type": "button", "aria-pressed": "false", "data-testid": "draw-toggle"}, gettext("Draw on frame"));
    var kit = make("span", {"class": "draw-kit row"});
    kit.hidden = true;
    var toolButtons = TOOLS.map(function (pair) {
      var b = make("button", {"type": "button", "data-tool": pair[0], "aria-pressed": String(pair[0] === tool),
                              "data-testid": "draw-tool-" + pair[0]}, pair[1]);
      kit.appendChild(b);
      return b;
    });
    var swatches = PALETTE.map(function (pair) {
      var b = make("button", {"type": "button", "class": "swatch", "data-color": pair[0], "aria-label": pair[2],
                              "title": pair[2], "aria-pressed": String(pair[0] === color), "data-testid": "draw-color-" + pair[1]});
      b.style.backgroundColor = pair[0];
      kit.appendChild(b);
      return b;
    });
    var text = make("input", {"type": "text", "maxlength": "200", "placeholder": gettext("Text, then click the frame"),
                              "aria-label": gettext("Text to place on the frame"), "data-testid": "draw-text"});
    var undo = make("button", {"type": "button", "data-testid": "draw-undo", "title": gettext("Undo (Ctrl+Z)")}, gettext("Undo"));
    var clear = make("button", {"type": "button", "data-testid": "draw-clear"}, gettext("Clear"));
    var count = make("output", {"class": "muted", "data-testid": "draw-count"}, "");
    [text, undo, clear, count].forEach(function (n) { kit.appendChild(n); });
    tools.appendChild(toggle); tools.appendChild(kit);
    stage.parentNode.insertBefore(tools, player.bar);

    function sync() {
      input.value = draft.length ? JSON.stringify(draft) : "";
      // A review room's presenter shows the drawing to the room (room.js sends it).
      box.dispatchEvent(new CustomEvent("drawingChanged", {bubbles: true, detail: {drawing: input.value}}));
      count.textContent = draft.length ? interpolate(ngettext("%s shape with this comment", "%s shapes with this comment", draft.length), [draft.length]) : "";
      render();
    }
    function setDrawing(on) {
      drawing = on;
      toggle.setAttribute("aria-pressed", String(on));
      toggle.textContent = on ? gettext("Done drawing") : gettext("Draw on frame");
      kit.hidden = !on;
      canvas.classList.toggle("is-drawing", on);
      if (on) {
        player.stopShuttle();
        // The drawing belongs to this frame: the comment is anchored here.
        var at = box.querySelector("[data-comment-form] [data-at]");
        if (at) at.value = (Math.round(player.time() * 10) / 10).toFixed(1);
      }
      render();
    }
    toggle.addEventListener("click", function () { setDrawing(!drawing); });
    toolButtons.forEach(function (b) {
      b.addEventListener("click", function () {
        tool = b.dataset.tool;
        toolButtons.forEach(function (x) { x.setAttribute("aria-pressed", String(x === b)); });
        if (tool === "text") text.focus();
      });
    });
    swatches.forEach(function (b) {
      b.addEventListener("click", function () {
        color = b.dataset.color;
        swatches.forEach(function (x) { x.setAttribute("aria-pressed", String(x === b)); });
      });
    });
    undo.addEventListener("click", function () { draft.pop(); sync(); });
    clear.addEventListener("click", function () { draft = []; sync(); });
    document.addEventListener("keydown", function (event) {
      if (drawing && !typing(event) && (event.ctrlKey || event.metaKey) && (event.key === "z" || event.key === "Z")) {
        event.preventDefault(); draft.pop(); sync();
      }
    });

    function point(event) {
      var box = canvas.getBoundingClientRect(), r = frameRect(video);
      var clamp = function (n) { return Math.round(Math.max(0, Math.min(1, n)) * 10000) / 10000; };
      return [clamp((event.clientX - box.left - r.x) / r.w), clamp((event.clientY - box.top - r.y) / r.h)];
    }
    function pressure(event) {
      // A mouse reports 0.5 while pressed; a pen or finger its real pressure (0 if it cannot tell).
      return event.pointerType === "mouse" || !event.pressure ? 0.5 : Math.max(0.05, Math.min(1, event.pressure));
    }
    canvas.addEventListener("pointerdown", function (event) {
      if (!drawing) return;
      event.preventDefault();
      var p = point(event);
      if (tool === "text") {
        var words = text.value.replace(/[\u0000-\u001f\u007f]/g, " ").trim();
        if (!words) { text.focus(); text.placeholder = gettext("Type the text first"); return; }
        draft.push({kind: "text", color: color, points: [p], text: words.slice(0, 200)});
        text.value = "";
        sync();
        return;
      }
      canvas.setPointerCapture(event.pointerId);
      current = tool === "pen" ? {kind: "pen", color: color, points: [[p[0], p[1], pressure(event)]]}
                               : {kind: tool, color: color, points: [p, p]};
      render();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!current) return;
      if (current.kind !== "pen") { current.points[1] = point(event); render(); return; }
      var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      (events.length ? events : [event]).forEach(function (e) {
        if (current.points.length >= MAX_PEN_POINTS) return;
        var last = current.points[current.points.length - 1], p = point(e);
        // Smoothing: each point moves halfway from the last one, pressure a third of the way.
        var x = last[0] + (p[0] - last[0]) * 0.5, y = last[1] + (p[1] - last[1]) * 0.5;
        if (Math.hypot(x - last[0], y - last[1]) < 0.002) return;
        var pr = last[2] + (pressure(e) - last[2]) * 0.35;
        current.points.push([Math.round(x * 10000) / 10000, Math.round(y * 10000) / 10000, Math.round(pr * 1000) / 1000]);
      });
      render();
    });
    function finish() {
      if (!current) return;
      var shape = current;
      current = null;
      if (shape.kind === "pen") {
        if (shape.points.length === 1) shape.points.push(shape.points[0].slice());
        draft.push(shape);
      } else if (Math.hypot(shape.points[1][0] - shape.points[0][0], shape.points[1][1] - shape.points[0][1]) > 0.005) {
        draft.push(shape);
      }
      sync();
    }
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);

    // A saved comment takes its drawing with it.
    document.body.addEventListener("commentSaved", function () { draft = []; setDrawing(false); sync(); });
    sync();
  }

  // --- Compare: side by side, wipe (a draggable divider) or overlay (opacity blend) ---
  function setupCompareModes(box) {
    var sides = box.querySelectorAll(".compare-side");
    if (sides.length < 2) return;
    var frames = Array.prototype.map.call(sides, function (side) {
      var video = side.querySelector("video");
      var frame = make("div", {"class": "compare-frame"});
      video.parentNode.insertBefore(frame, video);
      frame.appendChild(video);
      return frame;
    });
    var divider = make("div", {"class": "compare-divider", "role": "slider", "tabindex": "0", "aria-label": gettext("Wipe position"),
                               "aria-valuemin": "0", "aria-valuemax": "100", "data-testid": "compare-divider"});
    frames[1].appendChild(divider);
    function setWipe(percent) {
      percent = Math.max(0, Math.min(100, percent));
      box.style.setProperty("--wipe", percent + "%");
      divider.setAttribute("aria-valuenow", String(Math.round(percent)));
      divider.dataset.position = percent.toFixed(1);
    }
    setWipe(50);
    var dragging = false;
    function drag(event) {
      var r = frames[1].getBoundingClientRect();
      setWipe(100 * (event.clientX - r.left) / r.width);
    }
    divider.addEventListener("pointerdown", function (event) {
      dragging = true; divider.setPointerCapture(event.pointerId); event.preventDefault();
    });
    divider.addEventListener("pointermove", function (event) { if (dragging) drag(event); });
    divider.addEventListener("pointerup", function () { dragging = false; });
    divider.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      event.preventDefault(); event.stopPropagation();  // the divider's arrows move it, not the frame
      setWipe(parseFloat(divider.dataset.position) + (event.key === "ArrowRight" ? 5 : -5));
    });
    var blend = document.querySelector("[data-compare-blend]");
    var blendLabel = document.querySelector("[data-compare-blend-label]");
    function setBlend() { box.style.setProperty("--blend", String((parseFloat(blend.value) || 0) / 100)); }
    if (blend) { blend.addEventListener("input", setBlend); setBlend(); }
    document.querySelectorAll("[data-compare-mode]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        var mode = radio.value;
        box.classList.toggle("compare--stacked", mode !== "side");
        box.classList.toggle("compare--wipe", mode === "wipe");
        box.classList.toggle("compare--overlay", mode === "overlay");
        box.dataset.mode = mode;
        if (blendLabel) blendLabel.hidden = mode !== "overlay";
      });
    });
  }

  // "Use this frame as the start of scene N+1": the frame the player shows once it has been moved;
  // before that the form sends none, and the next scene starts from the take's last frame.
  function setupStartNext(box, player, video) {
    var form = box.querySelector("[data-start-next]");
    if (!form) return;
    var field = form.querySelector("[data-start-next-frame]");
    var note = form.querySelector("[data-start-next-note]");
    var words = note ? note.textContent : "";
    player.onTime(function (t) {
      var chosen = t > 0 || !video.paused;
      field.value = chosen ? box.dataset.frame : "";
      if (note) note.textContent = chosen ? (form.dataset.chosenWords || "").replace("__N__", box.dataset.frame) : words;
    });
  }

  function init() {
    document.querySelectorAll("[data-review]").forEach(function (box) {
      var video = box.querySelector("[data-review-video][data-player]");
      if (!video) return;
      var player = new Player(box, function () { return [video]; }, video);
      setupDrawing(box, player);
      // The bar sits under the stage the drawing layer built around the video.
      var stage = video.parentNode;
      stage.parentNode.insertBefore(player.bar, stage.nextSibling);
      var tools = box.querySelector("[data-draw-tools]");
      if (tools) stage.parentNode.insertBefore(tools, player.bar.nextSibling);
      player.bar.parentNode.insertBefore(player.help, (tools || player.bar).nextSibling);
      setupStartNext(box, player, video);
      box.dataset.playerReady = "1";
    });
    document.querySelectorAll("[data-compare][data-player-group]").forEach(function (box) {
      var videos = Array.prototype.slice.call(box.querySelectorAll("[data-compare-video]"));
      var controls = box.querySelector(".compare-controls");
      var player = new Player(box, function () { return videos; }, controls);
      setupCompareModes(box);
      box.dataset.playerReady = "1";
      return player;
    });
    document.querySelectorAll("[data-cut][data-player-group]").forEach(function (box) {
      var videos = Array.prototype.slice.call(box.querySelectorAll("[data-cut-video]"));
      new Player(box, function () { return videos.filter(function (v) { return !v.hidden; }).slice(0, 1); },
                 box.querySelector(".cut-screen"));
      box.dataset.playerReady = "1";
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();

// Review players: comment at a timecode, seek from comments and markers,
// compare two takes in sync, and play the approved cut as one.
(function () {
  "use strict";

  // The player's own timecode (HH:MM:SS:FF, player.js, loaded after this file and before any clock ticks).
  function timecode(seconds, fps) {
    return window.studioTimecode(Math.max(seconds || 0, 0), parseFloat(fps) || 24);
  }

  function typing(event) {
    var t = event.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  // --- One take under review (the review page, or each take on a guest page) ---
  function setupReview(box) {
    var video = box.querySelector("[data-review-video]");
    if (!video) return;
    var round = function (t) { return (Math.round(t * 10) / 10).toFixed(1); };

    function setAt(t) {
      box.querySelectorAll("[data-comment-form] [data-at]").forEach(function (input) { input.value = round(t); });
    }
    // A range marked with I/O (player.js) anchors the comment until another is marked.
    var ranged = function () { return !!box.dataset.rangeIn; };
    video.addEventListener("pause", function () { if (!ranged()) setAt(video.currentTime); });
    video.addEventListener("seeked", function () { if (video.paused && !ranged()) setAt(video.currentTime); });

    box.addEventListener("click", function (event) {
      var seek = event.target.closest("[data-seek]");
      if (seek) {
        video.pause();
        video.currentTime = parseFloat(seek.dataset.seek);
        setAt(video.currentTime);
        return;
      }
      var bar = event.target.closest("[data-marker-bar]");
      if (bar && video.duration) {
        var rect = bar.getBoundingClientRect();
        video.pause();
        video.currentTime = Math.max(0, Math.min(1, (event.clientX - rect.left) / rect.width)) * video.duration;
        setAt(video.currentTime);
        var body = box.querySelector("[data-comment-form] textarea");
        if (body) body.focus();
        return;
      }
      var form = event.target.closest("[data-comment-form]");
      if (!form) return;
      if (event.target.closest("[data-mark-at]")) form.querySelector("[data-at]").value = round(video.currentTime);
      if (event.target.closest("[data-mark-until]")) form.querySelector("[data-until]").value = round(video.currentTime);
    });

    // Place the markers once the length is known.
    function placeMarkers() {
      var length = video.duration || parseFloat(video.dataset.duration) || 0;
      if (!length) return;
      box.querySelectorAll("[data-marker-at]").forEach(function (m) {
        var at = parseFloat(m.dataset.markerAt), until = parseFloat(m.dataset.markerUntil || m.dataset.markerAt);
        m.style.left = (100 * at / length) + "%";
        m.style.width = until > at ? (100 * (until - at) / length) + "%" : "";
      });
    }
    video.addEventListener("loadedmetadata", placeMarkers);
    placeMarkers();
    document.body.addEventListener("htmx:afterSwap", placeMarkers);
    box.dataset.ready = "1";
  }

  // --- Links to a moment and a comment: /takes/5/review/?t=1.5#comment-9 (the inbox, emails, a comment's own link) ---
  // The take opens paused at ?t= (or else at the linked comment's moment), the comment in view and marked.
  function linkedComment(hash) {
    var id = /^#comment-\d+$/.test(hash || "") ? hash.slice(1) : null;
    return id && document.getElementById(id);
  }

  function linkedTime(search, comment) {
    var t = parseFloat(new URLSearchParams(search).get("t"));
    if (isFinite(t) && t >= 0) return t;
    var thread = comment && comment.closest(".comment");
    var seek = thread && thread.querySelector("[data-seek]");
    return seek ? parseFloat(seek.dataset.seek) : null;
  }

  function land(url) {
    var comment = linkedComment(url.hash);
    var boxes = document.querySelectorAll("[data-review]");
    var box = comment ? comment.closest("[data-review]") : (boxes.length === 1 ? boxes[0] : null);
    var video = box && box.querySelector("[data-review-video]");
    var t = linkedTime(url.search, comment);
    document.querySelectorAll(".comment--target").forEach(function (el) { el.classList.remove("comment--target"); });
    if (comment) comment.classList.add("comment--target");
    var show = function () { if (comment) comment.scrollIntoView({block: "center"}); };
    // After the players have built their bars (player.js), which moves what is below them.
    requestAnimationFrame(show);
    if (!video || t === null) return;
    var seek = function () {
      video.pause();
      // The browser clamps a time past the end to the end.
      video.currentTime = t;
      show();
    };
    if (video.readyState >= 1) seek(); else video.addEventListener("loadedmetadata", seek, {once: true});
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-comment-link]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    var url = new URL(link.href, location.href);
    if (url.pathname !== location.pathname) return;
    event.preventDefault();  // the same page: no reload, the URL still names the comment (copy, back)
    history.pushState(null, "", url.href);
    land(url);
  });
  // Back and forward between comments, or a comment's #anchor typed or followed (not other anchors).
  window.addEventListener("popstate", function () { if (linkedComment(location.hash)) land(new URL(location.href)); });

  // Press C while a take plays: pause and comment at that moment.
  document.addEventListener("keydown", function (event) {
    if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key !== "c" && event.key !== "C") return;
    var playing = Array.prototype.find.call(document.querySelectorAll("[data-review-video]"), function (v) {
      return !v.paused;
    }) || document.querySelector("[data-review-video]");
    if (!playing) return;
    var box = playing.closest("[data-review]");
    playing.pause();
    var body = box && box.querySelector("[data-comment-form] textarea");
    if (body) { event.preventDefault(); body.focus(); }
  });

  // A saved comment clears its form (an error keeps what was typed).
  document.body && document.body.addEventListener("commentSaved", function () {
    document.querySelectorAll("form.comment-form").forEach(function (f) { f.reset(); });
  });

  // --- Live: a teammate's comments, replies and decisions arrive over the page's stream (live.js) ---
  // Regions are drawn once for everyone who watches (projects/live/review_fragments.py); this page makes
  // them its own, keeps what its person typed, and keeps its comments in time order. The player is never
  // part of what arrives: it plays on where it was.
  function liveElement() { return document.getElementById("live"); }

  function find(root, id) {
    return root.id === id ? root : root.querySelector("#" + CSS.escape(id));
  }

  // What was typed, ticked or opened in a region survives the region being drawn again.
  function carry(from, to) {
    from.querySelectorAll("textarea[id], input[id]").forEach(function (old) {
      var fresh = find(to, old.id);
      if (!fresh) return;
      if (old.type === "checkbox" || old.type === "radio") {
        if (old.checked !== old.defaultChecked) fresh.checked = old.checked;
      } else if (old.value !== old.defaultValue) {
        fresh.value = old.value;
      }
    });
    from.querySelectorAll("details[id]").forEach(function (old) {
      var fresh = find(to, old.id);
      if (fresh) fresh.open = old.open;
    });
  }

  // Drawn for everyone: what only a comment's author may do stays on the author's page alone; forms get
  // this page's CSRF token, and a guest's reply form its link's address.
  function adopt(root) {
    var el = liveElement();
    var me = (el && el.dataset.me) || "";
    root.querySelectorAll("[data-only-for]").forEach(function (node) {
      if (me && node.dataset.onlyFor === me) { node.removeAttribute("data-only-for"); node.hidden = false; }
      else node.remove();
    });
    var headers = {};
    try { headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (e) { headers = {}; }
    root.querySelectorAll('form[method="post"]').forEach(function (form) {
      if (!form.querySelector("[name=csrfmiddlewaretoken]") && headers["X-CSRFToken"]) {
        var input = document.createElement("input");
        input.type = "hidden"; input.name = "csrfmiddlewaretoken"; input.value = headers["X-CSRFToken"];
        form.prepend(input);
      }
      var token = el && el.dataset.guestToken;
      var action = form.getAttribute("action") || "";
      if (token && action.indexOf("/__token__/") !== -1) {
        form.setAttribute("action", action.replace("/__token__/", "/" + encodeURIComponent(token) + "/"));
      }
    });
  }

  // Comments are listed by their moment (those without one last), then by when they were written.
  function order(li) {
    var at = li.dataset.at === "" || li.dataset.at === undefined ? Infinity : parseFloat(li.dataset.at);
    return [at, parseFloat(li.dataset.created) || 0];
  }
  function before(a, b) { var x = order(a), y = order(b); return x[0] < y[0] || (x[0] === y[0] && x[1] < y[1]); }

  function placeInOrder(list, li) {
    var next = Array.prototype.find.call(list.querySelectorAll(":scope > li.comment"), function (other) {
      return before(li, other);
    });
    list.insertBefore(li, next || null);
  }

  document.addEventListener("htmx:oobBeforeSwap", function (evt) {
    var target = evt.detail.target, fragment = evt.detail.fragment;
    if (!target || !fragment || !target.matches) return;
    if (target.matches("ol.comments")) {
      // A thread: in place of this page's copy (it may have posted it itself), else where it belongs in time.
      Array.prototype.slice.call(fragment.children).forEach(function (li) {
        adopt(li);
        var existing = li.id && document.getElementById(li.id);
        if (existing) { carry(existing, li); existing.replaceWith(li); } else placeInOrder(target, li);
        if (window.htmx) htmx.process(li);
      });
      var empty = target.querySelector(":scope > .comments-empty");
      if (empty && target.querySelector(":scope > li.comment")) empty.remove();
      evt.detail.shouldSwap = false;
      return;
    }
    var fresh = fragment.firstElementChild;
    if (fresh && fresh.id && fresh.id === target.id) { adopt(fresh); carry(target, fresh); }
  });

  // --- Compare: two players that play, pause and scrub together ---
  function setupCompare(box) {
    var videos = Array.prototype.slice.call(box.querySelectorAll("[data-compare-video]"));
    var play = box.querySelector("[data-compare-play]");
    var scrub = box.querySelector("[data-compare-scrub]");
    var out = box.querySelector("[data-compare-time]");
    var lead = videos[0];
    var longest = function () { return Math.max.apply(null, videos.map(function (v) { return v.duration || 0; })); };

    play.addEventListener("click", function () {
      if (videos.every(function (v) { return v.paused || v.ended; })) {
        var t = lead.ended ? 0 : lead.currentTime;
        videos.forEach(function (v) { v.currentTime = Math.min(t, v.duration || t); v.play(); });
        play.textContent = gettext("Pause both");
      } else {
        videos.forEach(function (v) { v.pause(); });
        play.textContent = gettext("Play both");
      }
    });
    scrub.addEventListener("input", function () {
      var t = longest() * scrub.value / 1000;
      videos.forEach(function (v) { v.currentTime = Math.min(t, v.duration || t); });
      out.textContent = timecode(t, lead.dataset.fps);
    });
    lead.addEventListener("timeupdate", function () {
      var length = longest();
      if (length) scrub.value = Math.round(1000 * lead.currentTime / length);
      out.textContent = timecode(lead.currentTime, lead.dataset.fps);
      // Keep the second player within a frame or two of the first.
      videos.slice(1).forEach(function (v) {
        if (!v.paused && Math.abs(v.currentTime - lead.currentTime) > 0.08 && lead.currentTime < (v.duration || 0)) {
          v.currentTime = lead.currentTime;
        }
      });
    });
    // The button names what it will do, whoever started or stopped the players (a review room's presenter, say).
    lead.addEventListener("play", function () { play.textContent = gettext("Pause both"); });
    lead.addEventListener("pause", function () {
      if (videos.every(function (x) { return x.paused; })) play.textContent = gettext("Play both");
    });
    videos.forEach(function (v) {
      v.addEventListener("ended", function () {
        if (videos.every(function (x) { return x.ended || x.paused; })) play.textContent = gettext("Play both");
      });
    });
    box.querySelectorAll("[data-compare-audio]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        videos.forEach(function (v, i) { v.muted = String(i) !== radio.value; });
      });
    });
    box.dataset.ready = "1";
  }

  // --- Play all: the whole board in scene order (approved takes, else the newest take, else the scene's
  // card for its length), two players swapped at each cut. The mix (voice-over and bed, made by a worker
  // and swapped in over the live channel) follows the sequence's clock; captions are its WebVTT cues, and until it
  // is made each stop's own, asked for with the stop.
  function parseVtt(text) {
    var cues = [], decode = document.createElement("textarea");
    function at(m, k) { return (+m[k]) * 3600 + (+m[k + 1]) * 60 + (+m[k + 2]) + (+m[k + 3]) / 1000; }
    text.split(/\r?\n\r?\n+/).forEach(function (block) {
      var lines = block.split(/\r?\n/);
      for (var k = 0; k < lines.length; k++) {
        var m = lines[k].match(/^(\d+):(\d\d):(\d\d)\.(\d{3}) --> (\d+):(\d\d):(\d\d)\.(\d{3})/);
        if (m) {
          decode.innerHTML = lines.slice(k + 1).join("\n");  // a textarea's content is text, never markup
          cues.push({start: at(m, 1), end: at(m, 5), text: decode.value});
          break;
        }
      }
    });
    return cues;
  }

  // The page sends the sequence as one script of stops (what plays where and when); the scene list is drawn
  // from it here, one button a stop, with the words the server gave (data-words-*: in the reader's language).
  function cutTimeline(box) {
    var list = box.querySelector("[data-cut-timeline]"), script = document.getElementById(box.dataset.stops);
    if (!list || !script) return [];
    var data = JSON.parse(script.textContent), chips = data.chips || [], words = list.dataset;
    var seconds = function (d) { return d.toFixed(1).replace(".", words.decimal || "."); };
    var chip = function (cls, testid, text) {
      var span = document.createElement("span");
      span.className = cls; span.setAttribute("data-testid", testid); span.textContent = text;
      return span;
    };
    var fragment = document.createDocumentFragment();
    var items = data.stops.map(function (stop, i) {
      var li = document.createElement("li"), button = document.createElement("button"), title = stop.number + ". " + stop.title;
      button.type = "button";
      var attrs = {"data-cut-item": "", "data-index": i, "data-scene": stop.scene, "data-start": stop.start.toFixed(3),
                   "data-duration": stop.duration.toFixed(3), "data-title": title, "data-kind": stop.kind, "data-testid": "cut-scene"};
      if (stop.src) { attrs["data-src"] = stop.src; attrs["data-fps"] = stop.fps.toFixed(3); }
      Object.keys(attrs).forEach(function (k) { button.setAttribute(k, String(attrs[k])); });
      var strong = document.createElement("strong");
      strong.textContent = title;
      button.appendChild(strong);
      button.appendChild(document.createTextNode(" "));
      var length = stop.kind === "card" ? words.wordsCard.replace("__S__", seconds(stop.duration))
        : words.wordsTake.replace("__N__", String(stop.take_number)).replace("__S__", seconds(stop.duration));
      button.appendChild(chip("muted", "cut-length", length));
      button.appendChild(document.createTextNode(" "));
      if (stop.kind === "approved" && chips[stop.chip] && chips[stop.chip].state) {
        var c = chips[stop.chip], span = chip("chip provenance-chip provenance-chip--" + c.state, "provenance-chip", c.label);
        span.dataset.state = c.state;
        if (c.title) span.title = c.title;
        button.appendChild(span);
      } else if (stop.kind === "newest") {
        button.appendChild(chip("chip chip--unapproved", "cut-not-approved", words.wordsNotApproved));
      } else if (stop.kind === "card") {
        button.appendChild(chip("chip", "cut-card-mark", words.wordsNothingFilmed));
      }
      li.appendChild(button);
      fragment.appendChild(li);
      return button;
    });
    list.appendChild(fragment);
    return items;
  }

  function setupCut(box) {
    var items = cutTimeline(box);
    var players = Array.prototype.slice.call(box.querySelectorAll("[data-cut-video]"));
    var card = box.querySelector("[data-cut-card]");
    // A stop's details, asked for as it is about to play (and the next stop's while one plays): a card's title and
    // lines, and the stop's captions until the mix is made. Each stop is asked for once.
    var stopHtml = {}, stopCues = {}, stopAsked = {};
    function askStop(i) {
      if (i < 0 || i >= items.length) return;
      var scene = items[i].dataset.scene;
      if (stopAsked[scene] || !window.fetch) return;
      stopAsked[scene] = true;
      fetch(box.dataset.stopUrl.replace("/stops/0/", "/stops/" + scene + "/"), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          // The studio's own partial, its words escaped by the server's templates; its captions a JSON script.
          var parsed = document.createElement("template");
          parsed.innerHTML = html;
          var data = parsed.content.getElementById("cut-stop-cues");
          stopCues[scene] = data ? JSON.parse(data.textContent) : [];
          if (data) data.remove();
          stopHtml[scene] = parsed.innerHTML;
          if (index === i) { if (isCard(i)) fillCard(i); tick(); }
        })
        .catch(function () { delete stopAsked[scene]; });  // asked again when the stop comes round
    }
    function fillCard(i) {
      var scene = items[i].dataset.scene;
      card.dataset.index = String(i);
      card.dataset.scene = scene;
      if (stopHtml[scene] != null) {
        card.innerHTML = stopHtml[scene];
        card.dataset.loaded = scene;
      } else {
        card.textContent = items[i].dataset.title;  // the title while its lines come
        delete card.dataset.loaded;
        askStop(i);
      }
    }
    // The words spoken at `t`: the mix's captions once it is made, else the playing stop's own (cut at its end).
    function cueAt(t) {
      if (mixCues) return mixCues.filter(function (c) { return t >= c.start && t < c.end; })[0];
      var own = stopCues[items[index].dataset.scene] || [], at = t - start(index), end = length(index);
      var c = own.filter(function (c) { return c.start < end && at >= c.start && at < Math.min(c.end, end); })[0];
      return c && {text: (c.speaker + ": " + c.text).replace(/\s+/g, " ").trim()};
    }
    function askAhead(i) { askStop(i); askStop(i + 1); }
    var title = box.querySelector("[data-cut-title]");
    var caption = box.querySelector("[data-cut-caption]");
    var clock = box.querySelector("[data-cut-time]");
    var play = box.querySelector("[data-cut-play]");
    var seeker = box.querySelector("[data-cut-seek]");
    var dragging = false;
    var labels = {play: box.dataset.labelPlay || gettext("Play all"), pause: box.dataset.labelPause || gettext("Pause")};
    var volume = Math.max(0, Math.min(1, parseFloat(box.dataset.takeVolume) || 1));
    var index = 0, active = players[0], spare = players[1], playing = false;
    var cardFrom = 0, cardSince = null, mixCues = null, knownSound = null;
    // Each scene's width on the timeline is its share of the cut (set here: the CSP forbids style="").
    items.forEach(function (item) { item.parentNode.style.flexGrow = item.dataset.duration; });
    players.forEach(function (p) { p.volume = volume; });

    function isCard(i) { return items[i].dataset.kind === "card"; }
    function sound() { return box.querySelector("[data-cut-audio]"); }
    function local() {
      if (isCard(index)) return cardFrom + (cardSince === null ? 0 : (performance.now() - cardSince) / 1000);
      return active.currentTime || 0;
    }
    function start(i) { return parseFloat(items[i].dataset.start); }
    function length(i) { return parseFloat(items[i].dataset.duration); }
    function now() { return start(index) + local(); }
    // The scene playing at `t` seconds into the sequence (the last one past its end).
    function indexAt(t) {
      for (var k = items.length - 1; k > 0; k--) { if (t >= start(k)) return k; }
      return 0;
    }
    // A review room (room.js) hears each move of this sequence: a scene shown, play, pause, a seek.
    function moved() { box.dispatchEvent(new CustomEvent("cutMoved", { bubbles: true })); }
    function loadCaptions() {
      if (!box.dataset.captions || !window.fetch) return;
      fetch(box.dataset.captions, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (text) { mixCues = parseVtt(text || ""); box.dataset.captionCount = String(mixCues.length); tick(); });
    }
    function tick() {
      var t = now();
      // player.js (loaded after this file) writes timecodes; until it has, the server's 00:00:00:00 stands.
      if (window.studioTimecode) clock.textContent = timecode(t, clock.dataset.fps);
      box.dataset.time = t.toFixed(2);
      if (seeker && !dragging) seeker.value = String(t);
      var cue = cueAt(t);
      caption.textContent = cue ? cue.text : "";
      caption.hidden = !cue;
      var audio = sound();
      if (audio !== knownSound) { knownSound = audio; if (audio) loadCaptions(); }  // the mix arrived: its exact times
      if (audio) {
        if (Math.abs(audio.currentTime - t) > 0.3) audio.currentTime = t;
        if (playing && audio.paused) audio.play().catch(function () {});
        if (!playing && !audio.paused) audio.pause();
      }
      if (playing && isCard(index) && local() >= parseFloat(items[index].dataset.duration)) next();
    }
    // A seek this sequence makes itself (its seek bar, a scene, a room's presenter): the take's `seeked` is no news.
    function placeAt(player, at) { player.studioPlaced = at; player.currentTime = at; }
    function load(player, i) {
      if (i < items.length && !isCard(i) && player.dataset.index !== String(i)) {
        player.src = items[i].dataset.src;
        player.dataset.fps = items[i].dataset.fps || "";  // the frame-accurate bar counts this take's frames
        player.dataset.index = String(i);
        player.load();
      }
    }
    function show(i, autoplay) {
      index = i; cardFrom = 0; cardSince = null;
      card.hidden = !isCard(i);
      if (isCard(i)) {
        fillCard(i);
        players.forEach(function (p) { p.pause(); p.hidden = true; });
        if (autoplay) cardSince = performance.now();
      } else {
        if (spare.dataset.index === String(i)) { var t = active; active = spare; spare = t; }
        load(active, i);
        active.hidden = false; spare.hidden = true; spare.pause();
        active.removeAttribute("data-testid"); spare.removeAttribute("data-testid");
        active.setAttribute("data-testid", "cut-player");
        if (autoplay) { placeAt(active, 0); active.play().catch(function () {}); }
      }
      items.forEach(function (it, k) { it.setAttribute("aria-current", k === i ? "true" : "false"); });
      title.textContent = items[i].dataset.title;
      box.dataset.index = String(i);
      box.dataset.kind = items[i].dataset.kind;
      for (var k = i + 1; k < items.length; k++) { if (!isCard(k)) { load(spare, k); break; } }  // ready before the cut
      askAhead(i);
      tick();
      moved();
    }
    // Scene `i`, `at` seconds into it, playing or paused: a seek within the sequence, or where a review room is.
    function go(i, at, run) {
      if (i !== index) show(i, false);
      at = Math.max(0, Math.min(at, length(i)));
      delete box.dataset.finished;
      playing = run;
      play.textContent = run ? labels.pause : labels.play;
      if (isCard(i)) {
        cardFrom = at; cardSince = run ? performance.now() : null;
      } else {
        var player = active;
        var place = function () {
          if (Math.abs(player.currentTime - at) > 0.001) placeAt(player, at);
          // A browser that plays nothing unasked (a room's follower) plays muted: the sound is one click away.
          if (run && player.paused) player.play().catch(function () { player.muted = true; player.play().catch(function () {}); });
          if (!run && !player.paused) player.pause();
          tick();
        };
        // A take just loaded can be placed once its length is known (a time set earlier may be lost).
        if (player.readyState >= 1) place(); else player.addEventListener("loadedmetadata", place, { once: true });
      }
      tick();
      moved();
    }
    function next() {
      if (index + 1 < items.length) show(index + 1, playing);
      else { playing = false; play.textContent = labels.play; box.dataset.finished = "1"; tick(); moved(); }
    }
    function pause() {
      playing = false;
      if (isCard(index)) { cardFrom = local(); cardSince = null; } else active.pause();
      play.textContent = labels.play;
      tick();
      moved();
    }
    function resume() {
      playing = true;
      if (isCard(index)) cardSince = performance.now(); else active.play().catch(function () {});
      play.textContent = labels.pause;
      tick();
      moved();
    }
    players.forEach(function (p) {
      p.addEventListener("ended", function () { if (p === active && !isCard(index)) next(); });
      p.addEventListener("timeupdate", function () { if (p === active) tick(); });
      // player.js's own controls (frame steps, J/K/L, the arrow keys) move the take under this sequence: the
      // sequence takes up what its player does, and a review room hears it. What this file did itself is not
      // told twice: its play and pause already match `playing`, its own seeks are known by where they land.
      ["play", "pause", "seeked", "ratechange"].forEach(function (name) {
        p.addEventListener(name, function () {
          if (p !== active || isCard(index)) return;
          if (name === "pause" && p.ended) return;  // the take ran out: `ended` goes on to the next scene
          if (name === "seeked") {
            var own = p.studioPlaced != null && Math.abs(p.currentTime - p.studioPlaced) < 0.001;
            p.studioPlaced = null;
            if (own) return;
          }
          var runs = !p.paused;
          if ((name === "play" || name === "pause") && runs === playing) return;
          if (runs !== playing) { playing = runs; play.textContent = runs ? labels.pause : labels.play; }
          tick();
          moved();
        });
      });
    });
    items.forEach(function (it, k) { it.addEventListener("click", function () { playing = true; show(k, true); play.textContent = labels.pause; }); });
    play.addEventListener("click", function () {
      if (playing) { pause(); return; }
      if (box.dataset.finished) { delete box.dataset.finished; playing = true; show(0, true); play.textContent = labels.pause; return; }
      resume();
    });
    if (seeker) {
      seeker.addEventListener("pointerdown", function () { dragging = true; });
      seeker.addEventListener("pointerup", function () { dragging = false; });
      seeker.addEventListener("input", function () {
        var t = parseFloat(seeker.value) || 0, i = indexAt(t);
        go(i, t - start(i), playing);
      });
    }
    // What a review room reads of this sequence, and how it moves a follower's to the presenter's scene and moment
    // (`at` may run past that scene's end, as a room that played on since: the sequence goes on to the next ones).
    box.studioCut = {
      state: function () { return { scene: items[index].dataset.scene || "", position: local(), playing: playing }; },
      follow: function (scene, at, run, drift) {
        var from = 0;
        items.forEach(function (item, k) { if (item.dataset.scene === String(scene)) from = k; });
        var t = start(from) + Math.max(0, at), i = indexAt(t), there = t - start(i);
        if (i === index && run === playing && Math.abs(local() - there) <= drift) return;
        go(i, there, run);
      }
    };
    setInterval(function () { if (playing || sound() !== knownSound) tick(); }, 100);
    show(0, false);  // the mix's captions are read when the mix is there (tick); until then each stop's own
    box.dataset.ready = "1";
  }

  function init() {
    document.querySelectorAll("[data-review]").forEach(setupReview);
    document.querySelectorAll("[data-compare]").forEach(setupCompare);
    document.querySelectorAll("[data-cut]").forEach(setupCut);
    land(new URL(location.href));
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();

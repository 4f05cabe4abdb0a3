/* The live channel on a page: one Server-Sent Events stream (htmx-ext-sse) per page.
 *
 * The stream's `change` events are HTML whose elements carry hx-swap-oob: htmx swaps
 * exactly those regions. This file adds what HTML alone can't say:
 *  - `order`: put the board's frames in the order given (ids), then renumber them;
 *  - `reset`: the page missed too much: reload the board's frames;
 *  - a frame or take the page already shows is replaced, not added twice;
 *  - one-click forms that arrive over the stream get a fresh idempotency key of their own;
 *  - "who is editing" on frames, from the presence list;
 *  - a line of dialogue being typed survives a teammate's change to the same scene's lines, as do
 *    the panel's fields being typed;
 *  - the scene this page is editing is told to the server (presence);
 *  - where a stream can't be held, one request every 30 s asks for the changes since the cursor.
 */
(function () {
  "use strict";

  function live() { return document.getElementById("live"); }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // Forms that arrived over the stream were rendered once for everyone: each page keys its own clicks.
  function freshKeys(root) {
    (root || document).querySelectorAll('input[name="idempotency_key"]').forEach(function (input) {
      if (!input.value) input.value = uuid();
    });
  }

  // The board's list holds only the pages loaded so far (a "more" row follows them) or what its filter found.
  function partial(list) {
    return list && (list.dataset.filtered || list.querySelector(":scope > .frames-more"));
  }

  function renumber() {
    const list = document.getElementById("board-frames");
    const empty = list && list.querySelector(":scope > .empty");
    if (empty && list.querySelector(":scope > .frame")) empty.remove();  // a teammate added the first scene
    if (list && list.dataset.filtered) return;  // a filtered list keeps the numbers the server drew
    document.querySelectorAll("#board-frames > .frame").forEach(function (frame, i) {
      const number = frame.querySelector(".frame-number");
      if (number) number.textContent = String(i + 1);
    });
  }

  function reorder(ids) {
    const list = document.getElementById("board-frames");
    if (!list) return;
    if (partial(list)) {  // frames moved in or out of what is loaded: the loaded part comes again
      reloadBoard();
      return;
    }
    ids.forEach(function (id) {
      const frame = document.getElementById("frame-" + id);
      if (frame) list.appendChild(frame);
    });
    renumber();
  }

  // Presence is pushed alike to every page of the project: this page leaves its own user out
  // (nobody is shown their own avatar, or told "you are editing" on their own frame).
  function showEditing() {
    const presence = document.getElementById("presence");
    const me = (live() && live().dataset.me) || "";
    if (presence && me) presence.querySelectorAll('[data-user="' + me + '"]').forEach(function (el) { el.remove(); });
    let editing = {};
    try { editing = JSON.parse(presence ? presence.dataset.editing || "{}" : "{}"); } catch (e) { editing = {}; }
    // Each frame's "who is editing" slot is made here, where it is filled: a board of 200 frames is
    // lighter without 200 empty slots in its HTML (bench/board.py).
    document.querySelectorAll("#board-frames > .frame").forEach(function (frame) {
      const meta = frame.querySelector(":scope > .frame-meta");
      if (!meta) return;
      let slot = meta.querySelector(".frame-editing");
      if (!slot) {
        slot = document.createElement("span");
        slot.className = "frame-editing";
        meta.appendChild(slot);
      }
      const names = (editing[frame.id.slice("frame-".length)] || [])
        .filter(function (person) { return String(person.id) !== me; })
        .map(function (person) { return person.name; });
      slot.textContent = names.length
        ? interpolate(ngettext("%s is editing", "%s are editing", names.length), [names.join(", ")]) : "";
      slot.hidden = !names.length;
    });
  }

  // Too much was missed: the board's frames and totals come again from the board's own address
  // (not the page's, which may be a scene panel's); any other page reloads.
  function reloadBoard() {
    const el = live();
    const url = el && el.dataset.boardUrl;
    if (!url || !document.getElementById("board-frames") || !window.htmx) {
      window.location.reload();
      return;
    }
    const list = document.getElementById("board-frames");
    if (list.dataset.reloadUrl) {  // the first page of frames, with the filter the list shows
      htmx.ajax("GET", list.dataset.reloadUrl, { target: "#board-frames", swap: "outerHTML" });
    } else {
      htmx.ajax("GET", url, { target: "#board-frames", select: "#board-frames", swap: "outerHTML" });
    }
    htmx.ajax("GET", url, { target: "#board-totals", select: "#board-totals", swap: "outerHTML" });
  }

  // An owner changed the project's fields (added, renamed, new choices, deleted): the open panel's fields are
  // fetched as they are now, unless a form there is being typed in (its save merges, or says what changed).
  function reloadPanelFields() {
    const el = live();
    const panel = document.getElementById("scene-panel");
    if (!el || !el.dataset.boardUrl || !panel || !panel.dataset.scene) return;
    const id = "scene-fields-" + panel.dataset.scene;
    const section = document.getElementById(id);
    const form = section && section.querySelector("form");
    if (!section || (form && Array.from(form.elements).some(edited))) return;
    fetch(el.dataset.boardUrl + "scenes/" + panel.dataset.scene + "/", { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        const fresh = html && new DOMParser().parseFromString(html, "text/html").getElementById(id);
        const now = document.getElementById(id);
        if (!fresh || !now) return;
        now.replaceWith(fresh);
        if (window.htmx) htmx.process(fresh);
      })
      .catch(function () { /* the next change, or a reload, shows it */ });
  }

  // --- the cursor: where this page is up to, so a new connection resumes there ----------------
  function setCursor(id) {
    const el = live();
    if (!el || !id) return;
    el.dataset.cursor = id;
    const url = new URL(el.getAttribute("sse-connect"), window.location.href);
    url.searchParams.set("after", id);
    el.setAttribute("sse-connect", url.pathname + url.search);
  }

  document.addEventListener("htmx:sseMessage", function (evt) {
    const message = evt.detail;
    if (!message || !message.type) return;
    if (message.lastEventId) setCursor(message.lastEventId);
    if (message.type === "order") {
      try { reorder(JSON.parse(message.data)); } catch (e) { /* a malformed order changes nothing */ }
    } else if (message.type === "reset") {
      reloadBoard();
    } else if (message.type === "fields") {
      reloadBoard();
      reloadPanelFields();
    } else if (message.type === "change") {
      renumber();
      showEditing();
      freshKeys();
    }
  });

  // What the person is doing survives a teammate's change to the same region: a ticked frame
  // stays ticked, a half-typed remix prompt stays typed (and its box open), a frame being
  // dragged is left alone (the drop re-draws the frames anyway).
  function edited(field) {
    if (field.tagName === "SELECT") {
      const options = Array.from(field.options);
      if (!field.multiple && field.options.length && !options.some(function (o) { return o.defaultSelected; })) {
        // No option marked: the browser shows the first, and that is not a change.
        return field.selectedIndex > 0;
      }
      return options.some(function (o) { return o.selected !== o.defaultSelected; });
    }
    return "defaultValue" in field && field.type !== "hidden" && field.value !== field.defaultValue;
  }

  // A line of dialogue being edited (or added) keeps what was typed, and the version it was opened on:
  // saving it then merges with the teammate's change or asks. A line the teammate deleted hands what
  // was typed to the "Add a line" form, so it can be added back.
  function keepTypedLines(oldEl, newEl) {
    oldEl.querySelectorAll("form[data-line-form]").forEach(function (form) {
      const details = form.closest("details");
      const wasOpen = details && details.open;
      const typed = Array.from(form.elements).some(edited);
      let fresh = newEl.querySelector('form[data-line-form="' + form.dataset.lineForm + '"]');
      if (!fresh && typed) {
        fresh = newEl.querySelector('form[data-line-form="new"]');
        if (!fresh || Array.from(fresh.elements).some(edited)) return;
        ["character", "speaker", "parenthetical", "text"].forEach(function (name) {
          if (form.elements[name] && fresh.elements[name]) fresh.elements[name].value = form.elements[name].value;
        });
        if (fresh.closest("details")) fresh.closest("details").open = true;
        return;
      }
      if (!fresh) return;
      if (typed) fresh.replaceWith(form);
      const into = (typed ? form : fresh).closest("details");
      if (into && wasOpen) into.open = true;
    });
  }

  // A region's own message ("Line saved.", a refusal) answered this page's action; the same change
  // coming back over the stream, drawn for everyone, has none: keep it where the user reads it.
  function keepMessages(oldEl, newEl) {
    oldEl.querySelectorAll(":scope > p[role=status][data-testid], :scope > p[role=alert][data-testid]").forEach(function (msg) {
      if (newEl.querySelector('[data-testid="' + msg.dataset.testid + '"]')) return;
      const heading = newEl.querySelector(":scope > h2, :scope > h3");
      if (heading) heading.after(msg.cloneNode(true));
      else newEl.prepend(msg.cloneNode(true));
    });
  }

  // The panel's fields being typed in keep what was typed, and the version and values the form opened with:
  // saving then merges with the teammate's change field by field, or asks about a field both changed.
  function keepTypedFields(oldEl, newEl) {
    const form = oldEl.querySelector("form.scene-fields-form");
    const fresh = newEl.querySelector("form.scene-fields-form");
    if (form && fresh && Array.from(form.elements).some(edited)) fresh.replaceWith(form);
  }

  function keepWhatTheUserIsDoing(oldEl, newEl) {
    keepMessages(oldEl, newEl);
    keepTypedLines(oldEl, newEl);
    keepTypedFields(oldEl, newEl);
    const oldBox = oldEl.querySelector(".frame-select");
    const newBox = newEl.querySelector(".frame-select");
    if (oldBox && newBox) newBox.checked = oldBox.checked;
    oldEl.querySelectorAll("details.remix").forEach(function (details, i) {
      const fresh = newEl.querySelectorAll("details.remix")[i];
      if (!fresh) return;
      fresh.open = details.open;
      const typed = details.querySelector("textarea");
      const into = fresh.querySelector("textarea");
      if (typed && into && typed.value !== typed.defaultValue) into.value = typed.value;
    });
  }

  // While a change from the stream (or the fallback poll) is being swapped in. A region this page is
  // waiting on an answer for (a form in it sent a request) is left alone by the stream: htmx swaps the
  // answer into the element it resolved when sending, so replacing that element would drop the answer
  // ("Line saved.", the edited region) on the floor. The answer shows the region as it is now anyway.
  let fromStream = false;
  document.addEventListener("htmx:sseBeforeMessage", function () { fromStream = true; });
  document.addEventListener("htmx:sseMessage", function () { fromStream = false; });

  function waitingOnAnswer(el) {
    return el.classList.contains("htmx-request") || el.querySelector(".htmx-request") !== null;
  }

  document.addEventListener("htmx:oobBeforeSwap", function (evt) {
    const fragment = evt.detail.fragment;
    if (!fragment || !fragment.children) return;
    const target = evt.detail.target;
    // A scene that arrives belongs at the end of the board, or may not match the filter: a list that does not
    // hold every frame leaves it to its page, which brings it fresh from the server.
    if (target && target.id === "board-frames" && partial(target)) {
      evt.detail.shouldSwap = false;
      return;
    }
    if (fromStream && target && target.classList && waitingOnAnswer(target)) {
      evt.detail.shouldSwap = false;
      return;
    }
    if (target && target.classList && target.classList.contains("frame") &&
        (target.classList.contains("sortable-chosen") || target.classList.contains("sortable-ghost"))) {
      evt.detail.shouldSwap = false;
      return;
    }
    Array.from(fragment.children).forEach(function (child) {
      if (!child.id) return;
      const existing = document.getElementById(child.id);
      if (!existing) return;
      if (existing === target) keepWhatTheUserIsDoing(existing, child);
      // A frame or take this page already shows (it made it itself) is replaced, not added twice.
      else existing.remove();
    });
  });

  // --- presence: which scene this page is editing -------------------------------------------
  let editingNow = null;
  function tellEditing() {
    const el = live();
    if (!el || !el.dataset.presenceUrl) return;
    const panel = document.querySelector("[data-editing-scene]");
    const scene = panel ? panel.dataset.editingScene : "";
    if (scene === editingNow) return;
    editingNow = scene;
    const body = new URLSearchParams({ client: el.dataset.client, editing: scene });
    const token = document.querySelector("[name=csrfmiddlewaretoken]") || null;
    const headers = { "Content-Type": "application/x-www-form-urlencoded" };
    const csrf = (document.body.getAttribute("hx-headers") || "").match(/"X-CSRFToken":\s*"([^"]+)"/);
    if (csrf) headers["X-CSRFToken"] = csrf[1];
    else if (token) headers["X-CSRFToken"] = token.value;
    fetch(el.dataset.presenceUrl, { method: "POST", body: body, headers: headers, credentials: "same-origin" });
  }

  // --- the fallback: one poll per page where no stream can be held -------------------------------
  let failures = 0, polling = null;
  function poll() {
    const el = live();
    if (!el) return;
    const url = new URL(el.dataset.changesUrl, window.location.href);
    url.searchParams.set("after", el.dataset.cursor || "0");
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } }).then(function (response) {
      if (!response.ok) return;
      const cursor = response.headers.get("X-Live-Cursor");
      const order = response.headers.get("X-Live-Order");
      const reset = response.headers.get("X-Live-Reset");
      return response.text().then(function (html) {
        if (html.trim()) {
          fromStream = true;
          try { htmx.swap(el, html, { swapStyle: "none" }); } finally { fromStream = false; }
        }
        if (order) reorder(JSON.parse(order));
        if (reset) reloadBoard();
        setCursor(cursor);
        renumber(); showEditing(); freshKeys();
      });
    });
  }
  function startPolling() {
    const el = live();
    if (polling || !el || !el.dataset.changesUrl) return;
    polling = window.setInterval(poll, Number(el.dataset.pollMs) || 30000);
  }
  document.addEventListener("htmx:sseOpen", function () {
    failures = 0;
    editingNow = null;  // a new stream is a new presence row: say again what this page edits
    tellEditing();
  });
  document.addEventListener("htmx:sseError", function () {
    failures += 1;
    if (failures >= 3) startPolling();
  });

  document.addEventListener("htmx:afterSettle", function () { tellEditing(); showEditing(); freshKeys(); });
  document.addEventListener("DOMContentLoaded", function () {
    const el = live();
    if (el && typeof window.EventSource === "undefined") startPolling();
    tellEditing(); showEditing();
  });
})();

// The board: drag frames to reorder them (one POST per drop, naming the frame it landed next to: the
// frames beyond the loaded pages need not be on the page), and bring the side panel into view when it
// opens on a narrow screen.
(function () {
  "use strict";

  function order(list) {
    return Array.prototype.map.call(list.querySelectorAll(":scope > .frame"), function (frame) {
      return frame.id.slice("frame-".length);
    }).join(",");
  }

  // Each frame's drag handle is made here: it works only with this script (and Sortable), and a board
  // of 200 frames is lighter without 200 handles in its HTML (bench/board.py). Editors only: the board
  // says where a new order goes only to them.
  function addHandles(root) {
    var board = document.getElementById("board");
    if (!board || !board.dataset.orderUrl || !root.querySelectorAll) return;
    var frames = root.matches && root.matches(".frame") ? [root] : root.querySelectorAll("#board-frames > .frame");
    Array.prototype.forEach.call(frames, function (frame) {
      if (frame.querySelector(":scope > .frame-handle")) return;
      var handle = document.createElement("span");
      handle.className = "frame-handle";
      handle.title = board.dataset.handleTitle || "";
      handle.setAttribute("aria-hidden", "true");
      handle.dataset.testid = "frame-handle";
      handle.textContent = "\u283F";  // ⠿
      frame.insertBefore(handle, frame.firstChild);
    });
  }

  function makeSortable(list) {
    var board = list.closest("#board");
    if (!board || !board.dataset.orderUrl || list.dataset.sortable || typeof Sortable === "undefined") return;
    list.dataset.sortable = "1";
    var before = order(list);
    Sortable.create(list, {
      handle: ".frame-handle",
      draggable: ".frame",
      animation: 120,
      // The fallback drags with mouse/pointer events, the same on every browser and in tests.
      forceFallback: true,
      fallbackOnBody: true,
      onEnd: function (event) {
        var now = order(list);
        if (now === before) return;
        before = now;
        var frame = event.item, prev = frame.previousElementSibling, next = frame.nextElementSibling;
        while (prev && !prev.matches(".frame")) prev = prev.previousElementSibling;
        while (next && !next.matches(".frame")) next = next.nextElementSibling;
        var values = { move: frame.id.slice("frame-".length) };
        if (prev) values.after = prev.id.slice("frame-".length);
        else if (next) values.before = next.id.slice("frame-".length);
        // The answer redraws the list with the filter it shows.
        new URLSearchParams(list.dataset.filtered || "").forEach(function (value, key) { values[key] = value; });
        // From the board, not the list: the list's hx-push-url is for the frames' links.
        htmx.ajax("POST", board.dataset.orderUrl, {
          source: board, target: "#board-frames", swap: "outerHTML", values: values,
        });
      },
    });
  }

  // "Select all N scenes" sends the server's ids (every scene, loaded or not); the loaded frames show it.
  function tickAll(root) {
    var all = document.querySelector('#board-frames [name="all"]');
    if (!all || !all.checked || !root.querySelectorAll) return;
    root.querySelectorAll(".frame-select").forEach(function (box) { box.checked = true; });
  }
  document.addEventListener("change", function (event) {
    if (event.target.name === "all" && event.target.closest("#board-frames")) {
      document.querySelectorAll("#board-frames .frame-select").forEach(function (box) { box.checked = event.target.checked; });
    } else if (event.target.matches && event.target.matches(".frame-select") && !event.target.checked) {
      var all = document.querySelector('#board-frames [name="all"]');
      if (all) all.checked = false;  // one frame left out: the selection is the ticked frames again
    }
  });

  function setUp(root) {
    tickAll(root);
    var lists = root.matches && root.matches("#board-frames") ? [root] : root.querySelectorAll("#board-frames");
    Array.prototype.forEach.call(lists, makeSortable);
    addHandles(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUp(document);
    htmx.onLoad(setUp);
  });

  // A stale order (a scene was added or deleted meanwhile) answers 409 with the current
  // board and a message: show them rather than keep the dragged, refused order.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // "Add a scene" lives outside the regions its answer (and a teammate's change) redraws, and is
  // cleared the moment it is sent (back to the project's defaults, focus on the title), so the
  // next scene can be typed at once and no answer overwrites it. A refusal redraws the form as
  // sent, with its messages, and puts back anything typed since; a failed send puts back what was
  // sent where nothing was typed since.
  var ADD_FORM = "#add-scene form";
  var sent = null, typedSince = null;

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (field) {
      return field.name && field.type !== "hidden" && field.type !== "submit" && field.type !== "button";
    });
  }

  function fresh(form, name) {
    var value = form.dataset["default" + name.charAt(0).toUpperCase() + name.slice(1)];
    return value === undefined ? "" : value;
  }

  function addForm(event) {
    var elt = event.detail.requestConfig ? event.detail.requestConfig.elt : event.detail.elt;
    return elt && elt.matches && elt.matches(ADD_FORM) ? elt : null;
  }

  // beforeRequest comes after htmx has read the values it sends: clearing now changes nothing sent.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = addForm(event);
    if (!form) return;
    var typing = form.contains(document.activeElement);
    sent = {};
    fields(form).forEach(function (field) {
      sent[field.name] = field.value;
      field.value = fresh(form, field.name);
    });
    if (typing && form.elements.title) form.elements.title.focus();
  });

  function typedAfterSending(form) {
    var typed = {};
    fields(form).forEach(function (field) {
      if (field.value !== fresh(form, field.name)) typed[field.name] = field.value;
    });
    return typed;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = addForm(event);
    if (!form || !sent || !event.detail.shouldSwap) return;
    if (event.detail.target && event.detail.target.id === "add-scene") typedSince = typedAfterSending(form);
    sent = null;
  });

  function unsent(event) {
    var form = addForm(event);
    if (!form || !sent) return;
    var typed = typedAfterSending(form);
    fields(form).forEach(function (field) {
      if (!(field.name in typed) && field.name in sent) field.value = sent[field.name];
    });
    sent = null;
  }
  document.addEventListener("htmx:responseError", unsent);
  document.addEventListener("htmx:sendError", unsent);
  document.addEventListener("htmx:timeout", unsent);

  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    if (!typedSince || !root.querySelector) return;
    var form = root.matches(ADD_FORM) ? root : root.querySelector(ADD_FORM);
    if (!form) return;
    fields(form).forEach(function (field) {
      if (field.name in typedSince) field.value = typedSince[field.name];
    });
    typedSince = null;
  });

  // The panel sits below the frames on a phone: scroll to it when it opens.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "scene-panel") return;
    var panel = document.getElementById("scene-panel");  // outerHTML: the target was replaced
    if (panel && !panel.hidden && panel.getBoundingClientRect().top > window.innerHeight) {
      panel.scrollIntoView({ block: "start" });
    }
  });
})();

// The Undo toast's ×: without JavaScript it reloads the board without the toast; with it, the toast just goes.
document.addEventListener("click", function (event) {
  var close = event.target.closest && event.target.closest("[data-dismiss-toast]");
  if (!close) return;
  event.preventDefault();
  var slot = close.closest(".toast-slot");
  if (slot) slot.textContent = "";
});

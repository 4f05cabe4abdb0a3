// The board: drag frames to reorder them (one POST per drop with the whole new order),
// and bring the side panel into view when it opens on a narrow screen.
(function () {
  "use strict";

  function order(list) {
    return Array.prototype.map.call(list.querySelectorAll(":scope > .frame"), function (frame) {
      return frame.dataset.scene;
    }).join(",");
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
      onEnd: function () {
        var now = order(list);
        if (now === before) return;
        before = now;
        htmx.ajax("POST", board.dataset.orderUrl, {
          source: list, target: "#board-frames", swap: "outerHTML", values: { order: now },
        });
      },
    });
  }

  function setUp(root) {
    var lists = root.matches && root.matches("#board-frames") ? [root] : root.querySelectorAll("#board-frames");
    Array.prototype.forEach.call(lists, makeSortable);
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

  // The panel sits below the frames on a phone: scroll to it when it opens.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "scene-panel") return;
    var panel = document.getElementById("scene-panel");  // outerHTML: the target was replaced
    if (panel && !panel.hidden && panel.getBoundingClientRect().top > window.innerHeight) {
      panel.scrollIntoView({ block: "start" });
    }
  });
})();

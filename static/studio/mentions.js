// @mention autocomplete for scene prompts: suggests the team's characters
// (names come from data-characters on #board) and inserts "@Name ".
// Prompts on the board's side panel and in "Add a scene" (which sits just below #board).
(function () {
  "use strict";
  var TOKEN = /@([\w][\w .'-]*)?$/;
  var PROMPT = "#board textarea[name=prompt], #add-scene textarea[name=prompt]";

  function names() {
    var board = document.getElementById("board");
    try { return JSON.parse((board && board.dataset.characters) || "[]"); } catch (e) { return []; }
  }

  function close(area) {
    var list = area.parentNode.querySelector(".mention-suggestions");
    if (list) list.remove();
  }

  function insert(area, name) {
    var before = area.value.slice(0, area.selectionStart).replace(TOKEN, "@" + name + " ");
    var after = area.value.slice(area.selectionStart);
    area.value = before + after;
    area.focus();
    area.setSelectionRange(before.length, before.length);
    close(area);
  }

  function suggest(area) {
    close(area);
    var match = area.value.slice(0, area.selectionStart).match(TOKEN);
    if (!match) return;
    var typed = (match[1] || "").toLowerCase();
    var hits = names().filter(function (n) { return n.toLowerCase().indexOf(typed) === 0; }).slice(0, 6);
    if (!hits.length) return;
    var list = document.createElement("ul");
    list.className = "mention-suggestions";
    list.setAttribute("role", "listbox");
    hits.forEach(function (name) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = "@" + name;
      button.setAttribute("role", "option");
      button.addEventListener("mousedown", function (event) { event.preventDefault(); insert(area, name); });
      item.appendChild(button);
      list.appendChild(item);
    });
    area.insertAdjacentElement("afterend", list);
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches(PROMPT)) suggest(event.target);
  });
  document.addEventListener("keydown", function (event) {
    var area = event.target;
    if (!area.matches || !area.matches(PROMPT)) return;
    var first = area.parentNode.querySelector(".mention-suggestions button");
    if (first && event.key === "Tab") { event.preventDefault(); insert(area, first.textContent.slice(1)); }
    if (event.key === "Escape") close(area);
  });
  document.addEventListener("focusout", function (event) {
    if (event.target.matches && event.target.matches(PROMPT)) {
      setTimeout(function () { close(event.target); }, 150);
    }
  });
})();

// @mention autocomplete, one pattern for two lists:
//  - scene prompts suggest the team's characters (names from data-characters on #board) and insert
//    "@Name " (casting); prompts on the board's side panel and in "Add a scene" (just below #board);
//  - review comments, replies and requests for changes suggest teammates (data-mention-members on the
//    review page: [{"u": username, "n": full name}]) and insert "@username " (it notifies them).
// A guest's review page carries no list of the team, so it suggests nobody.
(function () {
  "use strict";

  function parsed(json) {
    try { return JSON.parse(json || "[]"); } catch (e) { return []; }
  }

  function characters() {
    var board = document.getElementById("board");
    return parsed(board && board.dataset.characters).map(function (name) {
      return { insert: name, label: "@" + name, words: [name] };
    });
  }

  function teammates(area) {
    var holder = area.closest("[data-mention-members]");
    return parsed(holder && holder.dataset.mentionMembers).map(function (member) {
      return { insert: member.u, label: "@" + member.u, hint: member.n, words: [member.u].concat((member.n || "").split(/\s+/)) };
    });
  }

  var SOURCES = [
    { fields: "#board textarea[name=prompt], #add-scene textarea[name=prompt]",
      token: /@([\w][\w .'-]*)?$/, options: characters },
    { fields: "[data-mention-members] textarea[name=body], [data-mention-members] textarea[name=note]",
      token: /(?<![\w@])@([\w.+-]*)$/, options: teammates },
  ];

  function sourceOf(area) {
    return area.matches ? SOURCES.find(function (source) { return area.matches(source.fields); }) : null;
  }

  function close(area) {
    var list = area.parentNode.querySelector(".mention-suggestions");
    if (list) list.remove();
  }

  function insert(area, source, text) {
    var before = area.value.slice(0, area.selectionStart).replace(source.token, "@" + text + " ");
    var after = area.value.slice(area.selectionStart);
    area.value = before + after;
    area.focus();
    area.setSelectionRange(before.length, before.length);
    close(area);
  }

  function suggest(area, source) {
    close(area);
    var match = area.value.slice(0, area.selectionStart).match(source.token);
    if (!match) return;
    var typed = (match[1] || "").toLowerCase();
    var hits = source.options(area).filter(function (option) {
      return option.words.some(function (word) { return word && word.toLowerCase().indexOf(typed) === 0; });
    }).slice(0, 6);
    if (!hits.length) return;
    var list = document.createElement("ul");
    list.className = "mention-suggestions";
    list.setAttribute("role", "listbox");
    hits.forEach(function (option) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = option.label;
      button.dataset.insert = option.insert;
      if (option.hint) {
        var hint = document.createElement("span");
        hint.className = "muted";
        hint.textContent = " " + option.hint;
        button.appendChild(hint);
      }
      button.setAttribute("role", "option");
      button.addEventListener("mousedown", function (event) { event.preventDefault(); insert(area, source, option.insert); });
      item.appendChild(button);
      list.appendChild(item);
    });
    area.insertAdjacentElement("afterend", list);
  }

  document.addEventListener("input", function (event) {
    var source = sourceOf(event.target);
    if (source) suggest(event.target, source);
  });
  document.addEventListener("keydown", function (event) {
    var area = event.target, source = sourceOf(area);
    if (!source) return;
    var first = area.parentNode.querySelector(".mention-suggestions button");
    if (first && event.key === "Tab") { event.preventDefault(); insert(area, source, first.dataset.insert); }
    if (event.key === "Escape") close(area);
  });
  document.addEventListener("focusout", function (event) {
    if (sourceOf(event.target)) setTimeout(function () { close(event.target); }, 150);
  });
})();

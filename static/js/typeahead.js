// Accessible typeahead (ARIA 1.2 combobox) for search inputs with data-typeahead="<url>"
// (attributes from templates/search/_typeahead.html). Without JavaScript the search form
// works as an ordinary form.
(function () {
  "use strict";

  function countText(input, n) {
    if (n === 0) return input.getAttribute("data-typeahead-none") || "";
    var text = input.getAttribute(n === 1 ? "data-typeahead-one" : "data-typeahead-many") || "";
    return text.replace("{count}", String(n));
  }

  function setUp(input, n) {
    var url = input.getAttribute("data-typeahead");
    var list = document.createElement("ul");
    var status = document.createElement("div");
    var active = -1, timer = null, items = [], latest = 0;
    list.id = "typeahead-" + n;
    list.className = "typeahead";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", input.getAttribute("data-typeahead-label") || "");
    list.hidden = true;
    status.className = "ds-sr-only";
    status.setAttribute("role", "status");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", status);

    function isOpen() { return !list.hidden; }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      options.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0) input.setAttribute("aria-activedescendant", options[index].id);
      else input.removeAttribute("aria-activedescendant");
    }

    // Just under the input, whatever the form's layout (both share an offset parent).
    function place() {
      list.style.top = input.offsetTop + input.offsetHeight + "px";
      list.style.left = input.offsetLeft + "px";
      list.style.width = input.offsetWidth + "px";
    }

    function show(open) {
      if (open) place();
      list.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
    }

    function close() {
      show(false);
      highlight(-1);
    }

    // A new list: nothing is highlighted any more (an old index may not exist in it).
    function render(data) {
      items = data;
      list.textContent = "";
      data.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.setAttribute("lang", "nb");
        li.textContent = item.title;
        li.addEventListener("mousedown", function (e) { e.preventDefault(); window.location = item.url; });
        list.appendChild(li);
      });
      highlight(-1);
      show(data.length > 0);
      status.textContent = countText(input, data.length);
    }

    function fetchSuggestions(value) {
      var request = ++latest;
      fetch(url + "?q=" + encodeURIComponent(value), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (data) { if (request === latest) render(data); })
        .catch(close);
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      var value = input.value.trim();
      if (value.length < 2) { latest++; items = []; close(); status.textContent = ""; return; }
      timer = setTimeout(function () { fetchSuggestions(value); }, 150);
    });

    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" && !isOpen() && items.length) { e.preventDefault(); show(true); return; }
      if (!isOpen()) return;
      if (e.key === "ArrowDown") { e.preventDefault(); highlight(Math.min(active + 1, items.length - 1)); }
      else if (e.key === "ArrowUp") { e.preventDefault(); highlight(Math.max(active - 1, 0)); }
      // A search input clears itself on Escape: only close the list, keep what was typed.
      else if (e.key === "Escape") { e.preventDefault(); close(); }
      else if (e.key === "Enter" && items[active]) { e.preventDefault(); window.location = items[active].url; }
    });

    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  document.querySelectorAll("input[data-typeahead]").forEach(setUp);
})();

/* The submit page's SRV picker: with script, the grouped select gives way to the catalogue as a
 * list that filters as one types (every word must match the SRV's code, name, service or
 * description); Enter opens the first SRV shown. Without script the select works alone. */
(function () {
  "use strict";
  function start() {
    var select = document.getElementById("srv-select-form");
    var search = document.getElementById("srv-search");
    var input = document.getElementById("srv-filter");
    var count = document.getElementById("srv-count");
    if (!select || !search || !input) { return; }
    select.hidden = true;
    search.hidden = false;
    var items = Array.prototype.slice.call(search.querySelectorAll("li[data-srv-search]"));
    var groups = Array.prototype.slice.call(search.querySelectorAll(".srv-group"));
    function filter() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      items.forEach(function (item) {
        var text = item.getAttribute("data-srv-search");
        var match = words.every(function (word) { return text.indexOf(word) !== -1; });
        item.hidden = !match;
        if (match) { shown += 1; }
      });
      groups.forEach(function (group) { group.hidden = !group.querySelector("li:not([hidden])"); });
      count.textContent = shown === items.length ? items.length + " service requests"
        : shown + " of " + items.length + " service requests match";
    }
    input.addEventListener("input", filter);
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      event.preventDefault();
      var first = search.querySelector("li:not([hidden]) a");
      if (first) { window.location.assign(first.href); }
    });
    filter();
    input.focus();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();

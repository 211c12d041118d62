/* Site behaviour without inline script (the Content-Security-Policy forbids it).
 * Charts: <div class="chart" data-figure="ID"></div> with <script type="application/json" id="ID">{plotly figure}</script>;
 * the page adds plotly.min.js in its head block. Charts are drawn on load and after htmx swaps. */
(function () {
  function drawCharts(root) {
    if (!window.Plotly) { return; }
    (root || document).querySelectorAll(".chart[data-figure]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      var source = document.getElementById(el.dataset.figure);
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      var config = Object.assign({responsive: true, displaylogo: false}, figure.config || {});
      // A responsive plot fills its box: the box must be as tall as the figure asks, or the
      // figure's foot (axis, range slider, legend) is drawn over what follows.
      if (figure.layout && figure.layout.height) { el.style.height = figure.layout.height + "px"; }
      window.Plotly.newPlot(el, figure.data || [], figure.layout || {}, config).then(function () {
        el.dataset.drawn = "1";
        el.setAttribute("data-chart-ready", "true");
      });
    });
  }
  function confirmForms(root) {
    (root || document).querySelectorAll("form[data-confirm]").forEach(function (form) {
      if (form.dataset.bound) { return; }
      form.dataset.bound = "1";
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
      });
    });
  }
  // Wide tables scroll inside their own wrapper, never the page (static/css/layout.css).
  function wrapTables(root) {
    (root || document).querySelectorAll("table.list").forEach(function (table) {
      var parent = table.parentElement;
      if (!parent || parent.classList.contains("table-scroll")) { return; }
      var wrapper = document.createElement("div");
      wrapper.className = "table-scroll";
      parent.insertBefore(wrapper, table);
      wrapper.appendChild(table);
    });
  }
  // The navigation folds behind the Menu button below 800 px; the button says whether it is open.
  function navigationToggle() {
    var button = document.querySelector(".nav-toggle");
    var nav = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!nav) { return; }
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("open", open);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        button.click();
        button.focus();
      }
    });
  }
  // After a save the message must be seen: a jump to an anchor may have carried it off screen.
  function revealMessages() {
    var box = document.querySelector(".messages");
    if (!box) { return; }
    var rect = box.getBoundingClientRect();
    if (rect.top < 0 || rect.bottom > window.innerHeight) { box.scrollIntoView({block: "start"}); }
  }
  document.documentElement.classList.add("js");
  document.addEventListener("DOMContentLoaded", function () {
    wrapTables(); navigationToggle(); drawCharts(); confirmForms(); revealMessages();
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    wrapTables(event.target); drawCharts(event.target); confirmForms(event.target);
  });
  window.portalDrawCharts = drawCharts;
})();

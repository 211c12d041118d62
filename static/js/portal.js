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
  document.addEventListener("DOMContentLoaded", function () { drawCharts(); confirmForms(); });
  document.addEventListener("htmx:afterSettle", function (event) { drawCharts(event.target); confirmForms(event.target); });
  window.portalDrawCharts = drawCharts;
})();

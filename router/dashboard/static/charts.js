// The dashboard's two charts, drawn by Chart.js from the figures the page
// carries in #chart-data (no inline script, so the page's CSP can forbid it).
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  Chart.defaults.animation = false;

  new Chart(document.getElementById("chart-distribution"), {
    type: "bar",
    data: {
      labels: data.distribution.labels,
      datasets: [{
        label: data.distribution.label,
        data: data.distribution.values,
        backgroundColor: "#3b6ea8"
      }]
    },
    options: { responsive: false, scales: { y: { beginAtZero: true } } }
  });

  new Chart(document.getElementById("chart-trend"), {
    type: "line",
    data: {
      labels: data.trend.labels,
      datasets: [
        { label: data.trend.median_label, data: data.trend.median,
          borderColor: "#3b6ea8", backgroundColor: "#3b6ea8" },
        { label: data.trend.p90_label, data: data.trend.p90,
          borderColor: "#c0504d", backgroundColor: "#c0504d" }
      ]
    },
    options: { responsive: false, scales: { y: { beginAtZero: true } } }
  });
  document.body.setAttribute("data-charts", "drawn");
})();

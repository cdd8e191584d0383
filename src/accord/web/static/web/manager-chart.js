/* Draw the manager view's bucket chart with the Plotly shipped in the plotly package. */
(function () {
  "use strict";
  var target = document.getElementById("bucket-chart");
  var source = document.getElementById("bucket-chart-data");
  if (!target || !source || typeof Plotly === "undefined" || !window.accordChartLayout) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var traces = data.series.map(function (series) {
    return {
      type: "bar",
      name: series.name,
      x: data.labels,
      y: series.values,
      marker: { color: series.colour },
      hovertemplate: "%{x}: %{y:,} " + series.name + "<extra></extra>",
    };
  });
  // Whole accounts only: small counts get a tick per account, never 0.5 or repeated labels.
  var largest = data.labels.reduce(function (most, _label, index) {
    var total = data.series.reduce(function (sum, series) {
      return sum + series.values[index];
    }, 0);
    return Math.max(most, total);
  }, 0);
  var layout = accordChartLayout({
    barmode: "stack",
    height: 340,
    yTitle: data.yTitle,
    yaxis: { tickformat: ",d", dtick: largest <= 10 ? 1 : undefined, rangemode: "tozero" },
  });
  layout.bargap = 0.3;
  Plotly.newPlot(target, traces, layout, { displayModeBar: false, responsive: true });
})();

/* Draw an experiment's rates per arm, with 95% intervals, with the Plotly shipped in the plotly package. */
(function () {
  "use strict";
  var target = document.getElementById("experiment-chart");
  var source = document.getElementById("experiment-chart-data");
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
      error_y: {
        type: "data",
        symmetric: false,
        array: series.plus,
        arrayminus: series.minus,
        color: "#1b1f24",
        thickness: 1.5,
        width: 6,
      },
      hovertemplate: series.name + " · %{x}: %{y:.1f}%<extra></extra>",
    };
  });
  var layout = accordChartLayout({
    barmode: "group",
    height: 360,
    yTitle: data.yTitle,
    yaxis: { range: [0, 100], ticksuffix: "%" },
  });
  layout.bargap = 0.25;
  layout.bargroupgap = 0.08;
  Plotly.newPlot(target, traces, layout, { displayModeBar: false, responsive: true });
})();

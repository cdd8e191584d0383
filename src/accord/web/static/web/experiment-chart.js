/* Draw an experiment's rates per arm, with 95% intervals, with the Plotly shipped in the plotly package. */
(function () {
  "use strict";
  var target = document.getElementById("experiment-chart");
  var source = document.getElementById("experiment-chart-data");
  if (!target || !source || typeof Plotly === "undefined") {
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
  var layout = {
    barmode: "group",
    height: 360,
    margin: { t: 16, r: 16, b: 56, l: 64 },
    font: {
      family: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
      color: "#1b1f24",
      size: 14,
    },
    paper_bgcolor: "#ffffff",
    plot_bgcolor: "#ffffff",
    xaxis: { title: { text: "" }, tickfont: { color: "#4a5360" }, fixedrange: true },
    yaxis: {
      title: { text: data.yTitle },
      gridcolor: "#e3e8ef",
      zeroline: false,
      range: [0, 100],
      ticksuffix: "%",
      tickfont: { color: "#4a5360" },
      fixedrange: true,
    },
    legend: { orientation: "h", x: 0, y: 1.12, traceorder: "normal" },
    bargap: 0.25,
    bargroupgap: 0.08,
  };
  Plotly.newPlot(target, traces, layout, { displayModeBar: false, responsive: true });
})();

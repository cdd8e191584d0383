/* Draw the manager view's bucket chart with the Plotly shipped in the plotly package. */
(function () {
  "use strict";
  var target = document.getElementById("bucket-chart");
  var source = document.getElementById("bucket-chart-data");
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
  var layout = {
    barmode: "stack",
    height: 340,
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
      tickformat: ",d",
      dtick: largest <= 10 ? 1 : undefined,
      rangemode: "tozero",
      tickfont: { color: "#4a5360" },
      fixedrange: true,
    },
    legend: { orientation: "h", x: 0, y: 1.12, traceorder: "normal" },
    bargap: 0.3,
  };
  Plotly.newPlot(target, traces, layout, { displayModeBar: false, responsive: true });
})();

/* Accord's look for Plotly bar charts, shared by the manager and experiment charts. */
(function () {
  "use strict";
  var INK = "#1b1f24";
  var MUTED = "#4a5360";
  // Return a layout with Accord's fonts, colours and axes; `yaxis` adds to the y axis.
  window.accordChartLayout = function (options) {
    var yaxis = {
      title: { text: options.yTitle },
      gridcolor: "#e3e8ef",
      zeroline: false,
      tickfont: { color: MUTED },
      fixedrange: true,
    };
    Object.keys(options.yaxis || {}).forEach(function (key) {
      yaxis[key] = options.yaxis[key];
    });
    return {
      barmode: options.barmode,
      height: options.height,
      margin: { t: 16, r: 16, b: 56, l: 64 },
      font: {
        family: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
        color: INK,
        size: 14,
      },
      paper_bgcolor: "#ffffff",
      plot_bgcolor: "#ffffff",
      xaxis: { title: { text: "" }, tickfont: { color: MUTED }, fixedrange: true },
      yaxis: yaxis,
      legend: { orientation: "h", x: 0, y: 1.12, traceorder: "normal" },
    };
  };
})();

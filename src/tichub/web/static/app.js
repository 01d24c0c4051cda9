// Draws the charts a page declares with data-chart, after htmx swaps too.
(function () {
  // A bar chart: {title, labels, values}.
  function bars(spec) {
    return {
      title: { text: spec.title, textStyle: { fontSize: 13 } },
      tooltip: {},
      grid: { left: 40, right: 10, top: 36, bottom: 48 },
      xAxis: { type: "category", data: spec.labels, axisLabel: { rotate: 30 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: spec.values, itemStyle: { color: "#2563eb" } }]
    };
  }
  // Scores over rounds: {kind: "scores", rounds, series: {name: [score|null per round]}},
  // with the warning (±2) and action (±3) lines.
  function scores(spec) {
    var limits = [2, -2, 3, -3].map(function (y) {
      return { yAxis: y, lineStyle: { color: Math.abs(y) === 2 ? "#b45309" : "#b91c1c" } };
    });
    return {
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 10, top: 36, bottom: 48 },
      xAxis: { type: "category", data: spec.rounds },
      yAxis: { type: "value", min: -4, max: 4 },
      series: Object.keys(spec.series).map(function (name, i) {
        return { name: name, type: "line", connectNulls: true, data: spec.series[name],
                 markLine: i === 0 ? { silent: true, symbol: "none", data: limits } : undefined };
      })
    };
  }
  function draw(root) {
    if (!window.echarts) return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var spec = JSON.parse(el.getAttribute("data-chart"));
      var chart = echarts.getInstanceByDom(el) || echarts.init(el);
      chart.setOption(spec.kind === "scores" ? scores(spec) : bars(spec));
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (e) { draw(e.target); });
})();

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
  // A footprint's stages, each stacked on the running sum: {labels, base, values, signed}.
  function waterfall(spec) {
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
                 formatter: function (p) { var i = p[0].dataIndex;
                   return p[0].name + ": " + spec.signed[i].toPrecision(4) + " kg CO2e"; } },
      grid: { left: 56, right: 10, top: 20, bottom: 60 },
      xAxis: { type: "category", data: spec.labels, axisLabel: { rotate: 20 } },
      yAxis: { type: "value", name: "kg CO2e" },
      series: [
        { type: "bar", stack: "w", silent: true, data: spec.base,
          itemStyle: { color: "transparent" } },
        { type: "bar", stack: "w", data: spec.values.map(function (v, i) {
            var last = i === spec.values.length - 1;
            return { value: v, itemStyle: { color: last ? "#1b7a43" :
                     (spec.signed[i] < 0 ? "#16a34a" : "#2563eb") } }; }) }
      ]
    };
  }
  // CO2e flowing from suppliers to consumers: {nodes, links}.
  function sankey(spec) {
    return {
      tooltip: { trigger: "item", valueFormatter: function (v) {
        return v.toPrecision(4) + " kg CO2e"; } },
      series: [{ type: "sankey", data: spec.nodes, links: spec.links, nodeGap: 10,
                 emphasis: { focus: "adjacency" }, lineStyle: { color: "gradient", curveness: 0.5 },
                 label: { fontSize: 11 } }]
    };
  }
  // Monte Carlo outcomes: {labels (bin centres), values (counts), unit}.
  function histogram(spec) {
    return {
      tooltip: {},
      grid: { left: 48, right: 10, top: 20, bottom: 48 },
      xAxis: { type: "category", data: spec.labels, name: spec.unit, nameLocation: "middle",
               nameGap: 32 },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: spec.values, barCategoryGap: "2%",
                 itemStyle: { color: "#7c3aed" } }]
    };
  }
  var kinds = { scores: scores, waterfall: waterfall, sankey: sankey, histogram: histogram };
  function draw(root) {
    if (!window.echarts) return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var spec = JSON.parse(el.getAttribute("data-chart"));
      var chart = echarts.getInstanceByDom(el) || echarts.init(el);
      chart.setOption((kinds[spec.kind] || bars)(spec));
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (e) { draw(e.target); });
})();

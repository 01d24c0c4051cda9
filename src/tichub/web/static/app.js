// Draws the charts a page declares with data-chart, after htmx swaps too.
(function () {
  function draw(root) {
    if (!window.echarts) return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var spec = JSON.parse(el.getAttribute("data-chart"));
      var chart = echarts.getInstanceByDom(el) || echarts.init(el);
      chart.setOption({
        title: { text: spec.title, textStyle: { fontSize: 13 } },
        tooltip: {},
        grid: { left: 40, right: 10, top: 36, bottom: 48 },
        xAxis: { type: "category", data: spec.labels, axisLabel: { rotate: 30 } },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ type: "bar", data: spec.values, itemStyle: { color: "#2563eb" } }]
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (e) { draw(e.target); });
})();

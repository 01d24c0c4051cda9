// Draws the charts a page declares with data-chart, after htmx swaps too; page behaviour.
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
  // On a phone the stage names wrap under their bars instead of slanting past the edge.
  function waterfall(spec) {
    var narrow = window.innerWidth < 600;
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
                 formatter: function (p) { var i = p[0].dataIndex;
                   return p[0].name + ": " + spec.signed[i].toPrecision(4) + " kg CO2e"; } },
      grid: { left: 56, right: 10, top: 28, bottom: narrow ? 48 : 60 },
      xAxis: { type: "category", data: spec.labels,
               axisLabel: narrow ? { interval: 0, width: 52, overflow: "break", fontSize: 10 }
                                 : { interval: 0, rotate: 20 } },
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
  // CO2e flowing from suppliers to consumers: {nodes, links}. Labels sit right of their
  // node, inside a margin kept free for the last column (so none is clipped), on one line
  // cut to that width (the tooltip gives the whole name); nodes spaced wider than a line,
  // so that labels of neighbours do not overlap.
  function sankey(spec) {
    var narrow = window.innerWidth < 600;
    var room = narrow ? 96 : 170;
    return {
      tooltip: { trigger: "item", valueFormatter: function (v) {
        return v.toPrecision(4) + " kg CO2e"; } },
      series: [{ type: "sankey", data: spec.nodes, links: spec.links,
                 left: 4, right: room, top: 8, bottom: 8,
                 nodeWidth: narrow ? 10 : 14, nodeGap: narrow ? 18 : 14,
                 layoutIterations: 64, draggable: false,
                 emphasis: { focus: "adjacency" },
                 lineStyle: { color: "gradient", curveness: 0.5, opacity: 0.35 },
                 label: { position: "right", fontSize: narrow ? 10 : 11, width: room - 8,
                          overflow: "truncate", lineHeight: 13 } }]
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
  // CBAM: actual against default values, two series per good:
  // {labels, actual, default, actual_name, default_name}. Goods' names wrap under their bars.
  function cbam(spec) {
    var narrow = window.innerWidth < 600;
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 10, top: narrow ? 52 : 36, bottom: 64 },
      xAxis: { type: "category", data: spec.labels,
               axisLabel: narrow || spec.labels.length > 3
                 ? { interval: 0, width: Math.max(60, 280 / spec.labels.length),
                     overflow: "break", fontSize: 10 }
                 : { interval: 0 } },
      yAxis: { type: "value", name: "t CO2e/t" },
      series: [
        { name: spec.actual_name, type: "bar", data: spec.actual, itemStyle: { color: "#2563eb" } },
        { name: spec.default_name, type: "bar", data: spec.default,
          itemStyle: { color: "#b45309" } }
      ]
    };
  }
  // A credit score over time with its tiers' thresholds: {labels, values, tiers, lines, name}.
  function credit(spec) {
    var lines = spec.lines.map(function (l) {
      return { yAxis: l.min, label: { formatter: l.tier + " ≥ " + l.min },
               lineStyle: { color: "#94a3b8" } };
    });
    return {
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 56, top: 20, bottom: 40 },
      xAxis: { type: "category", data: spec.labels },
      yAxis: { type: "value", scale: true },
      series: [{ name: spec.name, type: "line", data: spec.values,
                 label: { show: true, formatter: function (p) { return spec.tiers[p.dataIndex]; } },
                 markLine: { silent: true, symbol: "none", data: lines } }]
    };
  }
  // Stacked bars with an optional line on a second axis:
  // {labels, series: [{name, values, stack?, type?, colour?, axis?}]}.
  function stacked(spec) {
    var narrow = window.innerWidth < 600;
    var second = spec.series.some(function (s) { return s.axis === 1; });
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0, type: "scroll" },
      grid: { left: 40, right: second ? 40 : 10, top: 36, bottom: narrow ? 72 : 56 },
      xAxis: { type: "category", data: spec.labels,
               axisLabel: { interval: 0, rotate: narrow ? 60 : 30, fontSize: narrow ? 10 : 12 } },
      yAxis: second ? [{ type: "value", minInterval: 1 }, { type: "value", minInterval: 1 }]
                    : { type: "value", minInterval: 1 },
      series: spec.series.map(function (s) {
        return { name: s.name, type: s.type || "bar", stack: s.stack, data: s.values,
                 yAxisIndex: s.axis || 0, itemStyle: s.colour ? { color: s.colour } : undefined };
      })
    };
  }
  var kinds = { scores: scores, waterfall: waterfall, sankey: sankey, histogram: histogram,
                cbam: cbam };
  kinds.credit = credit;
  kinds.stacked = stacked;
  function draw(root) {
    if (!window.echarts) return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var spec = JSON.parse(el.getAttribute("data-chart"));
      var chart = echarts.getInstanceByDom(el) || echarts.init(el);
      var option = (kinds[spec.kind] || bars)(spec);
      // Tooltips drawn on the canvas: ECharts' HTML ones carry style="" attributes, which
      // the Content-Security-Policy refuses.
      if (option.tooltip) option.tooltip.renderMode = "richText";
      chart.setOption(option);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (e) { draw(e.target); });
  // A phone turned sideways, a window resized: charts follow their box's new width.
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      if (!window.echarts) return;
      document.querySelectorAll("[data-chart]").forEach(function (el) {
        var chart = echarts.getInstanceByDom(el);
        if (chart) chart.resize();
      });
    }, 150);
  });
})();

// What the templates would otherwise say in inline handlers, which the CSP refuses.
(function () {
  // <select data-autosubmit>: choosing an option submits its form.
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("[data-autosubmit]") && e.target.form) {
      e.target.form.submit();
    }
  });
  // hx-… data-swap-statuses="413 422": htmx swaps in these error answers too (they carry
  // the page's explanation), instead of dropping them.
  document.addEventListener("htmx:beforeSwap", function (e) {
    // The element that made the request (the event itself fires on the swap target).
    var el = e.detail.requestConfig ? e.detail.requestConfig.elt : e.target;
    var codes = el && el.getAttribute && el.getAttribute("data-swap-statuses");
    if (codes && codes.split(" ").indexOf(String(e.detail.xhr.status)) >= 0) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
})();

// Forms sent with fetch: a refusal is shown beside the fields at fault, in the reader's
// language, and nothing typed is lost; success goes where the server redirects (its page
// shows the flash message). <form data-native> opts out (downloads, sign-in).
(function () {
  function clear(form) {
    form.querySelectorAll(".field-error, .form-errors").forEach(function (el) { el.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
    });
  }
  function note(text, cls) {
    var p = document.createElement(cls === "form-errors" ? "div" : "p");
    p.className = cls;
    p.textContent = text;
    return p;
  }
  function field(form, name, row) {
    if (!name) return null;
    var el = form.elements.namedItem(name);
    if (!el && name.indexOf(".") >= 0) el = form.elements.namedItem(name.split(".").pop());
    if (el && el.length !== undefined && !el.tagName) el = el[0]; // radio groups
    return el && el.tagName ? el : null;
  }
  function show(form, problem) {
    clear(form);
    var summary = note("", "form-errors");
    summary.classList.add("alert", "alert-error");
    summary.setAttribute("role", "alert");
    var head = document.createElement("strong");
    head.textContent = problem.title || "";
    summary.appendChild(head);
    if (problem.detail && !(problem.errors || []).length) {
      summary.appendChild(document.createTextNode(" " + problem.detail));
    }
    var list = document.createElement("ul");
    (problem.errors || []).forEach(function (e) {
      var el = field(form, e.field, e.row);
      var text = (e.row ? document.body.getAttribute("data-row-word") + " " + e.row + " · " : "") +
                 (e.label ? e.label + ": " : "") + e.message;
      if (el) {
        el.setAttribute("aria-invalid", "true");
        el.insertAdjacentElement("afterend", note(text, "field-error"));
      }
      var li = document.createElement("li");
      li.textContent = text;
      list.appendChild(li);
    });
    if (list.children.length) summary.appendChild(list);
    form.insertBefore(summary, form.firstChild);
    var first = form.querySelector("[aria-invalid]") || summary;
    if (first.focus) first.focus();
    summary.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-back]")) history.back();
  });
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!(form instanceof HTMLFormElement) || e.defaultPrevented) return;
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return;
    // Attributes, not properties: an input named "action" or "target" shadows form.action.
    if (form.hasAttribute("data-native") || form.hasAttribute("hx-post") ||
        form.getAttribute("target")) return;
    e.preventDefault();
    var button = e.submitter;
    var data = new FormData(form, button || undefined);
    form.setAttribute("aria-busy", "true");
    if (button) button.disabled = true;
    fetch(form.getAttribute("action") || window.location.href, { method: "POST", body: data, credentials: "same-origin",
                         headers: { "X-TICHub-Form": "1", "Accept": "application/json" } })
      .then(function (res) {
        var type = res.headers.get("content-type") || "";
        if (type.indexOf("json") >= 0) {
          return res.json().then(function (body) {
            if (body.redirect) { window.location.assign(body.redirect); return; }
            if (!res.ok) { show(form, body); return; }
            window.location.reload();
          });
        }
        // A page (or a file): let the browser have it the ordinary way.
        return res.text().then(function (html) {
          document.open(); document.write(html); document.close();
        });
      })
      .catch(function () {
        show(form, { title: document.body.getAttribute("data-offline") || "", errors: [] });
      })
      .finally(function () {
        form.removeAttribute("aria-busy");
        if (button) button.disabled = false;
      });
  });
})();

// The header's menu button, shown at narrow widths: opens and closes the nav; the user
// menu (a <details>) closes when one clicks elsewhere.
(function () {
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-nav-toggle]");
    if (button) {
      var open = button.closest("header").classList.toggle("nav-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    document.querySelectorAll("details.user-menu[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });
})();

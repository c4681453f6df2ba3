// simdesk charts: every <canvas data-chart="<json url>"> becomes a Chart.js chart.
// The JSON (providers/charts.py ChartData) names its datasets' axes: "price" (left) and
// "stock" (right); time charts carry {x: epoch ms, y} points and are drawn as steps, because
// stored prices are changes that hold until the next one. The table under each chart is the data.
// Times read in the reader's time zone and language (<html data-time-zone lang>), on a 24-hour clock.
(function () {
  "use strict";

  var gettext = window.gettext || function (text) { return text; };
  var root = document.documentElement;

  // "2 Dec, 14:05" / "2 дек., 14:05": the page's language, the reader's zone, hours 00-23.
  function timeFormatter() {
    var options = { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    var zone = root.getAttribute("data-time-zone");
    if (zone) options.timeZone = zone;
    try {
      return new Intl.DateTimeFormat(root.lang || undefined, options);
    } catch (e) {  // a zone this browser does not know: its own zone, still 24-hour
      delete options.timeZone;
      return new Intl.DateTimeFormat(root.lang || undefined, options);
    }
  }

  var formatter = timeFormatter();

  function formatTime(ms) {
    return formatter.format(new Date(ms));
  }

  function dataset(spec, data) {
    var isStock = spec.axis === "stock";
    var ds = {
      label: spec.label,
      data: spec.data,
      yAxisID: isStock ? "stock" : "price",
      borderColor: spec.color,
      backgroundColor: spec.color + (data.type === "bar" && !isStock ? "cc" : "33"),
      borderWidth: 2,
      pointRadius: data.x === "time" ? 2 : 3,
      spanGaps: false
    };
    if (data.x === "time") ds.stepped = true;
    if (spec.dashed) ds.borderDash = [5, 4];
    if (spec.stack) ds.stack = spec.stack;
    if (data.type === "bar") ds.maxBarThickness = 48;
    // In bar charts stock is a line on the right axis, so bars stay prices.
    if (data.type === "bar" && isStock) {
      ds.type = "line";
      ds.fill = false;
      ds.tension = 0;
    }
    return ds;
  }

  function config(data) {
    var hasStock = data.datasets.some(function (d) { return d.axis === "stock"; });
    var stacked = data.datasets.some(function (d) { return d.stack; });
    var scales = {
      price: {
        type: "linear", position: "left", beginAtZero: data.type === "bar", stacked: stacked,
        title: { display: !!data.currency, text: data.currency }
      }
    };
    if (hasStock) {
      scales.stock = {
        type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
        title: { display: true, text: gettext("stock") }
      };
    }
    if (data.x === "time") {
      scales.x = { type: "linear", ticks: { maxTicksLimit: 8, callback: function (v) { return formatTime(v); } } };
    } else {
      scales.x = { type: "category", stacked: stacked };
    }
    return {
      type: data.type === "bar" ? "bar" : "line",
      data: {
        labels: data.x === "time" ? undefined : data.labels,
        datasets: data.datasets.map(function (spec) { return dataset(spec, data); })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: data.x === "time" ? "nearest" : "index", intersect: false },
        parsing: data.x === "time" ? { xAxisKey: "x", yAxisKey: "y" } : undefined,
        scales: scales,
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12 } },
          tooltip: {
            callbacks: {
              title: function (items) {
                if (!items.length) return "";
                return data.x === "time" ? formatTime(items[0].parsed.x) : items[0].label;
              }
            }
          }
        }
      }
    };
  }

  function render(canvas) {
    if (typeof Chart === "undefined" || canvas.dataset.rendered) return;
    canvas.dataset.rendered = "1";
    fetch(canvas.getAttribute("data-chart"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) {
        var existing = Chart.getChart(canvas);
        if (existing) existing.destroy();
        new Chart(canvas, config(data));
        canvas.dispatchEvent(new CustomEvent("chart:ready", { bubbles: true }));
      })
      .catch(function () {
        var box = canvas.parentElement;
        var note = document.createElement("p");
        note.className = "muted small";
        note.textContent = canvas.getAttribute("data-error") || gettext("The chart could not be loaded; the table below has the data.");
        box.replaceChildren(note);
      });
  }

  function renderAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(render);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { renderAll(); });
  } else {
    renderAll();
  }
  document.addEventListener("htmx:afterSwap", function (event) { renderAll(event.target); });
})();

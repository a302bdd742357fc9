/* chaoskit report: draw the charts described in #chart-data with Chart.js.
   Data arrives as JSON text and is only ever handed to Chart.js (canvas text), never
   inserted as HTML. */
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  var body = document.body;
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var specs = JSON.parse(source.textContent);
  var DASHES = [[], [7, 4], [2, 3], [9, 3, 2, 3]];
  var SHAPES = ["circle", "triangle", "rect", "rectRot"];
  var charts = [];
  var drawn = 0;

  function palette() {
    var css = getComputedStyle(body);
    function v(name) {
      return css.getPropertyValue(name).trim();
    }
    return {
      fg: v("--fg"),
      bg: v("--bg"),
      muted: v("--muted"),
      grid: v("--grid"),
      series: [v("--c1"), v("--c2"), v("--c3"), v("--c4")],
      fault: v("--fault"),
      faultLine: v("--fault-line"),
      eject: v("--eject"),
      ejectOpen: v("--eject-open"),
    };
  }

  // Diagonal hatching, so a fault band reads as a band without relying on its tint.
  function hatch(color) {
    var tile = document.createElement("canvas");
    tile.width = 8;
    tile.height = 8;
    var g = tile.getContext("2d");
    g.strokeStyle = color;
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(0, 8);
    g.lineTo(8, 0);
    g.moveTo(-1, 1);
    g.lineTo(1, -1);
    g.moveTo(7, 9);
    g.lineTo(9, 7);
    g.stroke();
    return g.createPattern(tile, "repeat");
  }

  var LABEL_ROW = 14;

  // Room above the plot for every row of fault labels.
  function bandsPadding(bands) {
    var rows = 0;
    (bands || []).forEach(function (b) {
      rows = Math.max(rows, (b.row || 0) + 1);
    });
    return rows ? 2 + LABEL_ROW * rows : 0;
  }

  function bandsPlugin(bands, pal) {
    var pattern = hatch(pal.faultLine);
    function each(chart, draw) {
      if (!bands || !bands.length) {
        return;
      }
      var area = chart.chartArea;
      var x = chart.scales.x;
      var ctx = chart.ctx;
      ctx.save();
      bands.forEach(function (b) {
        var left = Math.max(area.left, x.getPixelForValue(b.from));
        var right = Math.min(area.right, x.getPixelForValue(b.to));
        if (right > left) {
          draw(ctx, b, left, right, area);
        }
      });
      ctx.restore();
    }
    return {
      id: "ckBands",
      // The band goes under the data, its label over it.
      beforeDatasetsDraw: function (chart) {
        each(chart, function (ctx, b, left, right, area) {
          var height = area.bottom - area.top;
          ctx.fillStyle = pal.fault;
          ctx.fillRect(left, area.top, right - left, height);
          ctx.fillStyle = pattern;
          ctx.fillRect(left, area.top, right - left, height);
          ctx.strokeStyle = pal.faultLine;
          ctx.setLineDash([4, 3]);
          ctx.beginPath();
          ctx.moveTo(left + 0.5, area.top);
          ctx.lineTo(left + 0.5, area.bottom);
          if (!b.open) {
            ctx.moveTo(right - 0.5, area.top);
            ctx.lineTo(right - 0.5, area.bottom);
          }
          ctx.stroke();
        });
      },
      // Labels go in the strip above the plot (layout padding), so they never hide data.
      afterDatasetsDraw: function (chart) {
        each(chart, function (ctx, b, left, right, area) {
          var text = b.label + (b.open ? " (never removed)" : "");
          ctx.font = "12px system-ui, sans-serif";
          ctx.textBaseline = "bottom";
          ctx.fillStyle = pal.fg;
          // Faults applied together get one row each (stack_labels), not one on another.
          var y = area.top - 2 - LABEL_ROW * (b.row || 0);
          ctx.fillText(text, left + 2, y, Math.max(right - left - 4, 60));
        });
      },
    };
  }

  var countPlugin = {
    id: "ckCount",
    afterRender: function (chart) {
      if (!chart.$ckCounted) {
        chart.$ckCounted = true;
        drawn += 1;
        body.setAttribute("data-charts-drawn", String(drawn));
      }
    },
  };

  function axis(spec, pal, extra) {
    var out = {
      title: { display: !!spec.title, text: spec.title || "", color: pal.muted },
      ticks: { color: pal.muted },
      grid: { color: pal.grid },
      border: { color: pal.muted },
    };
    Object.keys(extra || {}).forEach(function (k) {
      out[k] = extra[k];
    });
    return out;
  }

  // Chart.js draws legend lines solid, so each entry names its line style in words.
  var STYLE_WORDS = ["solid", "dashed", "dotted", "dash-dot"];

  function legend(pal, show, styles) {
    // At the bottom, so the strip above the plot is free for the fault labels.
    return {
      display: show,
      position: "bottom",
      labels: {
        color: pal.fg,
        usePointStyle: true,
        pointStyle: "line",
        pointStyleWidth: 34,
        generateLabels: function (chart) {
          var items = Chart.defaults.plugins.legend.labels.generateLabels(chart);
          // Only where lines differ in style: four names all solid need no "(solid)".
          var distinct = styles.filter(function (s, i) {
            return styles.indexOf(s) === i;
          }).length;
          items.forEach(function (item) {
            var style = styles[item.datasetIndex];
            if (distinct > 1 && style !== undefined) {
              item.text += " (" + STYLE_WORDS[style % STYLE_WORDS.length] + ")";
            }
          });
          return items;
        },
      },
    };
  }

  function styles(spec) {
    return spec.series.map(function (s) {
      return s.style;
    });
  }

  function lineSet(s, i, pal, many) {
    var color = pal.series[i % pal.series.length];
    return {
      label: s.label,
      data: s.data.map(function (p) {
        return Array.isArray(p) ? { x: p[0], y: p[1] } : p;
      }),
      borderColor: color,
      backgroundColor: color,
      pointBackgroundColor: color,
      borderDash: DASHES[s.style % DASHES.length],
      pointStyle: SHAPES[s.style % SHAPES.length],
      borderWidth: 2,
      pointRadius: many ? 0 : 3,
      pointHoverRadius: 5,
      spanGaps: false,
      tension: 0,
    };
  }

  function valueAxis(spec, pal) {
    var y = spec.y || {};
    var extra = { beginAtZero: y.min === 0 };
    if (typeof y.min === "number") {
      extra.min = y.min;
    }
    if (typeof y.max === "number") {
      extra.max = y.max;
    }
    return axis(y, pal, extra);
  }

  function lineConfig(spec, pal) {
    var many = spec.series.some(function (s) {
      return s.data.length > 60;
    });
    return {
      type: "line",
      data: {
        datasets: spec.series.map(function (s, i) {
          return lineSet(s, i, pal, many);
        }),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "nearest", axis: "x", intersect: false },
        layout: { padding: { top: bandsPadding(spec.bands) } },
        plugins: { legend: legend(pal, true, styles(spec)) },
        scales: {
          x: axis(spec.x, pal, { type: "linear", min: spec.x.min, max: spec.x.max }),
          y: valueAxis(spec, pal),
        },
      },
      plugins: [bandsPlugin(spec.bands, pal), countPlugin],
    };
  }

  function timelineConfig(spec, pal) {
    return {
      type: "bar",
      data: {
        labels: spec.rows,
        datasets: [
          {
            label: "ejected",
            data: spec.bars.map(function (b) {
              return { y: b.row, x: [b.from, b.to] };
            }),
            backgroundColor: spec.bars.map(function (b) {
              return b.open ? pal.ejectOpen : pal.eject;
            }),
            borderColor: pal.fg,
            borderWidth: 1,
            borderSkipped: false,
            grouped: false,
            barPercentage: 0.7,
            categoryPercentage: 0.9,
          },
        ],
      },
      options: {
        indexAxis: "y",
        animation: false,
        layout: { padding: { top: bandsPadding(spec.bands) } },
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (item) {
                var b = spec.bars[item.dataIndex];
                return (
                  "ejected " + b.from.toFixed(1) + " s → " +
                  (b.open ? "still ejected at the end" : b.to.toFixed(1) + " s")
                );
              },
            },
          },
        },
        scales: {
          x: axis(spec.x, pal, { type: "linear", min: spec.x.min, max: spec.x.max }),
          y: axis({}, pal, { type: "category" }),
        },
      },
      plugins: [bandsPlugin(spec.bands, pal), countPlugin],
    };
  }

  function trendConfig(spec, pal) {
    return {
      type: "line",
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (s, i) {
          var set = lineSet(s, i, pal, false);
          set.spanGaps = true;
          return set;
        }),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: legend(pal, true, styles(spec)) },
        scales: { x: axis(spec.x || {}, pal, { type: "category" }), y: valueAxis(spec, pal) },
      },
      plugins: [countPlugin],
    };
  }

  var BUILDERS = { line: lineConfig, timeline: timelineConfig, trend: trendConfig };

  function drawOne(canvas, pal) {
    var spec = specs[canvas.getAttribute("data-chart")];
    if (!spec || !BUILDERS[spec.kind]) {
      console.error("chaoskit report: no chart spec for " + canvas.id);
      return;
    }
    if (spec.kind === "timeline") {
      canvas.parentNode.style.height = 70 + 34 * Math.max(spec.rows.length, 1) + "px";
    }
    charts.push(new Chart(canvas, BUILDERS[spec.kind](spec, pal)));
  }

  // A few charts per task, so a report with hundreds of charts stays responsive.
  function drawAll() {
    var pal = palette();
    var canvases = Array.prototype.slice.call(document.querySelectorAll("canvas[data-chart]"));
    var next = 0;
    function step() {
      var stop = Math.min(next + 8, canvases.length);
      for (; next < stop; next += 1) {
        drawOne(canvases[next], pal);
      }
      if (next < canvases.length) {
        setTimeout(step, 0);
      } else {
        body.setAttribute("data-charts-drawn", String(drawn));
      }
    }
    step();
  }

  function redraw() {
    charts.forEach(function (c) {
      c.destroy();
    });
    charts = [];
    drawn = 0;
    drawAll();
  }

  if (window.matchMedia) {
    var scheme = window.matchMedia("(prefers-color-scheme: dark)");
    if (scheme.addEventListener) {
      scheme.addEventListener("change", redraw);
    }
  }
  drawAll();
})();

//===- HtmlView.cpp - The report as one self-contained HTML page ----------===//
//
// --html FILE: the JSON report (the same views' addJSON, so the page shows
// the figures the JSON gives) plus every step of the timeline, embedded in
// one page whose inline script draws the memory timeline as a stacked chart
// by category with the peak marked, the per-kind and per-layer breakdowns
// and the per-node table, sortable by its headings. No network: no external
// script, style sheet or font. The output depends only on the results (JSON
// objects keep their keys sorted).
//
//===----------------------------------------------------------------------===//

#include "vram/Report/Views.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace vram {

namespace {

/// The JSON text, safe inside a <script> element: '<' only occurs in
/// strings, where \u003c is the same character.
std::string scriptSafe(const json::Value &V) {
  std::string S = formatv("{0}", V).str(), Out;
  Out.reserve(S.size());
  for (char C : S) {
    if (C == '<')
      Out += "\\u003c";
    else
      Out += C;
  }
  return Out;
}

/// Every step of the timeline: phase, node, live bytes by category (in the
/// order of "categories").
json::Object timelineJSON(const CostContext &Ctx) {
  json::Array Cats, Steps;
  for (unsigned C = 0; C < NumLiveCats; ++C)
    Cats.push_back(liveCatName(static_cast<LiveCat>(C)));
  const TimelineResult &R = Ctx.Timeline;
  for (const TimelineStep &S : R.Steps) {
    json::Array Live;
    for (unsigned C = 0; C < NumLiveCats; ++C)
      Live.push_back(static_cast<int64_t>(S.Live[C]));
    Steps.push_back(
        json::Array{phaseName(S.Phase),
                    S.N ? S.N->displayName() : std::string("(optimizer step)"),
                    std::move(Live)});
  }
  return json::Object{{"categories", std::move(Cats)},
                      {"peak_step", static_cast<int64_t>(R.PeakStep)},
                      {"steps", std::move(Steps)}};
}

const char *const Style = R"css(
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .2em; }
h2 { font-size: 1.1em; margin: 1.5em 0 .4em; }
.run { color: #555; margin-bottom: 1em; }
.peak { font-size: 1.2em; }
.peak b { font-size: 1.3em; }
table { border-collapse: collapse; }
th, td { padding: 2px 8px; border-bottom: 1px solid #ddd; }
th { text-align: left; background: #f3f3f3; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
#nodes th { cursor: pointer; user-select: none; }
#nodes th[data-dir="asc"]::after { content: " \25B2"; }
#nodes th[data-dir="desc"]::after { content: " \25BC"; }
.legend span { display: inline-block; margin-right: 1em; }
.legend i { display: inline-block; width: .9em; height: .9em;
            margin-right: .3em; vertical-align: -1px; }
#chart { display: block; margin-top: .5em; }
#hover { color: #444; min-height: 1.4em; }
#error { color: #b00; font-weight: bold; white-space: pre-wrap; }
td { white-space: nowrap; }
td.name { white-space: normal; max-width: 40em; overflow-wrap: anywhere; }
)css";

const char *const Script = R"js(
(function () {
  'use strict';
  var status = document.body;
  try {
    var D = JSON.parse(document.getElementById('vram-data').textContent);
    var UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    function unitOf(b) {
      var v = b, u = 0;
      while (v >= 1024 && u + 1 < UNITS.length) { v /= 1024; ++u; }
      return u;
    }
    // In one unit (the text report's rule: one unit per column).
    function fmtIn(b, u) {
      if (u === 0) return b + ' B';
      var v = b / Math.pow(1024, u);
      if (b && v < 0.005) return '<0.01 ' + UNITS[u];
      return v.toFixed(2) + ' ' + UNITS[u];
    }
    function fmt(b) { return fmtIn(b, unitOf(b)); }
    function commas(n) {
      return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    }
    function el(tag, attrs, text) {
      var e = document.createElement(tag);
      for (var k in attrs) e.setAttribute(k, attrs[k]);
      if (text !== undefined) e.textContent = text;
      return e;
    }
    function table(parent, id, heads, rows) {
      var t = el('table', id ? {id: id} : {});
      var tr = el('tr');
      heads.forEach(function (h) {
        tr.appendChild(el('th', h.num ? {'class': 'num'} : {}, h.name));
      });
      var thead = el('thead'); thead.appendChild(tr); t.appendChild(thead);
      // Each bytes column in the unit of its largest value.
      heads.forEach(function (h, i) {
        var max = 0, any = false;
        rows.forEach(function (r) {
          if (r[i].bytes !== undefined) { any = true; max = Math.max(max, r[i].bytes); }
        });
        if (!any) return;
        var u = unitOf(max);
        rows.forEach(function (r) {
          if (r[i].bytes !== undefined) r[i].text = fmtIn(r[i].bytes, u);
        });
      });
      var tb = el('tbody');
      rows.forEach(function (r) {
        var tr = el('tr');
        r.forEach(function (c, i) {
          var cls = heads[i].num ? 'num' : (heads[i].wide ? 'name' : '');
          var td = el('td', cls ? {'class': cls} : {}, c.text);
          if (c.key !== undefined) td.setAttribute('data-key', c.key);
          tr.appendChild(td);
        });
        tb.appendChild(tr);
      });
      t.appendChild(tb);
      parent.appendChild(t);
      return t;
    }
    function bytesCell(b) { return {text: fmt(b), key: b, bytes: b}; }
    function text(s) { return {text: s, key: s}; }

    // The run and the headline.
    var dims = Object.keys(D.dims).map(function (k) {
      return k + '=' + D.dims[k];
    }).join(' ');
    document.getElementById('run').textContent = D.model + ': mode ' +
        D.mode + ', recipe ' + D.recipe +
        (D.mode === 'train' ? ', optimizer ' + D.optimizer : '') +
        (dims ? ', dims ' + dims : '');
    var peak = document.getElementById('peak');
    if (D.peak) {
      peak.textContent = '';
      peak.appendChild(document.createTextNode('Peak: '));
      peak.appendChild(el('b', {}, fmt(D.peak.bytes)));
      peak.appendChild(document.createTextNode(' ('));
      peak.appendChild(el('span', {id: 'peak-bytes',
                                   'data-bytes': String(D.peak.bytes)},
                          commas(D.peak.bytes) + ' B'));
      peak.appendChild(document.createTextNode(') in ' + D.peak.phase +
                                               ' at ' + D.peak.node));
    }

    // The chart: live bytes after each step, stacked by category, the
    // persistent ones at the bottom.
    var T = D.timeline, order = ['overhead', 'parameters', 'optimizer_state',
        'gradients', 'kv_cache', 'saved_activations', 'activation_gradients',
        'temporaries'];
    var colors = {overhead: '#9e9e9e', parameters: '#4e79a7',
        optimizer_state: '#76b7b2', gradients: '#f28e2b', kv_cache: '#b07aa1',
        saved_activations: '#e15759', activation_gradients: '#edc948',
        temporaries: '#59a14f'};
    var idx = {};
    T.categories.forEach(function (c, i) { idx[c] = i; });
    var cats = order.filter(function (c) {
      return idx[c] !== undefined && T.steps.some(function (s) {
        return s[2][idx[c]] > 0;
      });
    });
    var NS = 'http://www.w3.org/2000/svg';
    function svg(tag, attrs) {
      var e = document.createElementNS(NS, tag);
      for (var k in attrs) e.setAttribute(k, attrs[k]);
      return e;
    }
    var W = 960, H = 320, L = 80, R = 20, TOP = 30, B = 30;
    var chart = document.getElementById('chart');
    chart.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    chart.setAttribute('width', W); chart.setAttribute('height', H);
    var n = T.steps.length, max = 1;
    T.steps.forEach(function (s) {
      var t = 0; s[2].forEach(function (b) { t += b; });
      if (t > max) max = t;
    });
    function x(i) { return L + (n > 1 ? i * (W - L - R) / (n - 1) : 0); }
    function y(b) { return H - B - b * (H - TOP - B) / max; }
    var below = T.steps.map(function () { return 0; });
    cats.forEach(function (c) {
      var top = T.steps.map(function (s, i) { return below[i] + s[2][idx[c]]; });
      var d = '';
      for (var i = 0; i < n; ++i) d += (i ? 'L' : 'M') + x(i).toFixed(1) + ',' +
                                       y(top[i]).toFixed(1);
      for (var j = n - 1; j >= 0; --j) d += 'L' + x(j).toFixed(1) + ',' +
                                            y(below[j]).toFixed(1);
      var p = svg('path', {d: d + 'Z', fill: colors[c], 'data-category': c});
      var title = svg('title', {}); title.textContent = c; p.appendChild(title);
      chart.appendChild(p);
      below = top;
    });
    // Axis: zero, the peak's level and the phases' first steps.
    chart.appendChild(svg('line', {x1: L, y1: H - B, x2: W - R, y2: H - B,
                                   stroke: '#333'}));
    var label = svg('text', {x: L - 6, y: H - B + 4, 'text-anchor': 'end',
                             'font-size': 11});
    label.textContent = '0'; chart.appendChild(label);
    var lastPhase = null;
    T.steps.forEach(function (s, i) {
      if (s[0] === lastPhase) return;
      lastPhase = s[0];
      chart.appendChild(svg('line', {x1: x(i), y1: TOP, x2: x(i), y2: H - B,
                                     stroke: '#999', 'stroke-dasharray': '3,3'}));
      var right = x(i) > W - R - 80;
      var t = svg('text', {x: right ? x(i) - 3 : x(i) + 3, y: H - B + 16,
                           'font-size': 11,
                           'text-anchor': right ? 'end' : 'start'});
      t.textContent = s[0]; chart.appendChild(t);
    });
    if (n && D.peak) {
      var px = x(T.peak_step), py = y(D.peak.bytes);
      chart.appendChild(svg('line', {x1: px, y1: py, x2: px, y2: H - B,
                                     stroke: '#000', 'stroke-width': 1.5}));
      chart.appendChild(svg('circle', {cx: px, cy: py, r: 4, fill: '#000'}));
      var pt = svg('text', {x: px, y: py - 8, 'font-size': 12,
                            'font-weight': 'bold', id: 'peak-label',
                            'text-anchor': px > W / 2 ? 'end' : 'start'});
      pt.textContent = 'peak ' + fmt(D.peak.bytes);
      chart.appendChild(pt);
      var lvl = svg('text', {x: L - 6, y: py + 4, 'text-anchor': 'end',
                             'font-size': 11});
      lvl.textContent = fmt(D.peak.bytes); chart.appendChild(lvl);
    }
    var legend = document.getElementById('legend');
    cats.slice().reverse().forEach(function (c) {
      var s = el('span'); var i = el('i'); i.style.background = colors[c];
      s.appendChild(i); s.appendChild(document.createTextNode(c));
      legend.appendChild(s);
    });
    var hover = document.getElementById('hover');
    chart.addEventListener('mousemove', function (ev) {
      var r = chart.getBoundingClientRect();
      var fx = (ev.clientX - r.left) * W / r.width;
      var i = Math.round((fx - L) * (n - 1) / (W - L - R));
      if (i < 0 || i >= n) { hover.textContent = ''; return; }
      var s = T.steps[i], t = 0;
      s[2].forEach(function (b) { t += b; });
      hover.textContent = 'step ' + i + ', ' + s[0] + ' ' + s[1] + ': ' +
          fmt(t) + ' (' + cats.map(function (c) {
            return c + ' ' + fmt(s[2][idx[c]]);
          }).join(', ') + ')';
    });

    // The peak by category.
    if (D.peak) {
      table(document.getElementById('peak-cats'), 'peak-by-category',
            [{name: 'category'}, {name: 'bytes', num: true}],
            order.filter(function (c) {
              return D.peak.by_category[c];
            }).map(function (c) {
              return [text(c), bytesCell(D.peak.by_category[c])];
            }));
    }

    // Totals; saved for backward by kind (train); layers.
    table(document.getElementById('totals'), 'totals-table',
          [{name: 'category'}, {name: 'size', num: true},
           {name: 'bytes', num: true}],
          ['parameters', 'gradients', 'optimizer_state', 'activations',
           'overhead'].map(function (k) {
            return [text(k), bytesCell(D.totals[k]),
                    text(commas(D.totals[k]))];
          }));
    var kinds = document.getElementById('kinds');
    if (D.saved_by_kind && D.activations.bytes) {
      var ks = Object.keys(D.saved_by_kind).filter(function (k) {
        return D.saved_by_kind[k] > 0;
      }).sort(function (a, b) {
        return D.saved_by_kind[b] - D.saved_by_kind[a] || (a < b ? -1 : 1);
      });
      table(kinds, 'kinds-table',
            [{name: 'kind'}, {name: 'bytes', num: true},
             {name: 'share', num: true}],
            ks.map(function (k) {
              var b = D.saved_by_kind[k];
              return [text(k), bytesCell(b),
                      text((100 * b / D.activations.bytes).toFixed(1) + '%')];
            }));
    } else {
      kinds.appendChild(el('p', {}, 'Nothing is saved for backward in ' +
                                    D.mode + ' mode.'));
    }
    table(document.getElementById('layers'), 'layers-table',
          [{name: 'layer'}, {name: 'nodes', num: true},
           {name: 'size', num: true}, {name: 'bytes', num: true}],
          (D.layers || []).map(function (l) {
            return [text(l.name), {text: String(l.nodes), key: l.nodes},
                    bytesCell(l.bytes), text(commas(l.bytes))];
          }));

    // Nodes with bytes, in graph order; click a heading to sort.
    var rows = [];
    (D.nodes || []).forEach(function (nd, i) {
      if (!nd.saved_bytes) return;
      var out = nd.output_dtype ? nd.output_dtype + '[' +
          (nd.output_shape || []).join(', ') + ']' : '';
      rows.push([{text: String(i), key: i}, text(nd.name), text(nd.op),
                 text(out), bytesCell(nd.saved_bytes),
                 bytesCell(nd.cumulative_bytes)]);
    });
    var nodes = table(document.getElementById('node-table'), 'nodes',
        [{name: '#', num: true}, {name: 'node', wide: true}, {name: 'op'},
         {name: 'output'}, {name: 'bytes', num: true},
         {name: 'cumulative', num: true}], rows);
    var ths = nodes.querySelectorAll('th');
    ths.forEach(function (th, col) {
      th.addEventListener('click', function () {
        var dir = th.getAttribute('data-dir') === 'desc' ? 'asc' : 'desc';
        ths.forEach(function (o) { o.removeAttribute('data-dir'); });
        th.setAttribute('data-dir', dir);
        var tb = nodes.tBodies[0];
        var trs = Array.prototype.slice.call(tb.rows);
        trs.sort(function (a, b) {
          var ka = a.cells[col].getAttribute('data-key');
          var kb = b.cells[col].getAttribute('data-key');
          var na = Number(ka), nb = Number(kb), c;
          if (ka !== '' && kb !== '' && !isNaN(na) && !isNaN(nb)) c = na - nb;
          else c = ka < kb ? -1 : ka > kb ? 1 : 0;
          if (!c) c = Number(a.cells[0].getAttribute('data-key')) -
                      Number(b.cells[0].getAttribute('data-key'));
          return dir === 'asc' ? c : -c;
        });
        trs.forEach(function (tr) { tb.appendChild(tr); });
      });
    });
    // #sort=HEADING[:asc|:desc] in the address sorts on load.
    var m = /sort=([^:&]+)(?::(asc|desc))?/.exec(location.hash);
    if (m) {
      ths.forEach(function (th) {
        if (th.textContent !== decodeURIComponent(m[1])) return;
        th.click();
        if (m[2] === 'asc') th.click();
      });
    }
    document.getElementById('node-count').textContent =
        rows.length + ' of ' + (D.nodes || []).length +
        ' nodes own bytes; click a heading to sort (or open the page with ' +
        '#sort=bytes:desc).';
    status.setAttribute('data-status', 'ok');
  } catch (e) {
    status.setAttribute('data-status', 'error');
    var box = document.getElementById('error');
    box.textContent = 'vram-opt report: script error: ' + e;
    box.hidden = false;
    if (window.console) console.error('vram-opt report: ' + e);
  }
})();
)js";

} // namespace

void writeHtml(const CostContext &Ctx, raw_ostream &OS) {
  // The JSON report's objects, from the same views, and the timeline.
  json::Object Root;
  createSummaryView(Ctx)->addJSON(Root);
  createNodesView(Ctx, /*TopNodes=*/0)->addJSON(Root);
  createLayersView(Ctx)->addJSON(Root);
  createTimelineView(Ctx)->addJSON(Root);
  Root["timeline"] = timelineJSON(Ctx);

  OS << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
        "charset=\"utf-8\">\n"
     << "<title>vram-opt report</title>\n<style>" << Style << "</style>\n"
     << "</head>\n<body data-status=\"loading\">\n"
     << "<h1>vram-opt memory report</h1>\n"
     << "<div class=\"run\" id=\"run\"></div>\n"
     << "<p id=\"error\" hidden></p>\n"
     << "<noscript><p>This report is drawn by its inline script; the figures "
        "are in the vram-data element of the page source.</p></noscript>\n"
     << "<div class=\"peak\" id=\"peak\"></div>\n"
     << "<h2>Memory over the step</h2>\n"
     << "<div class=\"legend\" id=\"legend\"></div>\n"
     << "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
        "role=\"img\" aria-label=\"live bytes after each step, stacked by "
        "category\"></svg>\n"
     << "<div id=\"hover\"></div>\n"
     << "<h2>At the peak</h2>\n<div id=\"peak-cats\"></div>\n"
     << "<h2>Totals</h2>\n<div id=\"totals\"></div>\n"
     << "<h2>Saved for backward, by kind</h2>\n<div id=\"kinds\"></div>\n"
     << "<h2>Layers</h2>\n<div id=\"layers\"></div>\n"
     << "<h2>Nodes</h2>\n<p id=\"node-count\"></p>\n"
     << "<div id=\"node-table\"></div>\n"
     << "<script type=\"application/json\" id=\"vram-data\">"
     << scriptSafe(json::Value(std::move(Root))) << "</script>\n"
     << "<script>" << Script << "</script>\n"
     << "</body>\n</html>\n";
}

} // namespace vram

(function () {
  'use strict';
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var GAP = 20;        // px between distinct instants
  var PAD = 6;         // px of box around a label
  var LANE_H = 30;     // px per lane of a client row
  var BOX_H = 22;
  var TOP = 10;        // px above the first row
  var FONT = '12px sans-serif';

  var data = JSON.parse(document.getElementById('porcupine-data').textContent);
  var svg = document.getElementById('timeline');
  var labels = document.getElementById('labels');
  var scroller = document.getElementById('scroller');
  var tooltip = document.getElementById('tooltip');
  var jump = document.getElementById('jump');
  var measure = document.createElement('canvas').getContext('2d');
  measure.font = FONT;

  function el(name, attrs, parent) {
    var e = document.createElementNS(SVG_NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  // Every operation of every partition, with its label width.
  var all = [];
  var byPart = data.partitions.map(function (part, p) {
    return part.ops.map(function (op, i) {
      var o = { p: p, i: i, op: op, w: Math.ceil(measure.measureText(op.desc).width) + 2 * PAD };
      all.push(o);
      return o;
    });
  });

  // Time warp: each distinct (time, call-or-return) instant gets an x, at
  // least GAP after the previous one, and a return lies far enough right of
  // its call for the label. A call sorts before a return at the same time.
  var instants = [];
  all.forEach(function (o) {
    instants.push({ t: o.op.call, ret: 0, o: o });
    instants.push({ t: o.op.ret, ret: 1, o: o });
  });
  instants.sort(function (a, b) { return a.t - b.t || a.ret - b.ret; });
  var x = -GAP;
  for (var s = 0; s < instants.length;) {
    var e = s;
    var nx = x + GAP;
    while (e < instants.length && instants[e].t === instants[s].t && instants[e].ret === instants[s].ret) {
      if (instants[e].ret) nx = Math.max(nx, instants[e].o.x0 + instants[e].o.w);
      e++;
    }
    for (var k = s; k < e; k++) {
      if (instants[k].ret) instants[k].o.x1 = nx; else instants[k].o.x0 = nx;
    }
    x = nx;
    s = e;
  }
  var width = Math.max(x, 0) + 40;

  // Rows: one per client (by id), with extra lanes only if one client's
  // operations overlap.
  var clients = {};
  all.forEach(function (o) { (clients[o.op.client] = clients[o.op.client] || []).push(o); });
  var ids = Object.keys(clients).map(Number).sort(function (a, b) { return a - b; });
  var y = TOP;
  var rows = [];
  ids.forEach(function (id, r) {
    var lanes = [];
    clients[id].sort(function (a, b) { return a.x0 - b.x0; }).forEach(function (o) {
      var l = 0;
      while (l < lanes.length && lanes[l] >= o.x0) l++;
      lanes[l] = o.x1;
      o.lane = l;
    });
    var h = Math.max(lanes.length, 1) * LANE_H;
    clients[id].forEach(function (o) { o.y = y + o.lane * LANE_H + (LANE_H - BOX_H) / 2; });
    rows.push({ id: id, y: y, h: h, odd: r % 2 === 1 });
    y += h;
  });
  var height = y + TOP;
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  rows.forEach(function (row) {
    el('rect', { x: 0, y: row.y, width: width, height: row.h, 'class': 'row-bg' + (row.odd ? ' odd' : '') }, svg);
    var label = document.createElement('div');
    label.textContent = 'client ' + row.id;
    label.style.height = row.h + 'px';
    if (row.y === TOP) label.style.marginTop = TOP + 'px';
    labels.appendChild(label);
  });

  // Operations.
  var opLayer = el('g', {}, svg);
  all.forEach(function (o) {
    var g = el('g', { 'class': 'op', 'data-p': o.p, 'data-i': o.i }, opLayer);
    el('rect', { x: o.x0, y: o.y, width: Math.max(o.x1 - o.x0, 1), height: BOX_H, rx: 3 }, g);
    var t = el('text', { x: o.x0 + PAD, y: o.y + BOX_H / 2 + 4 }, g);
    t.textContent = o.op.desc;
    o.g = g;
    g.addEventListener('mouseenter', function (ev) { if (!pinned) select(o, ev); });
    g.addEventListener('mousemove', function (ev) { if (!pinned) place(ev); });
    g.addEventListener('mouseleave', function () { if (!pinned) reset(); });
    g.addEventListener('click', function (ev) {
      ev.stopPropagation();
      if (pinned === o) { pinned = null; reset(); } else { pinned = null; select(o, ev); pinned = o; }
    });
  });
  svg.addEventListener('click', function () { if (pinned) { pinned = null; reset(); } });

  // Linearization points, one layer per partition.
  var lpLayers = data.partitions.map(function (_, p) { return el('g', { 'class': 'lps', 'data-p': p }, svg); });

  // Draws partition p's linearization `lin` (an index into its lins).
  function drawLin(p, lin) {
    var layer = lpLayers[p];
    while (layer.firstChild) layer.removeChild(layer.firstChild);
    var l = data.partitions[p].lins[lin];
    if (!l) return;
    var ops = byPart[p];
    // Points sit on the boxes' lower edges, each no earlier than the one
    // before it and within its operation's box.
    var px = -Infinity;
    var points = l.steps.map(function (step) {
      var o = ops[step[0]];
      px = Math.min(Math.max(px + 2, o.x0 + 4), o.x1 - 4);
      return { x: px, y: o.y + BOX_H };
    });
    for (var k = 1; k < points.length; k++) {
      el('line', { x1: points[k - 1].x, y1: points[k - 1].y, x2: points[k].x, y2: points[k].y, 'class': 'lp-link valid' }, layer);
    }
    var last = points[points.length - 1];
    var bad = l.invalid.map(function (i) {
      var o = ops[i];
      var bx = Math.min(Math.max(last ? last.x + 2 : -Infinity, o.x0 + 4), o.x1 - 4);
      var b = { x: bx, y: o.y + BOX_H };
      if (last) el('line', { x1: last.x, y1: last.y, x2: b.x, y2: b.y, 'class': 'lp-link invalid' }, layer);
      return b;
    });
    points.forEach(function (q) { el('circle', { cx: q.x, cy: q.y, r: 4, 'class': 'lp valid' }, layer); });
    bad.forEach(function (q) { el('circle', { cx: q.x, cy: q.y, r: 4, 'class': 'lp invalid' }, layer); });
  }

  var pinned = null;

  // By default the illegal partitions' longest partial linearizations are
  // drawn (all partitions' if none is illegal); hovering shows any.
  var anyIllegal = data.partitions.some(function (p) { return p.result === 'illegal'; });

  function reset() {
    tooltip.style.display = 'none';
    all.forEach(function (o) { o.g.classList.remove('faded', 'selected'); });
    data.partitions.forEach(function (part, p) {
      var shown = !anyIllegal || part.result === 'illegal';
      lpLayers[p].style.display = shown ? '' : 'none';
      drawLin(p, shown ? 0 : -1);
    });
  }

  function linOf(o) {
    var l = data.partitions[o.p].longest[o.i];
    return l === null || l === undefined ? 0 : l;
  }

  function select(o, ev) {
    all.forEach(function (q) {
      q.g.classList.toggle('faded', q.p !== o.p);
      q.g.classList.toggle('selected', q === o);
    });
    lpLayers.forEach(function (layer, p) { layer.style.display = p === o.p ? '' : 'none'; });
    var lin = linOf(o);
    drawLin(o.p, lin);
    tooltip.textContent = '';
    var part = data.partitions[o.p];
    var title = document.createElement('b');
    title.textContent = o.op.desc;
    tooltip.appendChild(title);
    tooltip.appendChild(document.createTextNode('\n' + describe(part, o, part.lins[lin])));
    tooltip.style.display = 'block';
    place(ev, o);
  }

  function describe(part, o, l) {
    var before = part.init, after = null;
    if (l) {
      for (var k = 0; k < l.steps.length; k++) {
        if (l.steps[k][0] === o.i) { after = l.steps[k][1]; break; }
        before = l.steps[k][1];
      }
    }
    var state = function (s) { return data.states[s]; };
    return 'client ' + o.op.client + ', partition ' + o.p + ' (' + part.result + ')' +
      '\nprevious state: ' + state(before) +
      '\nnew state: ' + (after === null ? '\u27e8invalid op\u27e9' : state(after)) +
      '\ncall: ' + o.op.call + ' ns, return: ' + o.op.ret + ' ns (from t0 = ' + data.t0 + ' ns)';
  }

  // Near the pointer, or below the operation's box without one.
  function place(ev, o) {
    var x, y;
    if (ev && ev.clientX !== undefined) { x = ev.clientX; y = ev.clientY; }
    else if (o) { var r0 = o.g.getBoundingClientRect(); x = r0.left; y = r0.bottom; }
    else return;
    var left = x + 14, top = y + 14;
    var r = tooltip.getBoundingClientRect();
    if (left + r.width > window.innerWidth - 8) left = Math.max(8, x - r.width - 14);
    if (top + r.height > window.innerHeight - 8) top = Math.max(8, y - r.height - 14);
    tooltip.style.left = left + 'px';
    tooltip.style.top = top + 'px';
  }

  // Scrolls the leftmost red point drawn into view; records where, for the
  // headless check.
  function jumpToFirstError() {
    var first = null;
    svg.querySelectorAll('circle.lp.invalid').forEach(function (c) {
      if (c.parentNode.style.display === 'none') return;
      if (!first || +c.getAttribute('cx') < +first.getAttribute('cx')) first = c;
    });
    if (!first) return;
    scroller.scrollLeft = Math.max(0, +first.getAttribute('cx') - scroller.clientWidth / 3);
    first.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    first.classList.add('flash');
    setTimeout(function () { first.classList.remove('flash'); }, 1500);
    document.body.setAttribute('data-first-error-x', Math.round(+first.getAttribute('cx')));
    document.body.setAttribute('data-scroll-left', Math.round(scroller.scrollLeft));
    document.body.setAttribute('data-view-width', Math.round(scroller.clientWidth));
  }
  jump.addEventListener('click', function (ev) { ev.preventDefault(); jumpToFirstError(); });

  reset();

  // #first-error in the address jumps to the first error; #op=P.I pins
  // operation I of partition P (links to share, and how the headless check
  // looks at the jump and at a tooltip).
  var m = /^#op=(\d+)\.(\d+)$/.exec(location.hash);
  var target = m && byPart[+m[1]] && byPart[+m[1]][+m[2]];
  if (target) {
    scroller.scrollLeft = Math.max(0, target.x0 - scroller.clientWidth / 3);
    select(target, null);
    pinned = target;
  }
  if (location.hash === '#first-error') jumpToFirstError();

  // What was drawn, for people and for the headless check.
  var invalid = svg.querySelectorAll('circle.lp.invalid').length;
  var valid = svg.querySelectorAll('circle.lp.valid').length;
  var illegal = data.partitions.filter(function (p) { return p.result === 'illegal'; }).length;
  if (!invalid) jump.classList.add('none');
  document.getElementById('summary').textContent = all.length + ' operations, ' + ids.length + ' clients, ' +
    data.partitions.length + ' partitions (' + illegal + ' illegal)';
  var b = document.body;
  b.setAttribute('data-drawn-ops', opLayer.querySelectorAll('g.op').length);
  b.setAttribute('data-valid-lps', valid);
  b.setAttribute('data-invalid-lps', invalid);
  b.setAttribute('data-partitions', data.partitions.length);
})();

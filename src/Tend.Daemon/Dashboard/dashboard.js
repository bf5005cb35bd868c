// The Tend dashboard: plain JS, no framework, no build step. Everything shown comes from the
// daemon's API on this same origin (docs/dashboard.md). Data reaches the DOM through textContent
// only, never as HTML: app names, log lines and env values are whatever the apps made them.
'use strict';

(() => {
  const TOKEN_KEY = 'tend.token';
  const REFRESH_MS = 5000;         // list and charts, for CPU and memory (events cover the rest)
  const RECONNECT_MS = 2000;
  const MAX_LOG_LINES = 2000;
  const MAX_EVENTS = 150;
  const WINDOW_MS = 10 * 60 * 1000; // the charts' span, as much as the daemon keeps

  const $ = id => document.getElementById(id);

  // ---- token ---------------------------------------------------------------------------------
  let token = sessionStorage.getItem(TOKEN_KEY);
  if (location.hash.startsWith('#token=')) {
    // Accepted once from the URL (a link the operator made), then kept for this tab only and
    // removed from the address bar and history.
    token = decodeURIComponent(location.hash.slice('#token='.length));
    sessionStorage.setItem(TOKEN_KEY, token);
    history.replaceState(null, '', location.pathname + location.search);
  }

  class Unauthorized extends Error {}

  async function api(path, options = {}) {
    const headers = Object.assign({}, options.headers);
    if (token) headers.Authorization = 'Bearer ' + token;
    const res = await fetch(path, Object.assign({}, options, { headers, cache: 'no-store' }));
    if (res.status === 401) {
      askToken();
      throw new Unauthorized('token required');
    }
    if (!res.ok) {
      let message = `${res.status} ${res.statusText}`;
      try { message = (await res.json()).error || message; } catch { /* not JSON */ }
      throw new Error(message);
    }
    return res;
  }
  const getJson = async path => (await api(path)).json();
  const postJson = async (path, body) => (await api(path, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  })).json();

  let started = false;
  function askToken(refused) {
    const dialog = $('token-dialog');
    $('token-error').hidden = !refused;
    setLive('error', 'token required');
    if (!dialog.open) dialog.showModal();
    $('token-input').focus();
  }
  $('token-form').addEventListener('submit', async e => {
    e.preventDefault();
    token = $('token-input').value.trim();
    try {
      const res = await fetch('/v1/ping', { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' });
      if (res.status === 401) { $('token-error').hidden = false; return; }
    } catch { return; }
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token-input').value = '';
    $('token-dialog').close();
    if (!started) { start(); return; }
    // The daemon asked again (restarted with another token, say): pick the streams up again.
    followEvents();
    followLogs();
    scheduleRefresh();
  });
  $('token-dialog').addEventListener('cancel', e => e.preventDefault());

  // ---- formatting ----------------------------------------------------------------------------
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  }
  const svgNs = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs) {
    const node = document.createElementNS(svgNs, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }

  function bytes(n) {
    if (n === null || n === undefined) return '–';
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
  }
  function duration(ms) {
    if (ms === null || ms === undefined) return '–';
    const s = Math.floor(ms / 1000);
    if (s < 60) return s + 's';
    const m = Math.floor(s / 60);
    const two = (a, ua, b, ub) => a + ua + (b ? ' ' + b + ub : '');
    if (m < 60) return two(m, 'm', s % 60, 's');
    const h = Math.floor(m / 60);
    if (h < 24) return two(h, 'h', m % 60, 'm');
    return two(Math.floor(h / 24), 'd', h % 24, 'h');
  }
  const pct = v => (v >= 10 ? v.toFixed(0) : v.toFixed(1)) + '%';
  const clock = t => new Date(t).toLocaleTimeString([], { hour12: false });
  const badge = (status, title) => el('span', { class: 'badge s-' + status, title }, status);

  let toastTimer;
  function toast(text, isError) {
    const t = $('toast');
    t.textContent = text;
    t.className = 'toast' + (isError ? ' error' : '');
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, isError ? 7000 : 3500);
  }

  function setLive(state, text) {
    $('live').dataset.state = state;
    $('live-text').textContent = text;
  }

  // ---- instances -----------------------------------------------------------------------------
  let instances = [];
  let appNames = [];
  let selectedApp = null;

  async function refreshList() {
    instances = await getJson('/v1/list');
    const names = [...new Set(instances.map(i => i.name))];
    const changed = names.join('\n') !== appNames.join('\n');
    appNames = names;
    renderInstances();
    if (changed) renderLogTargets();
  }

  function renderInstances() {
    const body = $('instances').tBodies[0];
    body.replaceChildren(...instances.map(i => el('tr', {
      class: i.name === selectedApp ? 'selected' : null,
      dataset: { name: i.name, instance: String(i.instance), pid: i.pid === null ? '' : String(i.pid), status: i.status },
    },
      el('td', { class: 'mono muted' }, i.id),
      el('td', { class: 'name' }, el('a', { onclick: () => openDetails(i.name) }, i.name), el('span', { class: 'inst' }, '#' + i.instance)),
      el('td', { class: 'mono pid' }, i.pid ?? '–'),
      el('td', { class: 'status' }, badge(i.status, i.status_text || null),
        i.status_text ? el('span', { class: 'muted' }, ' ' + i.status_text) : null,
        i.status !== 'online' && i.exit_signal ? el('span', { class: 'muted' }, ' ' + i.exit_signal) : null,
        i.status !== 'online' && i.exit_code !== null && !i.exit_signal ? el('span', { class: 'muted' }, ' exit ' + i.exit_code) : null),
      el('td', { class: i.ready ? 'ready-yes' : 'ready-no' }, i.ready ? '✓' : '–'),
      el('td', { class: 'num restarts' }, i.restarts),
      el('td', { class: 'num' }, i.status === 'online' ? duration(i.uptime_ms) : '–'),
      el('td', { class: 'num' }, i.status === 'online' ? pct(i.cpu_percent) : '–'),
      el('td', { class: 'num' }, i.status === 'online' ? bytes(i.memory_bytes) : '–'),
      el('td', { class: 'actions' },
        el('button', { type: 'button', class: 'restart', title: 'restart ' + i.name + '#' + i.instance, onclick: () => act('restart', i.name + '#' + i.instance) }, 'restart'),
        el('button', { type: 'button', class: 'stop danger', title: 'stop ' + i.name + '#' + i.instance, onclick: () => act('stop', i.name + '#' + i.instance) }, 'stop')),
    )));
    $('no-apps').hidden = instances.length > 0;
    const online = instances.filter(i => i.status === 'online').length;
    const errored = instances.filter(i => i.status === 'errored').length;
    $('summary').textContent = `${appNames.length} apps · ${instances.length} instances · ${online} online` +
      (errored ? ` · ${errored} errored` : '');
  }

  async function act(action, target) {
    try {
      const result = await postJson('/v1/' + action, { target });
      toast(result.message);
    } catch (e) {
      if (!(e instanceof Unauthorized)) toast(`${action} ${target}: ${e.message}`, true);
    }
    scheduleRefresh();
  }

  // ---- charts --------------------------------------------------------------------------------
  function niceCeil(v, min) {
    v = Math.max(v, min);
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }
  function niceBytes(v) {
    v = Math.max(v, 1024 * 1024);
    let unit = 1;
    while (v / unit >= 1024) unit *= 1024;
    return niceCeil(v / unit, 1) * unit;
  }

  // One series as an SVG area + line over [now - WINDOW, now]; a break where samples are missing
  // (nothing ran), rather than a line drawn across the gap.
  function chart(points, value, max, resolutionMs, kind, now) {
    const W = 300, H = 60;
    const s = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img' });
    for (const f of [0.25, 0.5, 0.75]) s.append(svg('line', { class: 'gridline', x1: 0, x2: W, y1: H * f, y2: H * f, 'vector-effect': 'non-scaling-stroke' }));
    const x = t => ((t - (now - WINDOW_MS)) / WINDOW_MS) * W;
    const y = v => H - Math.min(v / max, 1) * (H - 2) - 1;
    let segment = [];
    const segments = [segment];
    let last = null;
    for (const p of points) {
      const t = Date.parse(p.time);
      if (t < now - WINDOW_MS - resolutionMs) continue;
      if (last !== null && t - last > resolutionMs * 2.5) segments.push(segment = []);
      segment.push([x(t), y(value(p))]);
      last = t;
    }
    for (const seg of segments) {
      if (seg.length === 0) continue;
      if (seg.length === 1) seg.push([seg[0][0] + 2, seg[0][1]]);
      const line = seg.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ');
      s.append(svg('polygon', { class: kind + '-area', points: `${seg[0][0].toFixed(1)},${H} ${line} ${seg[seg.length - 1][0].toFixed(1)},${H}` }));
      s.append(svg('polyline', { class: kind + '-line', points: line, 'vector-effect': 'non-scaling-stroke' }));
    }
    return s;
  }

  async function refreshHistory() {
    const histories = await getJson('/v1/history');
    const now = Date.now();
    $('charts').replaceChildren(...histories.map(h => {
      const pts = h.points;
      const lastPoint = pts.length ? pts[pts.length - 1] : null;
      const recent = lastPoint && now - Date.parse(lastPoint.time) < h.resolution_ms * 3;
      const cpuMax = niceCeil(Math.max(0, ...pts.map(p => p.cpu_percent)), 5);
      const memMax = niceBytes(Math.max(0, ...pts.map(p => p.memory_bytes)));
      return el('div', { class: 'chart-card', dataset: { app: h.name } },
        el('h3', null, el('span', null, h.name),
          el('span', { class: 'now' }, recent ? el('span', null, 'cpu ', el('b', { class: 'cpu-now' }, pct(lastPoint.cpu_percent)),
            ' · mem ', el('b', { class: 'mem-now' }, bytes(lastPoint.memory_bytes))) : 'not running')),
        el('div', { class: 'chart-label' }, el('span', null, 'CPU'), el('span', null, 'max ' + cpuMax + '%')),
        chart(pts, p => p.cpu_percent, cpuMax, h.resolution_ms, 'cpu', now),
        el('div', { class: 'chart-label' }, el('span', null, 'Memory'), el('span', null, 'max ' + bytes(memMax))),
        chart(pts, p => p.memory_bytes, memMax, h.resolution_ms, 'mem', now),
        el('div', { class: 'chart-label' }, el('span', null, '−10 min'), el('span', null, 'now')));
    }));
    if (histories.length === 0) $('charts').replaceChildren(el('p', { class: 'empty' }, 'No apps.'));
  }

  // ---- supervision tree ----------------------------------------------------------------------
  function treeNode(n) {
    const isSup = n.kind === 'supervisor';
    const meta = [];
    if (isSup && n.strategy) meta.push(n.strategy);
    if (isSup && n.max_restarts !== null) meta.push(`max ${n.max_restarts} in ${duration(n.within_ms)}`);
    if (n.restarts) meta.push(n.restarts + ' restarts');
    if (!isSup && n.pids.length) meta.push('pid ' + n.pids.join(', '));
    if (n.depends_on.length) meta.push('after ' + n.depends_on.join(', '));
    const statuses = n.status.split(',');
    return el('li', null,
      el('div', { class: 'node' },
        el('span', { class: 'kind' }, isSup ? 'sup' : 'app'),
        isSup ? el('span', { class: 'sup' }, n.name) : el('a', { onclick: () => openDetails(n.name) }, n.name),
        statuses.map(s => badge(s)),
        el('span', { class: 'meta' }, meta.join(' · ')),
        n.reason ? el('span', { class: 'meta' }, '— ' + n.reason) : null),
      n.children.length ? el('ul', null, n.children.map(treeNode)) : null);
  }
  async function refreshTree() {
    const root = await getJson('/v1/tree');
    $('tree').replaceChildren(el('ul', null, treeNode(root)));
  }

  // ---- alerts --------------------------------------------------------------------------------
  async function refreshAlerts() {
    const report = await getJson('/v1/alerts');
    $('alerts-panel').hidden = report.rules === 0;
    const firing = report.active.filter(a => a.state === 'firing').length;
    $('alerts-summary').textContent = `${firing} firing, ${report.active.length - firing} pending · ${report.rules} rules` +
      (report.outbox_pending ? ` · ${report.outbox_pending} waiting to be delivered` : '') +
      (report.undeliverable.length ? ` · ${report.undeliverable.length} undeliverable` : '');
    const rows = report.active.map(a => el('li', { dataset: Object.assign({ fingerprint: a.fingerprint, state: a.state }, a.inhibited_by ? { muted: 'true' } : {}) },
      el('span', { class: 'state' }, a.state + (a.inhibited_by ? ' (muted)' : '')),
      el('div', null, el('strong', null, a.rule), ' ', el('span', { class: 'muted' }, a.app + (a.instance !== null ? '#' + a.instance : '')), ' ',
        el('span', null, a.summary), el('span', { class: 'desc' }, a.description + (a.inhibited_by ? ' — muted by ' + a.inhibited_by : '')))));
    if (rows.length === 0) rows.push(el('li', { class: 'none' }, el('span', { class: 'state' }, 'ok'), el('span', { class: 'muted' }, 'no active alerts')));
    $('alerts').replaceChildren(...rows);
  }

  // ---- events --------------------------------------------------------------------------------
  let lastSeq = null;
  let eventsAbort = null;

  function addEvent(e) {
    if (e.seq > 0) lastSeq = e.seq;
    const who = e.app ? e.app + (e.instance !== null ? '#' + e.instance : '') : '';
    const list = $('events');
    list.prepend(el('li', { class: 't-' + e.type },
      el('time', { datetime: e.time }, clock(e.time)),
      el('div', null, el('span', { class: 'type' }, e.type), who ? el('span', { class: 'muted' }, ' ' + who) : null,
        el('span', { class: 'msg' }, e.message))));
    while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
  }

  let followingEvents = false;
  async function followEvents() {
    if (followingEvents) return;
    followingEvents = true;
    try { await followEventsLoop(); } finally { followingEvents = false; }
  }
  async function followEventsLoop() {
    for (;;) {
      eventsAbort = new AbortController();
      try {
        const after = lastSeq === null ? '' : '&after=' + lastSeq;
        const res = await api('/v1/events?follow=true' + after, { signal: eventsAbort.signal });
        setLive('on', 'live');
        scheduleRefresh();
        await readNdjson(res, e => { addEvent(e); scheduleRefresh(e.app); });
      } catch (e) {
        if (e instanceof Unauthorized) return;
      }
      setLive('error', 'reconnecting…');
      await new Promise(r => setTimeout(r, RECONNECT_MS));
    }
  }

  async function readNdjson(res, onItem) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line) onItem(JSON.parse(line));
      }
    }
  }

  // Events come in bursts (a restart is exited + restart_scheduled + started + online): one
  // refresh for the burst.
  let refreshTimer = null;
  let detailsDirty = false;
  function scheduleRefresh(app) {
    if (app && app === selectedApp) detailsDirty = true;
    if (refreshTimer) return;
    refreshTimer = setTimeout(async () => {
      refreshTimer = null;
      await Promise.all([refreshList(), refreshTree(), refreshAlerts()]).catch(ignoreAuth);
      if (detailsDirty) { detailsDirty = false; await refreshDetails().catch(ignoreAuth); }
    }, 150);
  }
  function ignoreAuth(e) { if (!(e instanceof Unauthorized)) console.warn(e); }

  // ---- details -------------------------------------------------------------------------------
  function kvTable(rows, id) {
    return el('table', { class: 'kv', id }, rows.filter(r => r && r[1] !== null && r[1] !== undefined && r[1] !== '')
      .map(([k, v]) => el('tr', null, el('th', null, k), el('td', null, v))));
  }
  function section(title, content, wide) {
    return el('div', { class: wide ? 'wide' : null }, el('h4', null, title), content);
  }
  const ms = v => (v === null || v === undefined ? null : v < 0 ? 'none' : v >= 1000 ? (v / 1000) + 's' : v + 'ms');

  async function openDetails(name) {
    selectedApp = name;
    $('details').hidden = false;
    renderInstances();
    await refreshDetails().catch(e => { if (!(e instanceof Unauthorized)) toast(e.message, true); });
    $('details').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  }

  async function refreshDetails() {
    if (!selectedApp) return;
    const app = await getJson('/v1/apps/' + encodeURIComponent(selectedApp));
    $('details-title').textContent = app.name;
    if (document.activeElement !== $('scale-count')) $('scale-count').value = app.instances_wanted;
    const spec = kvTable([
      ['command', [app.command, ...app.args].join(' ')],
      ['cwd', app.cwd],
      ['instances', String(app.instances_wanted)],
      ['restart', `${app.restart} (max ${app.max_restarts}, min uptime ${ms(app.min_uptime_ms)}, delay ${ms(app.restart_delay_ms)})`],
      ['stop', `${app.stop_signal}, kill after ${ms(app.kill_timeout_ms)}`],
      ['max memory', app.max_memory_bytes ? bytes(app.max_memory_bytes) : null],
      ['ready', app.ready], ['ready timeout', ms(app.ready_timeout_ms)], ['live', app.live], ['watchdog', ms(app.watchdog_ms)],
      ['depends on', app.depends_on?.join(', ')], ['supervisors', app.supervisors?.join(' › ')],
      ['listen', app.listen ? app.listen.join(', ') + ' (' + app.listen_mode + ')' : null],
      ['critical', app.critical ? 'yes' : null], ['config', app.config_path],
    ], 'details-spec');
    const envKeys = Object.keys(app.env).sort();
    const env = envKeys.length ? kvTable(envKeys.map(k => [k, app.env[k]]), 'details-env') : el('p', { class: 'muted' }, 'none');

    const parts = [section('Spec', spec), section(`Environment · ${envKeys.length} (secret-looking values masked)`, el('div', { class: 'scroll' }, env))];
    for (const i of app.instances) {
      const rows = kvTable([
        ['status', badge(i.status)], ['pid', i.pid === null ? null : String(i.pid)], ['ready', i.ready ? 'yes' : 'no'],
        ['started', i.started_at ? new Date(i.started_at).toLocaleString() : null],
        ['restarts', `${i.restarts} (${i.unstable_restarts} unstable)`],
        ['why', i.status_reason], ['last restart', i.last_restart_reason], ['status text', i.status_text],
        ['logs', i.out_log + (i.err_log && i.err_log !== i.out_log ? '  ' + i.err_log : '')],
        ['dropped lines', i.dropped_lines ? String(i.dropped_lines) : null],
      ]);
      const blocks = [rows];
      if (i.probes?.length) blocks.push(el('h4', null, 'Probes'), el('table', { class: 'grid probes' },
        el('thead', null, el('tr', null, ['role', 'check', 'state', 'recent', 'last', 'latency', 'failures', 'detail'].map(h => el('th', null, h)))),
        el('tbody', null, i.probes.map(p => el('tr', { dataset: { role: p.role } },
          el('td', null, p.role), el('td', { class: 'mono' }, p.check),
          el('td', null, el('span', { class: 'badge s-' + (p.passing ? 'online' : 'errored') }, p.passing ? 'passing' : 'failing')),
          el('td', { class: 'recent' }, recentChecks(p.recent)),
          el('td', null, p.last_at ? clock(p.last_at) : '–'),
          el('td', { class: 'num' }, p.last_latency_ms === null ? '–' : p.last_latency_ms.toFixed(1) + ' ms'),
          el('td', { class: 'num' }, `${p.failures}/${p.checks}`),
          el('td', { class: 'muted detail' }, p.last_detail ?? ''))))));
      if (i.recent_exits?.length) blocks.push(el('h4', null, 'Last exits'), el('table', { class: 'grid exits' },
        el('thead', null, el('tr', null, ['time', 'pid', 'exit', 'uptime', 'cause'].map(h => el('th', null, h)))),
        el('tbody', null, [...i.recent_exits].reverse().map(x => el('tr', null,
          el('td', null, clock(x.time)), el('td', { class: 'mono' }, x.pid),
          el('td', null, x.exit_signal ?? ('code ' + x.exit_code)), el('td', { class: 'num' }, duration(x.uptime_ms)),
          el('td', null, x.reason))))));
      // .NET runtime counters, when the daemon sampled this instance: shown generically, so new
      // counters appear without a dashboard change.
      if (i.dotnet && typeof i.dotnet === 'object') {
        const keys = Object.keys(i.dotnet).filter(k => k !== 'sampled_at').sort();
        blocks.push(el('h4', null, '.NET runtime' + (i.dotnet.sampled_at ? ' (sampled ' + clock(i.dotnet.sampled_at) + ')' : '')),
          kvTable(keys.map(k => [k.replace(/_/g, ' '), counter(k, i.dotnet[k])]), 'dotnet-' + i.instance));
      }
      parts.push(section(`${app.name}#${i.instance}`, blocks, i.probes?.length > 0 || i.recent_exits?.length > 0 || !!i.dotnet));
    }
    $('details-body').replaceChildren(...parts);
  }
  // A probe's last checks (up to 30, oldest first from the daemon): one mark per check, newest on
  // the right, each with its time, latency and detail as a tooltip; then the latency as a sparkline.
  function recentChecks(recent) {
    if (!recent?.length) return el('span', { class: 'muted' }, '–');
    const failed = recent.filter(c => !c.success).length;
    const marks = el('span', { class: 'marks', title: `last ${recent.length} checks, ${failed} failed` }, recent.map(c =>
      el('span', {
        class: 'mark ' + (c.success ? 'ok' : 'fail'),
        title: `${clock(c.at)} · ${c.success ? 'passed' : 'failed'} · ${c.latency_ms.toFixed(1)} ms` + (c.detail ? ' · ' + c.detail : ''),
      })));
    return el('span', { class: 'probe-recent' }, marks, latencySpark(recent));
  }
  function latencySpark(recent) {
    const W = 60, H = 14;
    const max = Math.max(...recent.map(c => c.latency_ms));
    const s = svg('svg', { class: 'spark', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img' });
    const title = svg('title');
    title.textContent = `latency, max ${max.toFixed(1)} ms`;
    s.append(title);
    if (recent.length < 2 || max <= 0) return s;
    const x = k => (k / (recent.length - 1)) * W;
    const y = v => H - 1 - (v / max) * (H - 2);
    s.append(svg('polyline', {
      class: 'spark-line', 'vector-effect': 'non-scaling-stroke',
      points: recent.map((c, k) => `${x(k).toFixed(1)},${y(c.latency_ms).toFixed(1)}`).join(' '),
    }));
    return s;
  }
  function counter(key, v) {
    if (typeof v !== 'number') return v === null ? '–' : String(v);
    if (key.endsWith('_bytes')) return bytes(v);
    return Number.isInteger(v) ? v.toLocaleString() : v.toFixed(2);
  }

  $('details-close').addEventListener('click', () => {
    selectedApp = null;
    $('details').hidden = true;
    renderInstances();
  });
  $('details-actions').addEventListener('click', async e => {
    const action = e.target.closest('button')?.dataset.action;
    if (!action || !selectedApp) return;
    if (action === 'scale') {
      const count = parseInt($('scale-count').value, 10);
      if (!(count >= 0)) { toast('scale: give a number of instances', true); return; }
      try { toast((await postJson('/v1/scale', { app: selectedApp, count, delta: null })).message); }
      catch (err) { if (!(err instanceof Unauthorized)) toast('scale: ' + err.message, true); }
      scheduleRefresh(selectedApp);
    } else if (action === 'reload') {
      try { toast((await postJson('/v1/reload', { target: selectedApp, parallel: null, update_env: false, env: null })).message); }
      catch (err) { if (!(err instanceof Unauthorized)) toast('reload: ' + err.message, true); }
      scheduleRefresh(selectedApp);
    } else {
      await act(action, selectedApp);
      detailsDirty = true;
    }
  });

  // ---- logs ----------------------------------------------------------------------------------
  // Search is a filter over the lines loaded in the page (the last 200 and what followed,
  // up to MAX_LOG_LINES), not a search of the log files.
  let logsAbort = null;
  function renderLogTargets() {
    const select = $('log-target');
    const current = select.value;
    select.replaceChildren(el('option', { value: 'all' }, 'all apps'), ...appNames.map(n => el('option', { value: n }, n)));
    select.value = appNames.includes(current) ? current : 'all';
    followLogs();
  }
  function matches(line, filter) { return !filter || line.toLowerCase().includes(filter); }

  async function followLogs() {
    logsAbort?.abort();
    const abort = logsAbort = new AbortController();
    const box = $('log-lines');
    box.replaceChildren();
    if (appNames.length === 0) { box.append(el('div', { class: 'line muted' }, 'no apps')); return; }
    const target = $('log-target').value;
    try {
      const res = await api(`/v1/logs?target=${encodeURIComponent(target)}&lines=200&follow=true`, { signal: abort.signal });
      const filter = $('log-filter').value.trim().toLowerCase();
      await readNdjson(res, l => {
        const src = l.app + '#' + l.instance;
        const line = el('div', { class: 'line' + (l.stream === 'err' ? ' err' : ''), dataset: { search: (src + ' ' + l.text).toLowerCase() } },
          el('span', { class: 'ts' }, l.time ? clock(l.time) : ''), el('span', { class: 'src' }, src), l.text);
        if (!matches(line.dataset.search, $('log-filter').value.trim().toLowerCase() || filter)) line.classList.add('hidden');
        box.append(line);
        while (box.children.length > MAX_LOG_LINES) box.firstElementChild.remove();
        if ($('log-follow').checked) box.scrollTop = box.scrollHeight;
      });
    } catch (e) {
      if (abort.signal.aborted || e instanceof Unauthorized) return;
      box.append(el('div', { class: 'line muted' }, 'log stream ended: ' + e.message));
    }
  }
  $('log-target').addEventListener('change', followLogs);
  $('log-filter').addEventListener('input', () => {
    const filter = $('log-filter').value.trim().toLowerCase();
    for (const line of $('log-lines').children) line.classList.toggle('hidden', !matches(line.dataset.search ?? '', filter));
  });

  // ---- start ---------------------------------------------------------------------------------
  async function refreshDaemon() {
    const ping = await getJson('/v1/ping');
    $('daemon').textContent = `daemon pid ${ping.pid} · v${ping.version} · ${ping.home} · up ${duration(ping.uptime_ms)}`;
  }

  async function start() {
    if (started) return;
    try {
      await refreshDaemon();
    } catch (e) {
      // Unauthorized: the token dialog takes over. Anything else (the daemon restarting): retry.
      if (!(e instanceof Unauthorized)) {
        setLive('error', 'not connected');
        $('daemon').textContent = e instanceof TypeError ? 'cannot reach the daemon; retrying' : e.message;
        setTimeout(start, RECONNECT_MS * 5);
      }
      return;
    }
    started = true;
    await Promise.all([refreshList(), refreshTree(), refreshHistory(), refreshAlerts()]).catch(ignoreAuth);
    followEvents();
    // CPU and memory change without events. Nothing runs while the tab is hidden.
    setInterval(() => {
      if (document.hidden) return;
      Promise.all([refreshList(), refreshHistory(), refreshDaemon(), refreshAlerts(), detailsDirty || selectedApp ? refreshDetails() : null]).catch(ignoreAuth);
    }, REFRESH_MS);
  }

  start();
})();

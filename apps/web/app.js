// The AgentRT web page: chat with an agent (POST /v1/agent/runs, streamed), a live trace panel, the session's
// workspace files (upload; SVG charts shown inline). Plain browser JavaScript: no build step.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { sessionId: null, running: null, shownCharts: new Set() };

function apiKey() { return $('api-key').value.trim(); }
function headers(extra = {}) {
  const h = { ...extra };
  if (apiKey()) h['Authorization'] = 'Bearer ' + apiKey();
  return h;
}
function setStatus(text) { $('status').textContent = text; }

async function api(path, options = {}) {
  const res = await fetch(path, { ...options, headers: headers(options.headers || {}) });
  const body = res.headers.get('content-type')?.includes('application/json') ? await res.json() : await res.text();
  if (!res.ok) throw new Error(body?.error?.message || ('HTTP ' + res.status));
  return body;
}

// ---- messages ----
function addMessage(role, text, extraClass) {
  const div = document.createElement('div');
  div.className = 'msg ' + role + (extraClass ? ' ' + extraClass : '');
  div.textContent = text;
  $('messages').appendChild(div);
  $('messages').scrollTop = $('messages').scrollHeight;
  return div;
}

function addCall(div, action) {
  const span = document.createElement('span');
  span.className = 'call';
  const what = action.channel === 'interpreter' ? action.code : JSON.stringify(action.arguments);
  span.textContent = '→ ' + (action.name || '(invalid call)') + ' ' + what;
  div.appendChild(span);
}

function renderHistory(messages) {
  $('messages').replaceChildren();
  for (const m of messages) {
    if (m.role === 'system') continue;
    const div = addMessage(m.role, m.content);
    for (const a of m.actions || []) addCall(div, a);
  }
}

// ---- trace ----
function summary(event) {
  switch (event.kind) {
    case 'plan': return event.text || JSON.stringify(event.steps);
    case 'thought': case 'reflection': case 'answer': return event.text || '';
    case 'select': return event.tool + ' (' + event.channel + ')';
    case 'arguments': return event.valid === false ? '[invalid] ' + event.error
                                                   : event.code ?? JSON.stringify(event.arguments);
    case 'observation': return (event.ok ? '' : '[error] ') + (event.text || '') +
        (event.latency_ms !== undefined ? '  (' + event.latency_ms + ' ms)' : '');
    case 'error': return event.message || '';
    default: return JSON.stringify(event);
  }
}

function addTraceEvent(event) {
  const li = document.createElement('li');
  li.className = 'trace-event';
  li.dataset.kind = event.kind;
  const kind = document.createElement('span');
  kind.className = 'kind';
  kind.textContent = event.kind + (event.turn !== undefined ? ' · turn ' + event.turn : '');
  li.appendChild(kind);
  li.appendChild(document.createTextNode(summary(event)));
  $('trace').appendChild(li);
  li.scrollIntoView({ block: 'nearest' });
  for (const f of event.files || []) showChart(f.path, f.summary);
}

// ---- files and charts ----
async function showChart(path, caption) {
  if (!/\.(svg|png|jpe?g|gif|webp)$/i.test(path) || state.shownCharts.has(path)) return;
  state.shownCharts.add(path);
  // Fetched with the key (an <img src> could not send it), then shown from a blob URL.
  const res = await fetch(fileUrl(path), { headers: headers() });
  if (!res.ok) return;
  const blob = await res.blob();
  const figure = document.createElement('figure');
  figure.className = 'chart';
  const img = document.createElement('img');
  img.alt = caption || path;
  img.dataset.path = path;
  img.src = URL.createObjectURL(blob);
  const cap = document.createElement('figcaption');
  cap.textContent = caption ? path + ': ' + caption : path;
  figure.append(img, cap);
  $('charts').appendChild(figure);
}

function fileUrl(path) {
  return '/v1/sessions/' + encodeURIComponent(state.sessionId) + '/files/' +
      path.split('/').map(encodeURIComponent).join('/');
}

async function refreshFiles() {
  if (!state.sessionId) return;
  const list = await api('/v1/sessions/' + state.sessionId + '/files');
  $('files').replaceChildren();
  for (const f of list.data) {
    const li = document.createElement('li');
    li.textContent = f.path + ' (' + f.bytes + ' bytes)';
    li.dataset.path = f.path;
    $('files').appendChild(li);
    showChart(f.path, '');
  }
}

async function upload(event) {
  event.preventDefault();
  const file = $('upload-input').files[0];
  if (!file) return;
  await ensureSession();
  const form = new FormData();
  form.append('file', file, file.name);
  try {
    const r = await api('/v1/sessions/' + state.sessionId + '/files', { method: 'POST', body: form });
    setStatus('uploaded ' + r.path);
    $('upload-input').value = '';
    await refreshFiles();
  } catch (e) {
    setStatus('upload failed: ' + e.message);
  }
}

// ---- sessions ----
async function loadSessions(selectId) {
  const list = await api('/v1/sessions');
  const select = $('session-select');
  select.replaceChildren();
  for (const s of list.data) {
    const opt = document.createElement('option');
    opt.value = s.id;
    opt.textContent = s.title + ' · ' + s.message_count + ' messages';
    select.appendChild(opt);
  }
  if (selectId) select.value = selectId;
}

async function openSession(id) {
  state.sessionId = id;
  state.shownCharts.clear();
  $('charts').replaceChildren();
  $('trace').replaceChildren();
  if (!id) {
    $('messages').replaceChildren();
    $('files').replaceChildren();
    return;
  }
  const [messages, trace] = await Promise.all([api('/v1/sessions/' + id + '/messages'),
                                              api('/v1/sessions/' + id + '/trace')]);
  renderHistory(messages.data);
  for (const e of trace.data) addTraceEvent(e);
  await refreshFiles();
}

async function ensureSession() {
  if (state.sessionId) return;
  const s = await api('/v1/sessions', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                        body: JSON.stringify({ title: 'Web session' }) });
  state.sessionId = s.id;
  await loadSessions(s.id);
}

// ---- a run ----
// Reads server-sent events from a fetch response; calls onEvent with each JSON payload.
async function readEvents(res, onEvent) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
      if (data && data !== '[DONE]') onEvent(JSON.parse(data));
    }
  }
}

async function send(event) {
  event.preventDefault();
  const task = $('chat-input').value.trim();
  if (!task || state.running) return;
  await ensureSession();
  $('chat-input').value = '';
  addMessage('user', task);
  const bubble = addMessage('assistant', '');
  const controller = new AbortController();
  state.running = controller;
  $('send').disabled = true;
  $('stop').disabled = false;
  setStatus('running…');
  try {
    const res = await fetch('/v1/agent/runs', {
      method: 'POST', signal: controller.signal,
      headers: headers({ 'Content-Type': 'application/json' }),
      body: JSON.stringify({ task, session_id: state.sessionId, stream: true }),
    });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new Error(body?.error?.message || 'HTTP ' + res.status);
    }
    let current = bubble;
    await readEvents(res, (e) => {
      if (e.type === 'text') {
        current.textContent += e.text;
      } else if (e.type === 'trace') {
        addTraceEvent(e.event);
        if (e.event.kind === 'arguments') {
          addCall(current, { name: e.event.tool, channel: e.event.channel, code: e.event.code,
                             arguments: e.event.valid ? e.event.arguments : e.event.error });
        } else if (e.event.kind === 'observation') {
          addMessage('environment', e.event.text || '');
          current = addMessage('assistant', '');
        }
      } else if (e.type === 'done') {
        if (!current.textContent && e.answer) current.textContent = e.answer;
        if (!current.textContent) current.remove();
        setStatus(e.error ? 'error: ' + e.error : e.cancelled ? 'cancelled' : 'done in ' + e.turns + ' turn(s)');
      } else if (e.error) {
        addMessage('assistant', e.error.message, 'error');
        setStatus('error');
      }
    });
  } catch (e) {
    if (e.name !== 'AbortError') {
      addMessage('assistant', e.message, 'error');
      setStatus('error: ' + e.message);
    } else {
      setStatus('stopped');
    }
  } finally {
    state.running = null;
    $('send').disabled = false;
    $('stop').disabled = true;
    await loadSessions(state.sessionId).catch(() => {});
    await refreshFiles().catch(() => {});
  }
}

function init() {
  $('api-key').value = localStorage.getItem('agentrt.apiKey') || '';
  $('api-key').addEventListener('change', () => {
    localStorage.setItem('agentrt.apiKey', apiKey());
    loadSessions(state.sessionId).catch((e) => setStatus(e.message));
  });
  $('chat-form').addEventListener('submit', send);
  $('chat-input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) send(e);
  });
  $('stop').addEventListener('click', () => state.running?.abort());
  $('upload-form').addEventListener('submit', upload);
  $('new-session').addEventListener('click', async () => {
    state.sessionId = null;
    await ensureSession();
    await openSession(state.sessionId);
  });
  $('session-select').addEventListener('change', () => openSession($('session-select').value));
  loadSessions().then(() => {
    const first = $('session-select').value;
    if (first) return openSession(first);
  }).then(() => setStatus('ready')).catch((e) => setStatus(e.message));
}

init();

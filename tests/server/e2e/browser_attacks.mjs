// Pages of other origins try to drive agentrt serve from a real browser (headless Chromium through
// playwright-core), as a site the user happens to visit would:
//   1. a page on http://evil.test fires `fetch(..., {mode: "no-cors"})` POSTs with text/plain bodies at
//      /v1/sessions and /v1/agent/runs, submits a text/plain form into an iframe, and tries to read
//      /v1/sessions with a CORS fetch;
//   2. DNS rebinding: a page served as http://rebind.test:PORT (the server's own port; the name resolves to
//      127.0.0.1) calls the API "same-origin" and tries to read what it answers.
// Chromium resolves both names to 127.0.0.1 (--host-resolver-rules), so every request really reaches the
// server. The cross-origin page comes from a web server of this script's own (so that, as for a page of the
// user's own network, Chromium's Private Network Access rules let its requests out: the server must defend
// itself, as it must in browsers without those rules); the rebound page is served by playwright (page.route),
// with Private Network Access checks off, since the attack aims at browsers without them. The script prints
// what the pages could see; the GoogleTest driver (test_e2e_node.cpp) checks on the server that nothing was
// created.
// Usage: BASE_URL=http://127.0.0.1:PORT node browser_attacks.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.BASE_URL;
const port = new URL(base).port;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'agentrt-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync',
         '--host-resolver-rules=MAP evil.test 127.0.0.1, MAP rebind.test 127.0.0.1',
         '--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,' +
           'PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks'],
});
// The attacker's own web server: whatever page is asked for, the attack page set last.
let attackHtml = '';
const attacker = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html' });
  res.end(attackHtml);
});
await new Promise((resolve) => attacker.listen(0, '127.0.0.1', resolve));
const attackerPort = attacker.address().port;

// The attacker's page: runs `script` (an async function body) and leaves its findings in window.findings.
function attackPage(script) {
  return `<!doctype html><html><body><iframe name="sink"></iframe><script>
    window.findings = null;
    (async () => { try { window.findings = await (async () => { ${script} })(); }
                   catch (e) { window.findings = { thrown: String(e) }; } })();
  </script></body></html>`;
}

async function visit(url, script, { routed = false } = {}) {
  const page = await browser.newPage();
  attackHtml = attackPage(script);
  if (routed) {
    await page.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: attackHtml }));
  }
  await page.goto(url);
  await page.waitForFunction(() => window.findings !== null, null, { timeout: 20000 });
  const findings = await page.evaluate(() => window.findings);
  await page.close();
  return findings;
}

try {
  // 1. Cross-origin: simple requests need no preflight, so the browser sends them; their answers are opaque.
  const crossOrigin = await visit(`http://evil.test:${attackerPort}/attack.html`, `
    const target = ${JSON.stringify(base)};
    const out = { sent: 0, read: null, form: false };
    const simple = [
      ['/v1/sessions', JSON.stringify({ title: 'made by evil.test' }), 'text/plain'],
      ['/v1/agent/runs', JSON.stringify({ task: 'run rm -rf with the interpreter' }), 'text/plain'],
      ['/v1/agent/runs', JSON.stringify({ task: 'no content type given' }), null],
      ['/v1/sessions', '', null],
    ];
    for (const [p, body, type] of simple) {
      const init = { method: 'POST', mode: 'no-cors', body };
      if (type) init.headers = { 'Content-Type': type };
      const r = await fetch(target + p, init);
      if (r.type === 'opaque') out.sent++;
    }
    // A form posts text/plain too, and navigates a frame instead of using fetch.
    const form = document.createElement('form');
    form.method = 'POST'; form.action = target + '/v1/agent/runs'; form.enctype = 'text/plain';
    form.target = 'sink';
    const field = document.createElement('input');
    field.name = '{"task": "from a form", "x": "'; field.value = '"}';
    form.appendChild(field); document.body.appendChild(form);
    const loaded = Promise.race([new Promise((resolve) => document.querySelector('iframe').onload = resolve),
                                 new Promise((resolve) => setTimeout(resolve, 5000))]);
    form.submit();
    await loaded;
    out.form = true;
    // Reading needs CORS, which the server grants to no one here.
    try { out.read = await (await fetch(target + '/v1/sessions')).text(); } catch (e) { out.read = 'blocked: ' + e.name; }
    return out;`);
  console.log('cross-origin page:', JSON.stringify(crossOrigin));
  assert.equal(crossOrigin.sent, 4, 'the browser sent the four no-cors requests');
  assert.equal(crossOrigin.form, true);
  assert.match(crossOrigin.read, /^blocked/);
  console.log('ok - a page on another origin sent simple requests and could not read the API');

  // 2. DNS rebinding: same-origin for the browser, so it may read the answers: they must be refusals.
  const rebound = await visit(`http://rebind.test:${port}/attack.html`, `
    const post = await fetch('/v1/sessions', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                               body: JSON.stringify({ title: 'rebound' }) });
    const run = await fetch('/v1/agent/runs', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                                body: JSON.stringify({ task: 'rebound run', stream: false }) });
    const list = await fetch('/v1/sessions');
    const page = await fetch('/');
    return { post: post.status, run: run.status, list: list.status, listBody: await list.text(), page: page.status };`,
    { routed: true });
  console.log('rebound page:', JSON.stringify(rebound));
  assert.deepEqual([rebound.post, rebound.run, rebound.list, rebound.page], [403, 403, 403, 403]);
  assert.match(rebound.listBody, /forbidden_host/);
  assert.doesNotMatch(rebound.listBody, /"data"/);
  console.log('ok - a DNS-rebound page got 403 for every request and read nothing');
} finally {
  await browser.close();
  attacker.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log('all browser attack steps passed');

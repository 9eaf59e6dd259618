// Drives the web page at `/` in headless Chromium with playwright-core: a chart uploaded into the session's
// workspace renders inline, a chat turn with a tool call streams into the chat and shows up in the trace panel
// (thought, tool, arguments, observation, answer), a chart the interpreter draws renders inline, and a reload restores the conversation from the server.
// Usage: BASE_URL=http://127.0.0.1:PORT API_KEY=KEY CHART=/path/chart.svg node web_page.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'agentrt-chromium-'));
// A fresh profile folder each time (playwright passes it to chromium as --user-data-dir).
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
try {
  const page = browser.pages()[0] ?? await browser.newPage();
  page.on('pageerror', (e) => { console.error('page error:', e.message); process.exitCode = 1; });
  // The key is stored before the page's script reads it.
  await page.addInitScript((key) => localStorage.setItem('agentrt.apiKey', key), process.env.API_KEY || '');
  await page.goto(process.env.BASE_URL + '/');
  await page.waitForFunction(() => document.getElementById('status').textContent === 'ready');

  // A chart uploaded into the workspace renders inline.
  await page.setInputFiles('#upload-input', process.env.CHART);
  await page.click('#upload');
  const chart = page.locator('#charts img[data-path="sales.svg"]');
  await chart.waitFor({ timeout: 10000 });
  await page.waitForFunction(() => {
    const img = document.querySelector('#charts img[data-path="sales.svg"]');
    return img && img.complete && img.naturalWidth > 0;
  });
  const width = await chart.evaluate((img) => img.naturalWidth);
  assert.equal(width, 240);
  console.log('ok - uploaded chart renders inline');

  // A chat turn with a tool call.
  await page.fill('#chat-input', 'What is 6*7?');
  await page.click('#send');
  await page.locator('#trace .trace-event[data-kind="answer"]').waitFor({ timeout: 15000 });
  const kinds = await page.$$eval('#trace .trace-event', (els) => els.map((e) => e.dataset.kind));
  assert.deepEqual(kinds, ['thought', 'select', 'arguments', 'observation', 'answer']);
  const select = await page.textContent('#trace .trace-event[data-kind="select"]');
  assert.match(select, /calculator/);
  const observation = await page.textContent('#trace .trace-event[data-kind="observation"]');
  assert.match(observation, /42/);
  const chatText = await page.textContent('#messages');
  assert.match(chatText, /I will use the calculator\./);
  assert.match(chatText, /6\*7 is 42\./);
  await page.waitForFunction(() => /done/.test(document.getElementById('status').textContent));
  console.log('ok - chat turn with a tool call shows in the chat and the trace panel');

  // A chart the interpreter draws (an observation's file) renders inline.
  await page.fill('#chat-input', 'Chart the sales by region');
  await page.click('#send');
  await page.waitForFunction(() => document.querySelectorAll('#trace .trace-event[data-kind="answer"]').length === 2,
                             null, { timeout: 20000 });
  await page.waitForFunction(() => {
    const img = document.querySelector('#charts img[data-path="chart_1.svg"]');
    return img && img.complete && img.naturalWidth > 0;
  }, null, { timeout: 10000 });
  assert.match(await page.textContent('#charts'), /bar chart "Sales"/);
  console.log('ok - a chart drawn by the interpreter renders inline');

  // A reload shows the stored conversation and trace of the session.
  await page.reload();
  await page.locator('#trace .trace-event[data-kind="answer"]').nth(1).waitFor({ timeout: 10000 });
  assert.match(await page.textContent('#messages'), /6\*7 is 42\./);
  assert.match(await page.textContent('#messages'), /What is 6\*7\?/);
  await page.locator('#charts img[data-path="sales.svg"]').waitFor({ timeout: 10000 });
  await page.locator('#charts img[data-path="chart_1.svg"]').waitFor({ timeout: 10000 });
  console.log('ok - reload restores the session from the server');
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log('all web page steps passed');

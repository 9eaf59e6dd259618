// Drives the web page at `/` in headless Chromium with playwright-core: a chat turn whose Python cell draws a
// matplotlib chart shows the cell in the trace panel and the chart (the figure the interpreter saved) inline.
// Usage: BASE_URL=http://127.0.0.1:PORT API_KEY=KEY node web_page_python.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'agentrt-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
try {
  const page = browser.pages()[0] ?? await browser.newPage();
  page.on('pageerror', (e) => { console.error('page error:', e.message); process.exitCode = 1; });
  await page.addInitScript((key) => localStorage.setItem('agentrt.apiKey', key), process.env.API_KEY || '');
  await page.goto(process.env.BASE_URL + '/');
  await page.waitForFunction(() => document.getElementById('status').textContent === 'ready');

  await page.fill('#chat-input', 'Chart the sales by region');
  await page.click('#send');
  // The first Python session waits for the zygote's start (seconds on a loaded machine).
  await page.locator('#trace .trace-event[data-kind="answer"]').waitFor({ timeout: 60000 });
  const observation = await page.textContent('#trace .trace-event[data-kind="observation"]');
  assert.match(observation, /figure_1\.png/);
  for (const name of ['figure_1.png', 'figure_1.svg']) {
    await page.waitForFunction((n) => {
      const img = document.querySelector(`#charts img[data-path="${n}"]`);
      return img && img.complete && img.naturalWidth > 0;
    }, name, { timeout: 10000 });
  }
  console.log('ok - a matplotlib chart drawn in a Python cell renders inline');
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log('all web page steps passed');

// Front-end budget: every citizen page's first visit under 60 KB compressed (150 KB with fonts,
// of which there are none), a repeat visit fetching only the HTML, and Lighthouse (mobile
// emulation) on the start page, a form page and the postbox: performance ≥ 95, accessibility
// 100, best practices ≥ 95. Figures are printed as Markdown for BENCHMARKS.md.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import lighthouse from 'lighthouse';
import { startServer, newPage, freePort, CHROMIUM } from './harness.js';
import { DEMO, loginAs, applyForParkingPermit, go } from './steps.js';

const FIRST_VISIT_LIMIT = 60 * 1024;
const WITH_FONTS_LIMIT = 150 * 1024;

let app;
let citizen; // storage state of the logged-in demo citizen
let reference;
let draft;
before(async () => {
  app = await startServer();
  const { context, page } = await newPage(app, 'desktop');
  try {
    await loginAs(app, page, DEMO.citizen);
    reference = await applyForParkingPermit(app, page, { familyName: 'Budget' });
    await page.goto(`${app.base}/leistungen/99058011012000`);
    await go(page, 'main form[method=post] button[type=submit]');
    draft = new URL(page.url()).pathname; // the first form page of a new draft
    citizen = await context.storageState();
  } finally {
    await context.close();
  }
});
after(async () => { await app?.stop(); });

const PUBLIC = ['/', '/leistungen', '/leistungen?q=parken', '/leistungen/99058011012000', '/anmelden',
  '/registrieren', '/passwort-vergessen', '/impressum', '/datenschutz', '/barrierefreiheit'];
const LOGGED_IN = () => ['/konto', '/konto/profil', '/konto/postfach', `/konto/postfach/${reference}`,
  '/konto/antraege', '/konto/gebuehren', draft];

/** Loads `path` in `page` and sums what came over the network, per resource type. */
async function visit(page, cdp, path) {
  const requests = new Map();
  const onResponse = (e) => requests.set(e.requestId, { type: e.type, url: e.response.url, bytes: 0, cached: e.response.fromDiskCache || e.response.fromPrefetchCache });
  const onFinished = (e) => { const r = requests.get(e.requestId); if (r) r.bytes = e.encodedDataLength; };
  const onCache = (e) => { const r = requests.get(e.requestId); if (r) r.cached = true; else requests.set(e.requestId, { cached: true, bytes: 0 }); };
  cdp.on('Network.responseReceived', onResponse);
  cdp.on('Network.loadingFinished', onFinished);
  cdp.on('Network.requestServedFromCache', onCache);
  // The favicon is fetched after the load event: wait until the network is quiet.
  const resp = await page.goto(app.base + path, { waitUntil: 'networkidle' });
  assert.equal(resp.status(), 200, `GET ${path}`);
  cdp.off('Network.responseReceived', onResponse);
  cdp.off('Network.loadingFinished', onFinished);
  cdp.off('Network.requestServedFromCache', onCache);
  const fetched = [...requests.values()].filter((r) => !r.cached && r.bytes > 0);
  return {
    bytes: fetched.reduce((s, r) => s + r.bytes, 0),
    fonts: fetched.filter((r) => r.type === 'Font').reduce((s, r) => s + r.bytes, 0),
    fetched,
  };
}

test('every citizen page: first visit under 60 KB compressed, a repeat visit fetches only the HTML', async () => {
  const rows = [];
  for (const [paths, state] of [[PUBLIC, undefined], [LOGGED_IN(), citizen]]) {
    for (const path of paths) {
      const { context, page } = await newPage(app, { storageState: state });
      try {
        const cdp = await context.newCDPSession(page);
        await cdp.send('Network.enable');
        const first = await visit(page, cdp, path);
        const again = await visit(page, cdp, path);
        rows.push([path, first.bytes, first.fonts, again.bytes, first.fetched.length]);
        assert.ok(first.bytes - first.fonts < FIRST_VISIT_LIMIT, `${path}: first visit ${first.bytes - first.fonts} bytes without fonts`);
        assert.ok(first.bytes < WITH_FONTS_LIMIT, `${path}: first visit ${first.bytes} bytes with fonts`);
        const notHtml = again.fetched.filter((r) => r.type !== 'Document');
        assert.deepEqual(notHtml.map((r) => r.url), [], `${path}: a repeat visit fetched more than the HTML`);
        assert.equal(again.fetched.length, 1, `${path}: a repeat visit fetches the HTML`);
      } finally {
        await context.close();
      }
    }
  }
  console.log('\n| page | first visit (bytes, compressed, with headers) | of it fonts | repeat visit | requests (first) |');
  console.log('|---|---|---|---|---|');
  for (const [path, first, fonts, again, n] of rows) {
    console.log(`| \`${path.replace(/[0-9a-f-]{36}/, '{draft}').replace(reference, '{reference}')}\` | ${first} | ${fonts} | ${again} | ${n} |`);
  }
});

const unmeasured = (lhr) => Boolean(lhr.runtimeError) || lhr.categories.performance.score === null;

test('Lighthouse (mobile): performance ≥ 95, accessibility 100, best practices ≥ 95 on start page, form page and postbox', async () => {
  const port = await freePort();
  const profile = mkdtempSync(join(tmpdir(), 'amtsweg-lighthouse-'));
  // Lighthouse drives the browser over its debugging port and opens its own tab; a persistent
  // context is the browser's default one, so the tab carries the citizen's session cookie.
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run',
      `--remote-debugging-port=${port}`],
  });
  const results = [];
  try {
    await browser.addCookies(citizen.cookies);
    for (const [name, path] of [['start page', '/'], ['form page', draft], ['postbox', '/konto/postfach']]) {
      // A run that could not measure the page at all (Lighthouse's runtimeError, e.g. no
      // first paint seen in a cold browser) scores 0 without saying anything about the page;
      // it is repeated, at most twice, and its error is reported if it stays.
      let lhr;
      for (let attempt = 1; attempt <= 3; attempt++) {
        const run = await lighthouse(app.base + path, {
          port,
          output: 'json',
          logLevel: 'error',
          onlyCategories: ['performance', 'accessibility', 'best-practices'],
          disableStorageReset: true,
        });
        lhr = run.lhr;
        if (!unmeasured(lhr)) break;
        console.log(`# ${name}: Lighthouse could not measure (attempt ${attempt}): ${lhr.runtimeError?.code ?? 'no performance score'}`);
      }
      assert.ok(!unmeasured(lhr), `${name}: Lighthouse could not measure: ${lhr.runtimeError?.code ?? 'no performance score'}`);
      assert.equal(lhr.finalDisplayedUrl, app.base + path, `${name}: Lighthouse stayed on ${path} (logged in)`);
      const score = (c) => Math.round((lhr.categories[c].score ?? 0) * 100);
      const failed = Object.values(lhr.audits)
        .filter((a) => a.score !== null && a.score < 0.9 && a.scoreDisplayMode === 'binary')
        .map((a) => a.id);
      results.push({ name, path, performance: score('performance'), accessibility: score('accessibility'),
        bestPractices: score('best-practices'), fcp: lhr.audits['first-contentful-paint'].displayValue,
        lcp: lhr.audits['largest-contentful-paint'].displayValue, tbt: lhr.audits['total-blocking-time'].displayValue,
        cls: lhr.audits['cumulative-layout-shift'].displayValue, failed });
    }
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
  console.log(`\nLighthouse ${lighthouse.version ?? ''} (mobile emulation, simulated throttling):\n`);
  console.log('| page | performance | accessibility | best practices | FCP | LCP | TBT | CLS | failed audits |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.name} | ${r.performance} | ${r.accessibility} | ${r.bestPractices} | ${r.fcp} | ${r.lcp} | ${r.tbt} | ${r.cls} | ${r.failed.join(', ') || '–'} |`);
  }
  for (const r of results) {
    assert.ok(r.performance >= 95, `${r.name}: performance ${r.performance}`);
    assert.equal(r.accessibility, 100, `${r.name}: accessibility ${r.accessibility} (${r.failed.join(', ')})`);
    assert.ok(r.bestPractices >= 95, `${r.name}: best practices ${r.bestPractices} (${r.failed.join(', ')})`);
  }
});

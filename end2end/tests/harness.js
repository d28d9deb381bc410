// Test harness: starts the Amtsweg binary on a free port with a fresh data directory (SQLite, or
// PostgreSQL when E2E_DATABASE_URL is set), loads the demo data, and drives Debian's Chromium
// through playwright-core. Every browser context for the pages under test has JavaScript
// disabled: the portal must work without it.
//
// One server and one Chromium per test file: call startServer() in before() and app.stop() in
// after().
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, readdirSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { HtmlValidate } from 'html-validate';

const here = dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = join(here, '..', 'screenshots');
mkdirSync(SCREENSHOTS, { recursive: true });

export const BIN = process.env.AMTSWEG_BIN || '/var/tmp/amtsweg-target/debug/amtsweg';
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 375, height: 667 } };
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];

/** A port nobody listens on right now: bind port 0, read the port, close. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Ends the server: SIGTERM, and SIGKILL if it is still there after 5 s. */
function killServer(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => { proc.kill('SIGKILL'); }, 5000);
    proc.once('exit', () => { clearTimeout(t); resolve(); });
    proc.kill('SIGTERM');
  });
}

/**
 * Demo data, server and browser. Returns { base, dataDir, browser, stop() }. On any failure on the
 * way up, whatever was started is ended again and the data directory removed.
 */
export async function startServer() {
  if (!existsSync(BIN)) throw new Error(`server binary ${BIN} not found: build it or set AMTSWEG_BIN`);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium`);
  const dataDir = mkdtempSync(join(tmpdir(), 'amtsweg-e2e-'));
  const port = await freePort();
  const env = { ...process.env, AMTSWEG_DATA_DIR: dataDir, AMTSWEG_LISTEN: `127.0.0.1:${port}`, AMTSWEG_MODE: 'development', RUST_LOG: process.env.RUST_LOG || 'warn' };
  delete env.DATABASE_URL;
  if (process.env.E2E_DATABASE_URL) env.DATABASE_URL = process.env.E2E_DATABASE_URL;

  let proc;
  let browser;
  try {
    const demo = spawnSync(BIN, ['demo'], { env, encoding: 'utf8', timeout: 60000 });
    if (demo.status !== 0) throw new Error(`\`${BIN} demo\` failed (status ${demo.status}, ${demo.error ?? ''}):\n${demo.stderr}${demo.stdout}`);

    proc = spawn(BIN, ['serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let spawnError = null;
    proc.on('error', (e) => { spawnError = e; });
    proc.stderr.on('data', (d) => { stderr += d; if (stderr.length > 20000) stderr = stderr.slice(-20000); });

    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30000;
    for (;;) {
      try {
        const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (r.status === 200) break;
      } catch { /* not up yet */ }
      if (spawnError) throw new Error(`could not start ${BIN}: ${spawnError.message}`);
      if (proc.exitCode !== null) throw new Error(`server exited with status ${proc.exitCode} before answering /healthz:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`server did not answer GET /healthz with 200 within 30 s:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    let stopped = false;
    return {
      base,
      dataDir,
      browser,
      serverLog: () => stderr,
      async stop() {
        if (stopped) return;
        stopped = true;
        await browser.close().catch(() => {});
        await killServer(proc);
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    if (browser) await browser.close().catch(() => {});
    if (proc) await killServer(proc);
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * A browser context without JavaScript. Either newPage(app, 'desktop'|'phone', locale) or
 * newPage(app, { viewport, locale, javaScriptEnabled, storageState }). The locale also goes out
 * as Accept-Language, which is how the server picks the language before anyone uses the switch.
 * A storageState (from context.storageState() after logging in) starts the context logged in.
 */
export async function newPage(app, sizeOrOptions = 'desktop', locale = 'de-DE') {
  const opts = typeof sizeOrOptions === 'string' ? { viewport: SIZES[sizeOrOptions], locale } : sizeOrOptions;
  const loc = opts.locale ?? 'de-DE';
  const context = await app.browser.newContext({
    viewport: opts.viewport ?? SIZES.desktop,
    javaScriptEnabled: opts.javaScriptEnabled ?? false,
    locale: loc,
    extraHTTPHeaders: { 'Accept-Language': loc },
    storageState: opts.storageState,
  });
  const page = await context.newPage();
  return { context, page };
}

function short(s, n = 160) {
  s = String(s ?? '').replace(/\s+/g, ' ');
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/**
 * Zero WCAG 2.1 A/AA violations and no sideways scrolling, with a readable list of what is wrong.
 *
 * axe is injected script and runs on timers, which never fire in a context with JavaScript
 * disabled (axe.run simply never returns there). So the check runs on a twin: a second context,
 * same viewport, WITH JavaScript, that is served the very HTML the JavaScript-free page shows
 * (page.content()) for the same URL, while stylesheets and images come from the server as usual.
 * The overflow measurement (scrollWidth against clientWidth) is taken on that twin as well; the
 * page under test itself never runs any script.
 */
export async function expectAccessible(page, name) {
  const html = await page.content();
  const viewport = page.viewportSize();
  const pageUrl = new URL(page.url());
  pageUrl.hash = '';
  const ctx = await page.context().browser().newContext({ viewport, javaScriptEnabled: true });
  let results;
  let overflow;
  try {
    const twin = await ctx.newPage();
    await twin.route('**/*', async (route) => {
      const req = route.request();
      if (req.resourceType() === 'document' && req.url().split('#')[0] === pageUrl.href) {
        await route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
      } else {
        await route.continue();
      }
    });
    await twin.goto(pageUrl.href, { waitUntil: 'load' });
    results = await new AxeBuilder({ page: twin }).withTags(WCAG_TAGS).analyze();
    // JavaScript is on in the twin only so that this measurement (and axe) can run.
    overflow = await twin.evaluate(() => {
      const root = document.documentElement;
      const width = root.clientWidth;
      const culprits = [];
      for (const el of document.body.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.right > width + 0.5 && r.width > 0) {
          const id = el.id ? `#${el.id}` : '';
          const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
          culprits.push(`${el.tagName.toLowerCase()}${id}${cls} (right edge ${Math.round(r.right)}px)`);
        }
      }
      return { scrollWidth: root.scrollWidth, clientWidth: width, culprits: culprits.slice(0, 8) };
    });
  } finally {
    await ctx.close();
  }

  const failures = [];
  for (const v of results.violations) {
    const nodes = v.nodes.map((n) => `      ${n.target.join(' ')}  ${short(n.html)}`).join('\n');
    failures.push(`  ${v.id} (${v.impact}): ${v.help}\n      ${v.helpUrl}\n${nodes}`);
  }
  if (overflow.scrollWidth > overflow.clientWidth) {
    failures.push(`  horizontal scrolling: page is ${overflow.scrollWidth}px wide in a ${overflow.clientWidth}px wide view`
      + ` (viewport ${viewport.width}px); sticking out:\n      ${overflow.culprits.join('\n      ')}`);
  }
  if (failures.length) {
    throw new Error(`${name} (${page.url()}, ${viewport.width}×${viewport.height}): `
      + `${results.violations.length} axe violation(s) of ${WCAG_TAGS.join('/')}`
      + `${overflow.scrollWidth > overflow.clientWidth ? ' and horizontal scrolling' : ''}:\n${failures.join('\n')}`);
  }
}

// html-validate with its recommended rule set. Nothing is switched off; one rule is configured:
const validator = new HtmlValidate({
  extends: ['html-validate:recommended'],
  rules: {
    // A group of checkboxes sharing one name is valid HTML and how a multiple choice is sent (the
    // server reads every checked value). The rule's default only lets radio and button names be
    // shared; duplicate names of other controls (text inputs, selects, ...) still fail.
    'form-dup-name': ['error', { shared: ['radio', 'checkbox', 'button', 'reset', 'submit'] }],
  },
});

/** Zero html-validate errors or warnings, each listed with the markup around it. */
export async function expectValidHtml(html, name) {
  const report = await validator.validateString(html);
  if (!report.valid || report.warningCount > 0) {
    const msgs = report.results.flatMap((r) => r.messages.map((m) => {
      const around = html.slice(Math.max(0, m.offset - 60), m.offset + 60);
      return `${m.ruleId} at ${m.line}:${m.column}: ${m.message}\n      …${short(around, 120)}…`;
    }));
    throw new Error(`html-validate: ${msgs.length} problem(s) in ${name}:\n  ${msgs.join('\n  ')}`);
  }
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Every development mail to `to` so far, oldest first. */
function mailsTo(app, to) {
  const dir = join(app.dataDir, 'mail');
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8'))).filter((m) => m.to === to);
  } catch {
    return []; // directory not there yet
  }
}

/** How many development mails went to `to` so far; the next one is mailTo(app, to, count + 1). */
export function mailCount(app, to) {
  return mailsTo(app, to).length;
}

/** Text of the newest development mail to `to`, waiting up to 10 s for mail number `n` (1-based). */
export async function mailTo(app, to, n = 1) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const mails = mailsTo(app, to);
    if (mails.length >= n) return mails[mails.length - 1].text;
    if (Date.now() > deadline) throw new Error(`no mail #${n} to ${to}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function linkIn(text, pathPrefix) {
  const m = text.match(new RegExp(`https?://\\S*${pathPrefix}\\S*`));
  if (!m) throw new Error(`no ${pathPrefix} link in mail:\n${text}`);
  return new URL(m[0]).pathname;
}

// Test harness: starts the Amtsweg binary on a free port with a fresh data directory (SQLite, or
// PostgreSQL when E2E_DATABASE_URL is set), loads the demo data, and drives Debian's Chromium
// through playwright-core. Every browser context has JavaScript disabled: the portal must work
// without it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, readFileSync, mkdirSync } from 'node:fs';
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
export const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 375, height: 667 } };

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export async function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), 'amtsweg-e2e-'));
  const port = await freePort();
  const env = { ...process.env, AMTSWEG_DATA_DIR: dataDir, AMTSWEG_LISTEN: `127.0.0.1:${port}`, AMTSWEG_MODE: 'development', RUST_LOG: 'warn' };
  delete env.DATABASE_URL;
  if (process.env.E2E_DATABASE_URL) env.DATABASE_URL = process.env.E2E_DATABASE_URL;
  const demo = spawnSync(BIN, ['demo'], { env, encoding: 'utf8' });
  if (demo.status !== 0) throw new Error(`demo failed: ${demo.stderr}`);
  const proc = spawn(BIN, ['serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`server did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
  return {
    base,
    dataDir,
    browser,
    async stop() {
      await browser.close();
      proc.kill('SIGTERM');
      await new Promise((resolve) => {
        const t = setTimeout(() => { proc.kill('SIGKILL'); resolve(); }, 5000);
        proc.on('exit', () => { clearTimeout(t); resolve(); });
      });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A browser context without JavaScript, at the given size and language. */
export async function newPage(app, size = 'desktop', locale = 'de-DE') {
  const context = await app.browser.newContext({
    viewport: SIZES[size],
    javaScriptEnabled: false,
    locale,
    extraHTTPHeaders: { 'Accept-Language': locale },
  });
  const page = await context.newPage();
  return { context, page };
}

/** Zero WCAG 2.1 A/AA violations, with a readable list when there are some. */
export async function expectAccessible(page, name) {
  // axe runs as injected script, which a JavaScript-free context cannot run: check a twin page
  // in a context with scripts, loaded from the same HTML (same cookies are not needed for it).
  const html = await page.content();
  const viewport = page.viewportSize();
  const ctx = await page.context().browser().newContext({ viewport, javaScriptEnabled: true });
  const twin = await ctx.newPage();
  await twin.route('**/*', async (route) => {
    const url = route.request().url();
    if (url === page.url() && route.request().resourceType() === 'document') {
      await route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
    } else {
      await route.continue();
    }
  });
  await twin.goto(page.url());
  const results = await new AxeBuilder({ page: twin }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const overflow = await twin.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await ctx.close();
  const problems = results.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(' ')).join('\n    ')}`);
  if (problems.length) throw new Error(`axe found ${problems.length} violation(s) on ${name}:\n  ${problems.join('\n  ')}`);
  if (overflow > 0) throw new Error(`${name} scrolls sideways by ${overflow}px at ${viewport.width}px width`);
}

const validator = new HtmlValidate({
  extends: ['html-validate:recommended'],
  rules: {
    // The server's serializer writes void elements as <meta ...> without a slash: both are valid.
    'void-style': 'off',
    // Translated texts contain typographic quotes and dashes; not an error.
    'no-raw-characters': 'off',
    // Checkbox groups share one name by design (the server reads all checked values).
    'form-dup-name': ['error', { shared: ['radio', 'checkbox', 'button', 'reset', 'submit'] }],
  },
});

export async function expectValidHtml(html, name) {
  const report = await validator.validateString(html);
  if (!report.valid) {
    const msgs = report.results.flatMap((r) => r.messages.map((m) => `${m.ruleId} line ${m.line}:${m.column}: ${m.message}`));
    throw new Error(`invalid HTML on ${name}:\n  ${msgs.join('\n  ')}`);
  }
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Text of the newest development mail to `to`, waiting up to 10 s for mail number `n` (1-based). */
export async function mailTo(app, to, n = 1) {
  const dir = join(app.dataDir, 'mail');
  const deadline = Date.now() + 10000;
  for (;;) {
    let mails = [];
    try {
      mails = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
        .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8'))).filter((m) => m.to === to);
    } catch { /* directory not there yet */ }
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

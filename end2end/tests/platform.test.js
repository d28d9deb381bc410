// Every public page: accessible (axe, WCAG 2.1 AA) at desktop and phone size, in German and
// English, valid HTML, no script, strict CSP; language switch, skip link, 404 page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newPage, expectAccessible, expectValidHtml, screenshot } from './harness.js';

let app;
before(async () => { app = await startServer(); });
after(async () => { await app?.stop(); });

const PAGES = [
  ['/', 'start'],
  ['/impressum', 'impressum'],
  ['/datenschutz', 'datenschutz'],
  ['/barrierefreiheit', 'barrierefreiheit'],
  ['/anmelden', 'anmelden'],
  ['/registrieren', 'registrieren'],
  ['/passwort-vergessen', 'passwort-vergessen'],
  ['/leistungen', 'leistungen'],
  ['/leistungen/99108008252000', 'leistung'],
  ['/dev/components', 'komponenten'],
  ['/dev/mail', 'dev-mail'],
  ['/gibt-es-nicht', '404'],
];

for (const [path, name] of PAGES) {
  test(`${name}: valid HTML, no script, strict CSP`, async () => {
    const r = await fetch(app.base + path, { headers: { 'Accept-Language': 'de' } });
    const html = await r.text();
    assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.doesNotMatch(html, /<script/i, 'pages need no JavaScript');
    await expectValidHtml(html, path);
  });

  for (const size of ['desktop', 'phone']) {
    for (const locale of ['de-DE', 'en-GB']) {
      test(`${name}: accessible at ${size} size in ${locale}`, async () => {
        const { context, page } = await newPage(app, size, locale);
        const resp = await page.goto(app.base + path);
        assert.equal(resp.status(), path === '/gibt-es-nicht' ? 404 : 200);
        assert.equal(await page.getAttribute('html', 'lang'), locale.slice(0, 2));
        await expectAccessible(page, `${path} (${size}, ${locale})`);
        await screenshot(page, `${name}-${size}-${locale}`);
        await context.close();
      });
    }
  }
}

test('language switch works without JavaScript and is remembered', async () => {
  const { context, page } = await newPage(app, 'desktop', 'de-DE');
  await page.goto(app.base + '/impressum');
  assert.equal(await page.textContent('h1'), 'Impressum');
  await page.click('form.aw-lang-switch button');
  assert.equal(new URL(page.url()).pathname, '/impressum');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.textContent('h1'), 'Legal notice');
  await page.goto(app.base + '/');
  assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the choice survives navigation');
  await page.click('form.aw-lang-switch button');
  assert.equal(await page.getAttribute('html', 'lang'), 'de');
  await context.close();
});

test('the first Tab reaches the skip link, which moves focus to the main content', async () => {
  const { context, page } = await newPage(app, 'phone', 'de-DE');
  await page.goto(app.base + '/');
  await page.keyboard.press('Tab');
  const focused = await page.locator(':focus').getAttribute('class');
  assert.equal(focused, 'aw-skip-link');
  assert.ok(await page.locator('.aw-skip-link').isVisible(), 'visible when focused');
  await page.keyboard.press('Enter');
  assert.equal(new URL(page.url()).hash, '#main');
  await context.close();
});

test('unknown pages answer 404 with a German page', async () => {
  const r = await fetch(app.base + '/gibt-es-nicht', { headers: { 'Accept-Language': 'de' } });
  assert.equal(r.status, 404);
  assert.match(await r.text(), /Seite nicht gefunden/);
});

// Every public page: accessible (axe, WCAG 2.1 A/AA) at desktop and phone size, in German and
// English, no sideways scrolling, valid HTML, no script, strict CSP; language switch, skip link
// and landmarks, 404 page. All browser contexts under test have JavaScript disabled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newPage, expectAccessible, expectValidHtml, screenshot, SIZES } from './harness.js';

let app;
before(async () => { app = await startServer(); });
after(async () => { await app?.stop(); });

const NOT_FOUND = '/gibt-es-nicht';
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
  [NOT_FOUND, '404'],
];
// German through the browser's language (Accept-Language); English the same way, as a browser
// set to English sends it. The switch form itself is tested further down.
const LANGS = { de: 'de-DE', en: 'en-US' };
const expectedStatus = (path) => (path === NOT_FOUND ? 404 : 200);

for (const [path, name] of PAGES) {
  for (const [lang, locale] of Object.entries(LANGS)) {
    test(`${name} (${lang}): valid HTML, no script, strict CSP`, async () => {
      const r = await fetch(app.base + path, { headers: { 'Accept-Language': locale } });
      const html = await r.text();
      assert.equal(r.status, expectedStatus(path), `GET ${path} status`);
      assert.match(r.headers.get('content-type') ?? '', /^text\/html;\s*charset=utf-8/i, `GET ${path} content-type`);
      const csp = r.headers.get('content-security-policy');
      assert.ok(csp, `GET ${path} has no Content-Security-Policy header`);
      assert.match(csp, /(^|;)\s*default-src 'none'\s*(;|$)/, `GET ${path}: CSP lacks default-src 'none': ${csp}`);
      assert.doesNotMatch(csp, /script-src/, `GET ${path}: CSP allows scripts from somewhere: ${csp}`);
      const scripts = html.match(/<script\b[^>]*>/gi);
      assert.equal(scripts, null, `GET ${path}: pages need no JavaScript, found ${scripts?.join(', ')}`);
      assert.doesNotMatch(html, /<[^>]*\son[a-z]+\s*=/i, `GET ${path}: inline event handler attribute in the HTML`);
      assert.doesNotMatch(html, /\s(href|src|action|formaction)\s*=\s*["']?\s*javascript:/i, `GET ${path}: javascript: URL in the HTML`);
      assert.match(html, new RegExp(`<html[^>]*\\slang="${lang}"`), `GET ${path} with Accept-Language ${locale}: <html lang="${lang}">`);
      await expectValidHtml(html, `GET ${path} (${lang})`);
    });
  }

  for (const size of Object.keys(SIZES)) {
    for (const [lang, locale] of Object.entries(LANGS)) {
      test(`${name}: accessible, no sideways scrolling at ${size} size in ${lang}`, async () => {
        const { context, page } = await newPage(app, size, locale);
        try {
          const resp = await page.goto(app.base + path);
          assert.equal(resp.status(), expectedStatus(path), `status of ${path}`);
          assert.equal(await page.getAttribute('html', 'lang'), lang, `<html lang> of ${path} with browser language ${locale}`);
          // Landmarks and the skip link on every page.
          assert.equal(await page.locator('body > a.aw-skip-link[href="#main"]').count(), 1, `${path}: skip link to #main first in body`);
          for (const landmark of ['header', 'nav', 'main#main', 'footer']) {
            assert.ok(await page.locator(landmark).count() >= 1, `${path}: no <${landmark}> landmark`);
          }
          for (const legal of ['/impressum', '/datenschutz', '/barrierefreiheit']) {
            assert.equal(await page.locator(`footer a[href="${legal}"]`).count(), 1, `${path}: footer link to ${legal}`);
          }
          await screenshot(page, `${name}-${size}-${lang}`);
          await expectAccessible(page, `${path} (${size}, ${lang})`);
        } finally {
          await context.close();
        }
      });
    }
  }
}

test('start page lists the four demo services as cards and explains how it works', async () => {
  const { context, page } = await newPage(app, 'desktop', 'de-DE');
  try {
    await page.goto(app.base + '/');
    const cards = page.locator('main .aw-card-list > li a[href^="/leistungen/"]');
    assert.equal(await cards.count(), 4, 'four demo service cards, each linking to its service');
    assert.equal(await page.locator('#how-heading').textContent(), 'So funktioniert es');
    assert.ok(await page.locator('section[aria-labelledby="how-heading"] ol > li').count() >= 3, '"How it works" is an ordered list of steps');
  } finally {
    await context.close();
  }
});

for (const size of Object.keys(SIZES)) {
  test(`language switch works without JavaScript and is remembered (${size})`, async () => {
    const { context, page } = await newPage(app, size, 'de-DE');
    try {
      await page.goto(app.base + '/impressum');
      assert.equal(await page.getAttribute('html', 'lang'), 'de');
      assert.equal(await page.textContent('h1'), 'Impressum');
      const button = page.locator('form.aw-lang-switch button[type="submit"]');
      assert.equal((await button.textContent()).trim(), 'English', 'switch on a German page offers English');
      assert.equal(await page.getAttribute('form.aw-lang-switch', 'method'), 'post', 'the switch is a POST form');

      let [answer] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'),
        button.click(),
      ]);
      assert.equal(answer.status(), 303, 'the switch answers 303 See Other');
      await page.waitForLoadState();
      assert.equal(new URL(page.url()).pathname, '/impressum', 'back on the same page');
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      assert.equal(await page.textContent('h1'), 'Legal notice');
      assert.equal((await button.textContent()).trim(), 'Deutsch', 'switch on an English page offers German');

      await page.goto(app.base + '/');
      assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the choice survives navigation although the browser asks for German');

      [answer] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'),
        button.click(),
      ]);
      assert.equal(answer.status(), 303);
      await page.waitForLoadState();
      assert.equal(new URL(page.url()).pathname, '/', 'back on the start page');
      assert.equal(await page.getAttribute('html', 'lang'), 'de', 'switching back yields German');
      assert.equal((await button.textContent()).trim(), 'English');
      await page.goto(app.base + '/impressum');
      assert.equal(await page.textContent('h1'), 'Impressum', 'German is remembered too');
    } finally {
      await context.close();
    }
  });

  test(`the first Tab reaches the skip link, which moves focus to the main content (${size})`, async () => {
    const { context, page } = await newPage(app, size, 'de-DE');
    try {
      await page.goto(app.base + '/');
      const skip = page.locator('a.aw-skip-link');
      await page.keyboard.press('Tab');
      assert.equal(await page.locator('a.aw-skip-link:focus').count(), 1,
        `the first Tab should focus the skip link, focused instead: ${await page.locator(':focus').evaluateAll((els) => els.map((e) => e.outerHTML.slice(0, 120)))}`);
      assert.equal((await skip.textContent()).trim(), 'Zum Inhalt springen');
      const box = await skip.boundingBox();
      const vp = SIZES[size];
      assert.ok(await skip.isVisible() && box && box.width >= 24 && box.height >= 24
        && box.x >= 0 && box.y >= 0 && box.x + box.width <= vp.width && box.y + box.height <= vp.height,
      `the focused skip link must be visible inside the viewport, its box is ${JSON.stringify(box)}`);
      await screenshot(page, `skip-link-${size}`);

      await page.keyboard.press('Enter');
      // The fragment navigation and its focus move land after the key event has been
      // dispatched; reading them at once raced the browser on a loaded machine.
      await page.waitForFunction(() => location.hash === '#main'
        && document.activeElement && document.activeElement.id === 'main', null, { timeout: 5000 })
        .catch(() => {});
      assert.equal(await page.evaluate(() => location.hash), '#main');
      assert.equal(await page.locator('main#main:focus').count(), 1,
        `activating the skip link should focus <main id="main">, focused instead: ${await page.locator(':focus').evaluateAll((els) => els.map((e) => e.outerHTML.slice(0, 120)))}`);
      await page.keyboard.press('Tab');
      assert.equal(await page.locator('main :focus').count(), 1, 'the next Tab goes on inside the main content, not back to the header');
    } finally {
      await context.close();
    }
  });
}

test('the language switch only redirects within the portal', async () => {
  for (const back of ['https://example.org/', '//example.org/', '/\\example.org']) {
    const r = await fetch(`${app.base}/sprache`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: app.base },
      body: new URLSearchParams({ lang: 'en', back }),
    });
    assert.equal(r.status, 303, `POST /sprache with back=${back}`);
    const target = new URL(r.headers.get('location'), app.base);
    assert.equal(target.origin, app.base, `back=${back} must not lead off the portal, Location: ${r.headers.get('location')}`);
  }
});

test('unknown pages answer 404 with a German page', async () => {
  const r = await fetch(app.base + NOT_FOUND, { headers: { 'Accept-Language': 'de-DE' } });
  assert.equal(r.status, 404);
  const html = await r.text();
  assert.match(html, /<h1[^>]*>\s*Seite nicht gefunden\s*<\/h1>/, 'heading "Seite nicht gefunden"');
  assert.match(html, /<title>[^<]*Seite nicht gefunden/, 'title names the error');
  assert.match(html, /href="\/"/, 'a way back to the start page');
});

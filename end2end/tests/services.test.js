// The two shorter demo services run to the end without JavaScript: dog tax registration (a
// conditional page, an IBAN with a checksum error, going back) at desktop size, and the
// certificate of registration (a conditional field on the same page) at phone size.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newPage, expectAccessible, screenshot, mailTo } from './harness.js';
import { declareAndSubmit } from './steps.js';

let app;
before(async () => { app = await startServer(); });
after(async () => { await app?.stop(); });

const DEMO = { email: 'buergerin@amtsweg.example', password: 'Amtsweg-Demo-2026' };
const NEXT = 'main form .kern-btn-wrapper button[value=next], main form button[type=submit]';

async function go(page, selector = NEXT) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

async function startApplication(page, key) {
  await page.goto(`${app.base}/anmelden?next=${encodeURIComponent(`/leistungen/${key}`)}`);
  await page.fill('#email', DEMO.email);
  await page.fill('#password', DEMO.password);
  await go(page, 'main form button[type=submit]');
  assert.equal(new URL(page.url()).pathname, `/leistungen/${key}`);
  await go(page, 'main form[method=post] button[type=submit]');
  assert.match(new URL(page.url()).pathname, /^\/antraege\/[^/]+\/person$/);
}

/** Declaration, submit, confirmation; returns the reference number after checking the list. */
async function submitAndFind(page, title) {
  const reference = await declareAndSubmit(page);
  await expectAccessible(page, `bestätigung ${title}`);
  await page.goto(`${app.base}/konto/antraege`);
  const row = page.locator('main li', { hasText: reference });
  assert.equal(await row.count(), 1, 'listed once');
  const text = await row.textContent();
  assert.match(text, new RegExp(title));
  assert.match(text, /Eingereicht/, 'state shown, routed (not "wird weitergeleitet")');
  assert.doesNotMatch(text, /weitergeleitet/);
  return reference;
}

test('dog tax registration with a listed breed and direct debit, to the end', async () => {
  const { context, page } = await newPage(app, 'desktop');
  await startApplication(page, '99016001002000');

  await page.fill('#given_name', 'Erika');
  await page.fill('#family_name', 'Mustermann');
  await page.fill('#postal_code', '70173');
  await go(page);

  // Dog: a date in the future is refused, the name typed stays.
  await page.fill('#dog_name', 'Bello');
  await page.fill('#since', '1');
  await page.fill('#since-month', '3');
  await page.fill('#since-year', String(new Date().getFullYear() + 2));
  await page.check('input[name=listed_breed][value=yes]');
  await go(page);
  assert.ok(await page.locator('.aw-error-summary').count() === 1, 'error summary shown');
  assert.equal(await page.inputValue('#dog_name'), 'Bello');
  await expectAccessible(page, 'hund mit fehler');
  await page.fill('#since-year', '2024');
  await go(page);

  // The listed-breed page appears because of the answer "yes".
  assert.match(await page.textContent('h1'), /Listenhund/);
  await go(page);
  assert.match(await page.textContent('.aw-error-summary'), /Wesenstest/);
  await page.fill('#certificate', 'WT-2024-0815');
  await go(page);

  // Payment: a mistyped IBAN fails its checksum, then the right one passes.
  await page.check('input[name=sepa][value=yes]');
  await page.fill('#iban', 'DE89 3704 0044 0532 0130 01');
  await go(page);
  assert.match(await page.textContent('.aw-error-summary'), /IBAN/);
  assert.equal(await page.inputValue('#iban'), 'DE89 3704 0044 0532 0130 01');
  await expectAccessible(page, 'zahlung mit fehler');
  // Back to the listed-breed page and forward again: nothing is lost.
  await go(page, 'a.aw-back-link');
  assert.equal(await page.inputValue('#certificate'), 'WT-2024-0815');
  await go(page);
  await page.fill('#iban', 'DE89 3704 0044 0532 0130 00');
  await go(page);

  const main = await page.textContent('main');
  assert.match(main, /Bello/);
  assert.match(main, /WT-2024-0815/);
  await expectAccessible(page, 'hundesteuer prüfen');
  await screenshot(page, 'dog-tax-check-desktop');
  const reference = await submitAndFind(page, 'Hundesteuer');
  assert.match(await mailTo(app, DEMO.email, 1), new RegExp(reference));
  await context.close();
});

test('certificate of registration with a purpose described in words, at phone size', async () => {
  const { context, page } = await newPage(app, 'phone');
  await startApplication(page, '99115005001000');

  await page.fill('#given_name', 'Erika');
  await page.fill('#family_name', 'Mustermann');
  await page.fill('#birth_date', '27');
  await page.fill('#birth_date-month', '3');
  await page.fill('#birth_date-year', '1990');
  await page.fill('#postal_code', '70173');
  await go(page);

  // "Other" purpose needs a description: the field is on the same page (no JavaScript), and
  // leaving it empty is an error that keeps the choices made.
  await page.check('input[name=kind][value=extended]');
  await page.selectOption('#purpose', 'other');
  await go(page);
  assert.equal(await page.locator('.aw-error-summary').count(), 1);
  assert.equal(await page.inputValue('#purpose'), 'other');
  assert.ok(await page.isChecked('input[name=kind][value=extended]'));
  await expectAccessible(page, 'meldebescheinigung mit fehler');
  await screenshot(page, 'registration-errors-phone');
  await page.fill('#purpose_other', 'Für die Anmeldung im Sportverein');
  await go(page);

  assert.match(await page.textContent('main'), /Sportverein/);
  await expectAccessible(page, 'meldebescheinigung prüfen');
  await submitAndFind(page, 'Meldebescheinigung');
  await context.close();
});

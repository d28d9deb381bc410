// Applying without JavaScript at desktop and phone size: catalogue, responsibility check, the
// form with mistakes, going back, conditional pages, repeated groups, resuming a draft in a
// second browser, the check page and a double-clicked submit. axe checks every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newPage, expectAccessible, screenshot, mailTo } from './harness.js';
import { PNG, uploadFile } from './steps.js';

let app;
before(async () => { app = await startServer(); });
after(async () => { await app?.stop(); });

const DEMO = { email: 'buergerin@amtsweg.example', password: 'Amtsweg-Demo-2026' };

async function submit(page, selector = 'main form .kern-btn-wrapper button[value=next], main form button[type=submit]') {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

async function check(page, name) {
  await expectAccessible(page, name);
}

async function login(page, next) {
  await page.goto(`${app.base}/anmelden?next=${encodeURIComponent(next)}`);
  await page.fill('#email', DEMO.email);
  await page.fill('#password', DEMO.password);
  await submit(page, 'main form button[type=submit]');
}

for (const size of ['desktop', 'phone']) {
  test(`resident parking permit from search to confirmation at ${size} size`, async () => {
    const { context, page } = await newPage(app, size);
    await page.goto(`${app.base}/leistungen?q=parken`);
    await check(page, 'leistungen suche');
    await Promise.all([page.waitForNavigation(), page.click('a:has-text("Bewohnerparkausweis")')]);
    await page.fill('#plz', '70173');
    await submit(page, 'main form[method=get] button');
    assert.match(await page.textContent('main'), /Landeshauptstadt Stuttgart/);
    await check(page, 'leistung mit zuständigkeit');
    await screenshot(page, `service-${size}`);
    const service = new URL(page.url()).pathname;
    await login(page, service);
    assert.equal(new URL(page.url()).pathname, service);
    await submit(page, 'main form[method=post] button[type=submit]');

    // Person: first with mistakes.
    await page.fill('#given_name', 'Erika');
    await page.fill('#birth_date', '31');
    await page.fill('#birth_date-month', '2');
    await page.fill('#birth_date-year', '1990');
    await submit(page);
    assert.match(await page.textContent('.aw-error-summary'), /Familienname/);
    assert.equal(await page.inputValue('#given_name'), 'Erika');
    await check(page, 'formular mit fehlern');
    await screenshot(page, `form-errors-${size}`);
    await page.fill('#family_name', 'Mustermann');
    await page.fill('#birth_date', '27');
    await page.fill('#birth_date-month', '3');
    await submit(page);

    // Address, then back to the person page: nothing is lost.
    await page.fill('#street', 'Eberhardstraße');
    await page.fill('#house_number', '1');
    await page.fill('#postal_code', '70173');
    await page.fill('#place', 'Stuttgart');
    await submit(page);
    await Promise.all([page.waitForNavigation(), page.click('a.aw-back-link')]);
    await Promise.all([page.waitForNavigation(), page.click('a.aw-back-link')]);
    assert.equal(await page.inputValue('#family_name'), 'Mustermann');
    await submit(page);
    assert.equal(await page.inputValue('#street'), 'Eberhardstraße');
    await submit(page);

    // Vehicle with a conditional field.
    await check(page, 'fahrzeug');
    await page.fill('#plate', 'S-AB 1234');
    await page.check('label:has-text("Mein Arbeitgeber")');
    await submit(page);
    assert.match(await page.textContent('.aw-error-summary'), /Firma/);
    await page.fill('#keeper_name', 'Muster GmbH');
    await submit(page);

    // Evidence: a forged file is refused with a clear message, a real one is attached; the
    // second run (phone) reuses the file uploaded in the first instead of uploading again.
    await uploadFile(page, 'registration_certificate', 'scan.pdf', Buffer.from('MZ not a pdf'), 'application/pdf');
    assert.match(await page.textContent('.aw-error-summary'), /Inhalt passt nicht/);
    await check(page, 'nachweis mit fehler');
    if (size === 'desktop') {
      await uploadFile(page, 'registration_certificate', 'fahrzeugschein.png', PNG);
    } else {
      await page.selectOption('#registration_certificate-library', { index: 1 });
      await Promise.all([page.waitForNavigation(), page.click('form.aw-file-library button')]);
    }
    assert.match(await page.textContent('main'), /fahrzeugschein\.png/);
    await check(page, 'nachweis');
    await screenshot(page, `evidence-${size}`);
    await submit(page, 'main form .kern-btn-wrapper button[value=next]');
    await page.check('label:has-text("12 Monate")');
    await submit(page);

    // Check page, declaration, double click on submit.
    assert.match(await page.textContent('h1'), /prüfen/);
    assert.match(await page.textContent('main'), /Muster GmbH/);
    await check(page, 'prüfen');
    await screenshot(page, `check-${size}`);
    await page.check('#declaration');
    const button = page.locator('main form button[type=submit]');
    await Promise.all([page.waitForNavigation(), button.dblclick()]);
    assert.match(await page.textContent('h1'), /Antrag eingegangen/);
    const reference = (await page.textContent('.aw-reference')).trim();
    assert.match(reference, /^[0-9A-Z]{3}-[0-9A-Z]{3}-[0-9A-Z]{3}$/);
    await check(page, 'bestätigung');
    await screenshot(page, `confirmation-${size}`);
    await page.goto(`${app.base}/konto/antraege`);
    assert.equal(await page.locator('main li', { hasText: reference }).count(), 1, 'listed once');
    await check(page, 'meine anträge');
    await Promise.all([page.waitForNavigation(), page.click(`a:has-text("Bewohnerparkausweis")`)]);
    assert.match(await page.textContent('main'), /S-AB 1234/);
    await check(page, 'zusammenfassung');
    assert.match(await mailTo(app, DEMO.email, 1), new RegExp(reference));
    await context.close();
  });
}

test('long form with repeated groups, conditions and a draft resumed in a second browser', async () => {
  const { context, page } = await newPage(app, 'phone');
  await login(page, '/leistungen/99108008252000');
  await page.fill('#plz', '73728');
  await submit(page, 'main form[method=get] button');
  assert.match(await page.textContent('main'), /Jugendamt/);
  await submit(page, 'main form[method=post] button[type=submit]');
  await page.fill('#given_name', 'Erika');
  await page.fill('#family_name', 'Mustermann');
  await page.fill('#postal_code', '73728');
  await submit(page);
  // Children: add a second one, remove it again, add it back.
  await page.fill('#children-0-child_given_name', 'Mia');
  await page.fill('#children-0-child_birth_date', '1');
  await page.fill('#children-0-child_birth_date-month', '6');
  await page.fill('#children-0-child_birth_date-year', '2019');
  await submit(page, 'main form button[value=add]');
  await page.fill('#children-1-child_given_name', 'Ben');
  await page.fill('#children-1-child_birth_date', '2');
  await page.fill('#children-1-child_birth_date-month', '3');
  await page.fill('#children-1-child_birth_date-year', '2021');
  await check(page, 'kinder');
  await screenshot(page, 'children-phone');
  // Save and resume on another device.
  await submit(page, 'main form button[value=save]');
  const other = await newPage(app, 'desktop');
  await login(other.page, '/konto/antraege');
  await Promise.all([other.page.waitForNavigation(), other.page.click('a:has-text("Unterhaltsvorschuss")')]);
  await Promise.all([other.page.waitForNavigation(), other.page.click('main form .kern-btn-wrapper button[value=next]')]);
  assert.equal(await other.page.inputValue('#children-1-child_given_name'), 'Ben');
  await Promise.all([other.page.waitForNavigation(), other.page.click('main form button[value="remove:1"]')]);
  assert.equal(await other.page.locator('#children-1-child_given_name').count(), 0);
  await Promise.all([other.page.waitForNavigation(), other.page.click('main form .kern-btn-wrapper button[value=next]')]);
  // Other parent unknown: no further questions; bank details with a wrong IBAN first.
  await other.page.check('label:text-is("Nein")');
  await Promise.all([other.page.waitForNavigation(), other.page.click('main form .kern-btn-wrapper button[value=next]')]);
  await uploadFile(other.page, 'birth_certificates', 'geburtsurkunde-mia.png', PNG);
  await Promise.all([other.page.waitForNavigation(), other.page.click('main form .kern-btn-wrapper button[value=next]')]);
  await other.page.fill('#iban', 'DE89 3704 0044 0532 0130 01');
  await other.page.fill('#account_holder', 'Erika Mustermann');
  await Promise.all([other.page.waitForNavigation(), other.page.click('main form .kern-btn-wrapper button[value=next]')]);
  assert.match(await other.page.textContent('.aw-error-summary'), /IBAN/);
  await other.page.fill('#iban', 'DE89 3704 0044 0532 0130 00');
  await Promise.all([other.page.waitForNavigation(), other.page.click('main form .kern-btn-wrapper button[value=next]')]);
  assert.match(await other.page.textContent('main'), /Mia/);
  assert.doesNotMatch(await other.page.textContent('main'), /Ben/);
  await check(other.page, 'prüfen lang');
  await other.page.check('#declaration');
  await Promise.all([other.page.waitForNavigation(), other.page.click('main form button[type=submit]')]);
  assert.match(await other.page.textContent('main'), /Landratsamt Esslingen/);
  await other.context.close();
  await context.close();
});

test('a conditional page appears only for the answer that needs it', async () => {
  const { context, page } = await newPage(app, 'desktop');
  await login(page, '/leistungen/99016001002000');
  await submit(page, 'main form[method=post] button[type=submit]');
  await page.fill('#given_name', 'Erika');
  await page.fill('#family_name', 'Mustermann');
  await page.fill('#postal_code', '70173');
  await submit(page);
  await page.fill('#dog_name', 'Bello');
  await page.fill('#since', '1');
  await page.fill('#since-month', '10');
  await page.fill('#since-year', '2026');
  await page.check('label:text-is("Ja")');
  await submit(page);
  assert.match(await page.textContent('h1'), /Listenhund/);
  await Promise.all([page.waitForNavigation(), page.click('a.aw-back-link')]);
  await page.check('label:text-is("Nein")');
  await submit(page);
  assert.match(await page.textContent('h1'), /Zahlung/);
  await context.close();
});

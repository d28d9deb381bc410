// Account flows in a browser without JavaScript, at desktop and at phone size: register,
// verify, log in, profile with an ambiguous postal code, change password (the other session
// ends), change email, export, log out, reset password, delete; two-factor authentication
// (set up, log in with a code and with a recovery code, switch off). axe checks every page
// visited.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newPage, expectAccessible, screenshot, mailTo, linkIn } from './harness.js';
import { enterCode } from './steps.js';

let app;
before(async () => { app = await startServer(); });
after(async () => { await app?.stop(); });

const PW = 'Fahrrad Hafen Regen Lampe';
const PW2 = 'Kiefer Drachen Nebel Uhr';
const PW3 = 'Möwe Kompass Laterne Sand';

async function submit(page) {
  await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
}

async function visit(page, path, name) {
  await page.goto(app.base + path);
  await expectAccessible(page, name);
}

async function login(page, email, password) {
  await page.goto(app.base + '/anmelden');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await submit(page);
}

for (const size of ['desktop', 'phone']) {
  test(`account life cycle at ${size} size`, async () => {
    const email = `erika.${size}@example.org`;
    const { context, page } = await newPage(app, size);

    // Registration, first with mistakes: the error summary lists them and the address stays.
    await visit(page, '/registrieren', 'registrieren');
    await page.fill('#email', email);
    await page.fill('#password', 'password1234');
    await page.fill('#password_confirm', 'password1234');
    await submit(page);
    assert.match(await page.textContent('.aw-error-summary'), /Listen häufig verwendeter/);
    assert.equal(await page.inputValue('#email'), email);
    await expectAccessible(page, 'registrieren mit Fehlern');
    await screenshot(page, `register-errors-${size}`);
    await page.fill('#password', PW);
    await page.fill('#password_confirm', PW);
    await submit(page);
    assert.match(await page.textContent('h1'), /Prüfen Sie Ihr E-Mail-Postfach/);
    await expectAccessible(page, 'registriert');

    // Verification through the link in the mail, confirmed with a button.
    const verify = linkIn(await mailTo(app, email, 1), '/konto/bestaetigen/');
    await visit(page, verify, 'bestaetigen');
    await submit(page);
    assert.match(await page.textContent('[role=status]'), /E-Mail-Adresse bestätigt/);

    // Login.
    await login(page, email, PW);
    assert.equal(new URL(page.url()).pathname, '/konto');
    await expectAccessible(page, 'konto');
    await screenshot(page, `account-${size}`);

    // Profile with a postal code shared by two municipalities.
    await visit(page, '/konto/profil', 'profil');
    await page.fill('#given_name', 'Erika');
    await page.fill('#family_name', 'Mustermann');
    await page.fill('#birth', '27');
    await page.fill('#birth-month', '3');
    await page.fill('#birth-year', '1990');
    await page.fill('#street', 'Hauptstraße');
    await page.fill('#house_number', '5');
    await page.fill('#postal_code', '99998');
    await submit(page);
    assert.match(await page.textContent('.aw-error-summary'), /mehreren Gemeinden/);
    assert.equal(await page.inputValue('#given_name'), 'Erika', 'entries are kept');
    await expectAccessible(page, 'profil mit Gemeindeauswahl');
    await screenshot(page, `profile-choice-${size}`);
    await page.check('label:has-text("Mühlhausen")');
    await submit(page);
    assert.match(await page.textContent('[role=status]'), /gespeichert/);
    assert.equal(await page.inputValue('#place'), 'Mühlhausen');

    // Change password while a second device is logged in: that session ends.
    const other = await newPage(app, size);
    await login(other.page, email, PW);
    assert.equal(new URL(other.page.url()).pathname, '/konto');
    await visit(page, '/konto/passwort', 'passwort ändern');
    await page.fill('#current_password', PW);
    await page.fill('#password', PW2);
    await page.fill('#password_confirm', PW2);
    await submit(page);
    assert.match(await page.textContent('[role=status]'), /Passwort geändert/);
    await other.page.goto(app.base + '/konto');
    assert.equal(new URL(other.page.url()).pathname, '/anmelden', 'the other session ended');
    await other.context.close();

    // Change the address: effective after confirming the link sent to the new one.
    const newEmail = `neu.${size}@example.org`;
    await visit(page, '/konto/email', 'email ändern');
    await page.fill('#new_email', newEmail);
    await page.fill('#current_password', PW2);
    await submit(page);
    assert.match(await page.textContent('[role=status]'), /Bestätigungslink/);
    const confirm = linkIn(await mailTo(app, newEmail, 1), '/konto/email/');
    await visit(page, confirm, 'email bestätigen');
    await submit(page);
    assert.match(await page.textContent('[role=status]'), /E-Mail-Adresse geändert/);
    assert.match(await mailTo(app, email, 3), new RegExp(newEmail.replace('.', '\\.')), 'old address notified');

    // Export.
    const exported = await context.request.get(app.base + '/konto/daten');
    assert.match(exported.headers()['content-disposition'], /attachment/);
    const data = await exported.json();
    assert.equal(data.account.email, newEmail);
    assert.equal(data.profile.municipality_key, '16064046');

    // Log out with the header button.
    await Promise.all([page.waitForNavigation(), page.click('header form[action="/abmelden"] button')]);
    await page.goto(app.base + '/konto');
    assert.equal(new URL(page.url()).pathname, '/anmelden');

    // Forgotten password.
    await visit(page, '/passwort-vergessen', 'passwort vergessen');
    await page.fill('#email', newEmail);
    await submit(page);
    assert.match(await page.textContent('h1'), /Postfach/);
    const reset = linkIn(await mailTo(app, newEmail, 2), '/passwort-neu/');
    await visit(page, reset, 'neues passwort');
    await page.fill('#password', PW3);
    await page.fill('#password_confirm', PW3);
    await submit(page);
    assert.match(await page.textContent('[role=status]'), /Passwort gespeichert/);
    await login(page, newEmail, PW3);
    assert.equal(new URL(page.url()).pathname, '/konto');

    // Delete the account.
    await visit(page, '/konto/loeschen', 'konto löschen');
    await page.fill('#current_password', PW3);
    await page.check('#confirm');
    await submit(page);
    assert.match(await page.textContent('h1'), /gelöscht/);
    await expectAccessible(page, 'gelöscht');
    await login(page, newEmail, PW3);
    assert.match(await page.textContent('.aw-error-summary'), /nicht richtig/);
    await context.close();
  });
}

test('two-factor authentication of a citizen', async () => {
  const email = 'zwei.faktor@example.org';
  const { context, page } = await newPage(app, 'desktop');
  await page.goto(app.base + '/registrieren');
  await page.fill('#email', email);
  await page.fill('#password', PW);
  await page.fill('#password_confirm', PW);
  await submit(page);
  await page.goto(app.base + linkIn(await mailTo(app, email, 1), '/konto/bestaetigen/'));
  await submit(page);
  await login(page, email, PW);
  assert.equal(new URL(page.url()).pathname, '/konto');

  // Set up: QR code and the key typed out, confirmed with a current code.
  await visit(page, '/konto/zwei-faktor', 'zwei-faktor aus');
  await Promise.all([page.waitForNavigation(), page.click('main a[href="/konto/zwei-faktor/einrichten"]')]);
  await expectAccessible(page, 'zwei-faktor einrichten');
  await screenshot(page, 'two-factor-enrol');
  assert.equal(await page.locator('main .aw-qr svg').count(), 1, 'QR code as inline SVG');
  const secret = (await page.locator('main dd.kern-description-list-item__value').first().textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{4}( [A-Z2-7]{4})+$/);
  await enterCode(page, secret);
  assert.equal(new URL(page.url()).pathname, '/konto/zwei-faktor/wiederherstellungscodes');
  const codes = await page.$$eval('.aw-recovery-codes code', (els) => els.map((e) => e.textContent));
  assert.equal(codes.length, 10);
  await expectAccessible(page, 'wiederherstellungscodes');
  await screenshot(page, 'two-factor-recovery-codes');
  await Promise.all([page.waitForNavigation(), page.click('main a.kern-btn')]);
  assert.match(await page.textContent('[role=status]'), /eingeschaltet/);

  // Log in again: password, then the code.
  await Promise.all([page.waitForNavigation(), page.click('header form[action="/abmelden"] button')]);
  await login(page, email, PW);
  assert.equal(new URL(page.url()).pathname, '/anmelden/sicherheitscode');
  await expectAccessible(page, 'sicherheitscode');
  await enterCode(page, secret);
  assert.equal(new URL(page.url()).pathname, '/konto');

  // And with a recovery code instead.
  await Promise.all([page.waitForNavigation(), page.click('header form[action="/abmelden"] button')]);
  await login(page, email, PW);
  await page.fill('#code', codes[0]);
  await submit(page);
  assert.equal(new URL(page.url()).pathname, '/konto');

  // The confirmation of identity, and switching it off.
  await visit(page, '/konto/identitaet-bestaetigen?next=%2Fkonto%2Fpasswort', 'identitaet bestaetigen');
  await page.goto(app.base + '/konto/zwei-faktor');
  await Promise.all([page.waitForNavigation(), page.click('main form[action="/konto/zwei-faktor/ausschalten"] button')]);
  assert.match(await page.textContent('[role=status]'), /ausgeschaltet/);
  await context.close();
});

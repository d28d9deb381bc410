// Steps several test files take: logging in with a demo account, uploading evidence, and
// applying for the resident parking permit straight through. The detours of that form (mistakes,
// going back, conditional fields) are tested in applications.test.js.
import assert from 'node:assert/strict';

/** The demo accounts `amtsweg demo` creates, all with the same password. */
export const DEMO = {
  password: 'Amtsweg-Demo-2026',
  citizen: 'buergerin@amtsweg.example',
  caseworker: 'sachbearbeitung@amtsweg.example',
  admin: 'admin@amtsweg.example',
};

/** A 1×1 PNG. */
export const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000'
  + '1f15c4890000000d49444154789c63f8cfc0f01f0005000100ff89993d1d0000000049454e44ae426082', 'hex');

/** A tiny PDF without any script in it. */
export const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n'
  + '2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

const NEXT = 'main form .kern-btn-wrapper button[value=next], main form button[type=submit]';

/** Clicks what submits a form (or follows a link) and waits for the page that answers. */
export async function go(page, selector = NEXT) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

/** Logs in with a demo account through the login form and lands on `next`. */
export async function loginAs(app, page, email, next = '/konto') {
  await page.goto(`${app.base}/anmelden?next=${encodeURIComponent(next)}`);
  await page.fill('#email', email);
  await page.fill('#password', DEMO.password);
  await go(page, 'main form button[type=submit]');
  assert.equal(new URL(page.url()).pathname, next, `${email} logged in and on ${next}`);
}

/** Types each value into the field with that id. */
export async function fillIn(page, fields) {
  for (const [id, value] of Object.entries(fields)) await page.fill(`#${id}`, value);
}

/** Attaches a file on an evidence page (the upload form of one file question). */
export async function uploadFile(page, field, name, buffer, mimeType = 'image/png') {
  await page.setInputFiles(`#${field}`, { name, mimeType, buffer });
  await go(page, `section[aria-labelledby="${field}-heading"] form[enctype] button`);
}

/**
 * The logged-in citizen applies for a resident parking permit (99058011012000) with the address
 * given, answering every question correctly at once; returns the reference number.
 */
export async function applyForParkingPermit(app, page, { givenName = 'Erika', familyName, postalCode = '70173', place = 'Stuttgart', plate = 'S-AB 1234' }) {
  await page.goto(`${app.base}/leistungen/99058011012000`);
  await go(page, 'main form[method=post] button[type=submit]');
  await fillIn(page, { given_name: givenName, family_name: familyName, birth_date: '27', 'birth_date-month': '3', 'birth_date-year': '1990' });
  await go(page);
  await fillIn(page, { street: 'Eberhardstraße', house_number: '1', postal_code: postalCode, place });
  await go(page);
  await fillIn(page, { plate });
  await page.check('input[name=keeper][value=self]');
  await go(page);
  await uploadFile(page, 'registration_certificate', 'fahrzeugschein.png', PNG);
  await go(page, 'main form .kern-btn-wrapper button[value=next]');
  await page.check('input[name=months][value="12"]');
  await go(page);
  return declareAndSubmit(page);
}

/** On the check page: declaration, submit; returns the reference number confirmed. */
export async function declareAndSubmit(page) {
  assert.match(await page.textContent('h1'), /prüfen/);
  await page.check('#declaration');
  await go(page, 'main form button[type=submit]');
  assert.match(await page.textContent('h1'), /Antrag eingegangen/);
  const reference = (await page.textContent('.aw-reference')).trim();
  assert.match(reference, /^[0-9A-Z]{3}-[0-9A-Z]{3}-[0-9A-Z]{3}$/);
  return reference;
}

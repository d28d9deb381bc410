// Steps several test files take: logging in with a demo account, uploading evidence, and
// applying for the resident parking permit straight through. The detours of that form (mistakes,
// going back, conditional fields) are tested in applications.test.js.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';

/** The demo accounts `amtsweg demo` creates, all with the same password. */
export const DEMO = {
  password: 'Amtsweg-Demo-2026',
  citizen: 'buergerin@amtsweg.example',
  caseworker: 'sachbearbeitung@amtsweg.example',
  admin: 'admin@amtsweg.example',
  /** The published authenticator key of the demo caseworker and administrator (README). */
  totpSecret: 'AMTSWEGDEMOZWEIFAKTORSTUTTGART23',
};

/** RFC 4648 Base32 (either case, spaces ignored) to bytes. */
export function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/[\s=-]/g, '').toUpperCase()) {
    const i = alphabet.indexOf(c);
    if (i < 0) throw new Error(`not Base32: ${c}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** The six-digit TOTP code (RFC 6238: HMAC-SHA-1, 30-second steps) of `step` for a key. */
export function totp(key, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 0x0f;
  const bin = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(bin % 1_000_000).padStart(6, '0');
}

/** The last step whose code was used per key: the server accepts each step once only. */
const usedSteps = new Map();

/**
 * Enters a code on the page of the login's second step: the current one, or one the server
 * still accepts (a step either side) if the current one was used already; waits for the next
 * step when even those are used.
 */
export async function enterCode(page, secret) {
  for (let attempt = 0; attempt < 6; attempt++) {
    const ms = Date.now();
    const now = Math.floor(ms / 30_000);
    // The previous step only while it stays inside the server's window for a few seconds.
    const earliest = 30_000 - (ms % 30_000) > 5_000 ? now - 1 : now;
    const step = Math.max(earliest, (usedSteps.get(secret) ?? -Infinity) + 1);
    if (step > now + 1) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      continue;
    }
    usedSteps.set(secret, step);
    await page.fill('#code', totp(base32Decode(secret), step));
    await go(page, 'main form button[type=submit]');
    if (new URL(page.url()).pathname !== '/anmelden/sicherheitscode') return;
  }
  assert.fail('no security code was accepted');
}

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

/**
 * Logs in with a demo account through the login form (demo staff with the code of the demo
 * key) and lands on `next`.
 */
export async function loginAs(app, page, email, next = '/konto') {
  await page.goto(`${app.base}/anmelden?next=${encodeURIComponent(next)}`);
  await page.fill('#email', email);
  await page.fill('#password', DEMO.password);
  await go(page, 'main form button[type=submit]');
  if (new URL(page.url()).pathname === '/anmelden/sicherheitscode') {
    await enterCode(page, DEMO.totpSecret);
  }
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

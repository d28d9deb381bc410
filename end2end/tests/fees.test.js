// Fee notices without JavaScript: a caseworker (desktop) issues a notice on a parking permit,
// the citizen (phone) finds it with bank details and the GiroCode and downloads the PDF, staff
// import a camt.053 statement that pays it, and the citizen sees it paid. Every fee page passes
// axe and html-validate at desktop and phone size.
//
// On PostgreSQL all test files share one database: notices are found by their own case's
// reference, and statement entries carry a reference unique to this run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, newPage, expectAccessible, expectValidHtml, screenshot, SIZES } from './harness.js';
import { DEMO, go, loginAs, applyForParkingPermit } from './steps.js';

let app;
before(async () => { app = await startServer(); });
after(async () => { await app?.stop(); });

/** The demo account of the Stuttgart office (see `amtsweg demo`). */
const STUTTGART_ACCOUNT = 'DE88600501010002345678';
const casePath = (reference) => `/verwaltung/vorgaenge/${reference}`;

const sessions = {};
async function loggedIn(email, size = 'desktop') {
  sessions[email] ??= (async () => {
    const { context, page } = await newPage(app, 'desktop');
    try {
      await loginAs(app, page, email);
      return await context.storageState();
    } finally {
      await context.close();
    }
  })();
  return newPage(app, { viewport: SIZES[size], storageState: await sessions[email] });
}

/** A camt.053.001.02 statement of the Stuttgart account with one booked credit. */
function statement({ entryRef, cents, reference }) {
  const amount = (cents / 100).toFixed(2);
  const today = new Date().toISOString().slice(0, 10);
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>E2E-${entryRef}</MsgId><CreDtTm>${today}T06:00:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>E2E-${entryRef}</Id>
   <Acct><Id><IBAN>${STUTTGART_ACCOUNT}</IBAN></Id></Acct>
   <Ntry>
    <Amt Ccy="EUR">${amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>${today}</Dt></BookgDt><ValDt><Dt>${today}</Dt></ValDt>
    <AcctSvcrRef>${entryRef}</AcctSvcrRef>
    <NtryDtls><TxDtls>
     <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
     <RltdPties><Dbtr><Nm>Erika Gebuehr</Nm></Dbtr><DbtrAcct><Id><IBAN>DE02120300000000202051</IBAN></Id></DbtrAcct></RltdPties>
     <RmtInf><Strd><CdtrRefInf><Ref>${reference}</Ref></CdtrRefInf></Strd></RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
`);
}

test('a fee notice from issue to payment: caseworker at desktop size, citizen at phone size', async () => {
  const citizen = await loggedIn(DEMO.citizen, 'phone');
  const staff = await loggedIn(DEMO.caseworker, 'desktop');
  try {
    const reference = await applyForParkingPermit(app, citizen.page, { familyName: 'Gebuehr' });

    // The caseworker opens the case and the notice form, prefilled from the fee schedule.
    await staff.page.goto(app.base + casePath(reference));
    await go(staff.page, 'main a[href$="/gebuehren/neu"]');
    assert.equal(await staff.page.inputValue('#item_amount_0'), '30,70');
    assert.match(await staff.page.inputValue('#remedy'), /Widerspruch/);
    await expectAccessible(staff.page, 'gebührenbescheid erstellen');
    await expectValidHtml(await (await staff.page.request.get(staff.page.url())).text(), 'fee form');
    // A mistake keeps everything typed.
    await staff.page.fill('#item_label_1', 'Auslagen');
    await staff.page.fill('#item_amount_1', 'zwei Euro');
    await go(staff.page, 'main form button[type=submit]');
    assert.match(await staff.page.textContent('.kern-error'), /Betrag über 0 Euro/);
    assert.equal(await staff.page.inputValue('#item_label_1'), 'Auslagen');
    await expectAccessible(staff.page, 'gebührenbescheid mit fehler');
    await screenshot(staff.page, 'fees-form-errors-desktop-de');
    await staff.page.fill('#item_amount_1', '2,00');
    await go(staff.page, 'main form button[type=submit]');
    assert.match(await staff.page.textContent('main [role=status]'), /Gebührenbescheid wurde erlassen/);
    assert.match(await staff.page.textContent('main'), /32,70 €/);

    // The citizen: the fee overview, the notice with bank details and GiroCode, the PDF.
    await citizen.page.goto(`${app.base}/konto/gebuehren`);
    const row = citizen.page.locator('main table tbody tr', { hasText: reference });
    assert.match(await row.textContent(), /32,70 €.*Offen/s);
    await expectAccessible(citizen.page, 'gebühren');
    await go(citizen.page, `main table tbody tr:has-text("${reference}") a`);
    assert.equal(await citizen.page.locator('main .aw-qr svg').count(), 1, 'the GiroCode');
    const purpose = (await citizen.page.locator('main dl .kern-description-list__value, main dd').allTextContents())
      .map((t) => t.trim())
      .find((t) => /^RF\d\d/.test(t));
    assert.ok(purpose, 'the payment reference in text');
    assert.match(await citizen.page.textContent('main'), /DE88 6005 0101 0002 3456 78/);
    await expectAccessible(citizen.page, 'gebührenbescheid');
    await expectValidHtml(await (await citizen.page.request.get(citizen.page.url())).text(), 'notice page');
    await screenshot(citizen.page, 'fees-notice-phone-de');
    const [download] = await Promise.all([
      citizen.page.waitForEvent('download'),
      citizen.page.click('main a[href*="/dokumente/"]'),
    ]);
    const pdf = readFileSync(await download.path());
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    assert.match(download.suggestedFilename(), /^Gebuehrenbescheid-.*\.pdf$/);
    const noticeUrl = citizen.page.url();

    // Staff import a statement that pays it.
    await staff.page.goto(`${app.base}/verwaltung/zahlungen`);
    await expectAccessible(staff.page, 'zahlungseingänge');
    await expectValidHtml(await (await staff.page.request.get(staff.page.url())).text(), 'payments desk');
    await staff.page.selectOption('#authority', 'a-stuttgart');
    await staff.page.setInputFiles('#statement', {
      name: 'auszug.xml',
      mimeType: 'application/xml',
      buffer: statement({ entryRef: `E2E-${Date.now()}-${reference}`, cents: 3270, reference: purpose.replace(/\s/g, '') }),
    });
    await go(staff.page, 'main form[enctype] button[type=submit]');
    assert.match(await staff.page.textContent('main [role=status]'), /1 neue Zahlungen, davon 1 zugeordnet/);
    await screenshot(staff.page, 'fees-desk-desktop-de');

    // The citizen sees it paid, and there is nothing left to pay.
    await citizen.page.goto(noticeUrl);
    assert.match(await citizen.page.textContent('main h1'), /Bezahlt/);
    assert.equal(await citizen.page.locator('main .aw-qr').count(), 0);
  } finally {
    await citizen.context.close();
    await staff.context.close();
  }
});

test('a statement that is not camt.053 is refused with a clear message and changes nothing', async () => {
  const staff = await loggedIn(DEMO.caseworker, 'phone');
  try {
    await staff.page.goto(`${app.base}/verwaltung/zahlungen`);
    await staff.page.selectOption('#authority', 'a-stuttgart');
    await staff.page.setInputFiles('#statement', { name: 'auszug.csv', mimeType: 'text/csv', buffer: Buffer.from('Buchungstag;Betrag\n01.01.;12,00\n') });
    await go(staff.page, 'main form[enctype] button[type=submit]');
    assert.match(await staff.page.textContent('.kern-error'), /kein gültiges XML|kein Kontoauszug/);
    await expectAccessible(staff.page, 'kontoauszug abgelehnt');
    await screenshot(staff.page, 'fees-desk-error-phone-de');
  } finally {
    await staff.context.close();
  }
});

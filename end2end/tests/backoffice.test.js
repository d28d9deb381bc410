// The back office and the citizen's postbox without JavaScript. A parking permit goes from the
// citizen (phone) to the caseworker's inbox (desktop), comes back as a request for information,
// is answered with a file and approved with a decision notice the citizen downloads; a case is
// forwarded to another authority; mistakes keep what was typed; and every back-office and postbox
// page passes axe and html-validate at desktop and phone size, in German and English.
//
// On PostgreSQL all test files share one database, so cases of other files may be in the same
// postboxes: rows are found by reference or by the applicant's (unique) family name, never by
// position or total count.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newPage, expectAccessible, expectValidHtml, screenshot, mailTo, mailCount, SIZES } from './harness.js';
import { DEMO, PDF, PNG, go, loginAs, applyForParkingPermit } from './steps.js';

let app;
before(async () => { app = await startServer(); });
after(async () => { await app?.stop(); });

const PARKING = 'p-stuttgart-parken';
const INBOX = `/verwaltung/postfach/${PARKING}`;
const casePath = (reference) => `/verwaltung/vorgaenge/${reference}`;
const threadPath = (reference) => `/konto/postfach/${reference}`;
const SEND = 'main form[action*="/nachricht"] button[type=submit]';
const REPLY = 'main form[action*="/antwort/"] button[type=submit]';
const FILTER = 'main form.aw-filters button[type=submit]';

/** A day `days` from today as the date inputs take it (YYYY-MM-DD, UTC like the server). */
function dayFromToday(days) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/** The caseworker writes to the citizen on the case page: a message, request or decision. */
async function write(page, { kind, body, deadline, outcome, files }) {
  await page.check(`input[name=kind][value=${kind}]`);
  await page.fill('#body', body);
  if (deadline) await page.fill('#deadline', deadline);
  if (outcome) await page.check(`input[name=outcome][value=${outcome}]`);
  if (files) await page.setInputFiles('#files', files);
  await go(page, SEND);
}

async function status(page) {
  return page.textContent('main [role=status]');
}

/** The row of a case in the inbox table now shown. */
function inboxRow(page, reference) {
  return page.locator('main table.aw-inbox tbody tr', { hasText: reference });
}

// Every demo account logs in through the form once; later contexts start with that session.
const sessions = {};
async function loggedIn(email, size = 'desktop', locale = 'de-DE') {
  sessions[email] ??= (async () => {
    const { context, page } = await newPage(app, 'desktop');
    try {
      await loginAs(app, page, email);
      return await context.storageState();
    } finally {
      await context.close();
    }
  })();
  return newPage(app, { viewport: SIZES[size], locale, storageState: await sessions[email] });
}

/** The citizen applies, the caseworker opens the case and takes it. Returns the reference. */
async function submittedAndTaken(citizen, staff, familyName) {
  const reference = await applyForParkingPermit(app, citizen, { familyName });
  await staff.goto(app.base + casePath(reference));
  await go(staff, 'main form[action$="/uebernehmen"] button');
  assert.match(await status(staff), /Sie bearbeiten diesen Vorgang jetzt/);
  return reference;
}

test('request for information, answer with a file, approval: citizen at phone size, caseworker at desktop size', async () => {
  const citizen = await loggedIn(DEMO.citizen, 'phone');
  const staff = await loggedIn(DEMO.caseworker, 'desktop');
  try {
    // Mail to the citizen: the confirmation of receipt, then one for each request and decision.
    let mails = mailCount(app, DEMO.citizen) + 1;
    const reference = await applyForParkingPermit(app, citizen.page, { familyName: 'Sonnenberg' });

    // The caseworker's start page counts the new case; the inbox opens on "Neu", where it is.
    await staff.page.goto(`${app.base}/verwaltung`);
    const card = staff.page.locator('main .aw-card', { has: staff.page.locator(`a[href="${INBOX}"]`) });
    assert.match(await card.textContent(), /Neue Vorgänge: [1-9]/);
    await go(staff.page, `main a[href="${INBOX}"]`);
    assert.match(await staff.page.textContent('main a.aw-tabs__link[aria-current=page]'), /^Neu [1-9]/);
    await staff.page.selectOption('#sort', 'neueste');
    await go(staff.page, FILTER);
    assert.equal(await inboxRow(staff.page, reference).count(), 1, 'newest first in the "Neu" tab');

    // Search by the applicant's name (one word, any case) finds it, and only that name.
    await staff.page.fill('#q', 'sonnenberg');
    await go(staff.page, FILTER);
    assert.equal(await staff.page.inputValue('#q'), 'sonnenberg', 'the search stays in the field');
    for (const text of await staff.page.locator('main table.aw-inbox tbody tr').allTextContents()) {
      assert.match(text, /Erika Sonnenberg/);
    }
    assert.match(await inboxRow(staff.page, reference).textContent(), /Bewohnerparkausweis[\s\S]*Eingegangen/);
    await go(staff.page, `main a[href="${casePath(reference)}"]`);

    // Case page: the answers and the evidence; take the case.
    assert.match(await staff.page.textContent('h1'), new RegExp(`${reference} – Bewohnerparkausweis`));
    assert.match(await staff.page.textContent('main'), /S-AB 1234[\s\S]*fahrzeugschein\.png/);
    await go(staff.page, 'main form[action$="/uebernehmen"] button');
    assert.match(await status(staff.page), /Sie bearbeiten diesen Vorgang jetzt/);
    assert.match(await staff.page.textContent('main dl'), /sachbearbeitung@amtsweg\.example/);
    assert.equal(await staff.page.locator('main form[action$="/uebernehmen"]').count(), 0, 'taken: no take button');

    // Request for information with a deadline a week ahead. The mail says where, not what.
    const deadline = dayFromToday(7);
    const request = 'Bitte reichen Sie die Meldebestätigung für die Eberhardstraße 1 nach.';
    await write(staff.page, { kind: 'request', body: request, deadline });
    assert.match(await status(staff.page), /Nachricht wurde gesendet/);
    assert.match(await staff.page.textContent('main .aw-thread'), new RegExp(`Nachforderung[\\s\\S]*${request}`));
    const mail = await mailTo(app, DEMO.citizen, ++mails);
    assert.match(mail, new RegExp(`/konto/postfach/${reference}`));
    assert.doesNotMatch(mail, /Meldebestätigung|Eberhardstraße/, 'the request text stays out of the mail');

    // The citizen: an unread marker in the postbox, then the request on the application page,
    // reached from "Meine Anträge"; read, the marker is gone.
    await citizen.page.goto(`${app.base}/konto/postfach`);
    assert.match(await citizen.page.locator('main li', { hasText: reference }).textContent(), /Wartet auf Ihre Antwort[\s\S]*1 ungelesen/);
    await citizen.page.goto(`${app.base}/konto/antraege`);
    await go(citizen.page, `main a[href="${threadPath(reference)}"]`);
    const page = await citizen.page.textContent('main');
    assert.match(page, new RegExp(request));
    assert.match(page, new RegExp(`Bitte antworten Sie bis ${deadline}`));
    assert.match(await citizen.page.textContent('main address'), /Landeshauptstadt Stuttgart/);
    await citizen.page.goto(`${app.base}/konto/postfach`);
    assert.doesNotMatch(await citizen.page.locator('main li', { hasText: reference }).textContent(), /ungelesen/, 'read now');

    // The answer, with text and a PDF.
    await citizen.page.goto(app.base + threadPath(reference));
    const answer = 'Die Meldebestätigung hänge ich an.';
    await citizen.page.fill('#body', answer);
    await citizen.page.setInputFiles('#files', { name: 'meldebestaetigung.pdf', mimeType: 'application/pdf', buffer: PDF });
    await go(citizen.page, REPLY);
    assert.match(await status(citizen.page), /Ihre Antwort wurde an die Behörde gesendet/);
    assert.match(await citizen.page.textContent('main .aw-thread'), new RegExp(`${answer}[\\s\\S]*meldebestaetigung\\.pdf`));
    assert.equal(await citizen.page.locator(REPLY).count(), 0, 'answered: no reply form any more');
    await expectAccessible(citizen.page, 'antwort gesendet');
    await screenshot(citizen.page, 'bo-answered-phone-de');

    // The caseworker sees "Neue Antwort" in "Meine" and the answer with its file on the case.
    await go(staff.page, 'main a.aw-back-link[href="/verwaltung"]');
    await go(staff.page, `main a[href="${INBOX}"]`);
    await go(staff.page, 'main a.aw-tabs__link[href*="tab=meine"]');
    assert.match(await inboxRow(staff.page, reference).textContent(), /Neue Antwort[\s\S]*In Bearbeitung/);
    await go(staff.page, `main a[href="${casePath(reference)}"]`);
    assert.match(await staff.page.textContent('main .aw-thread'), new RegExp(`${answer}[\\s\\S]*meldebestaetigung\\.pdf`));

    // Approval with a decision notice as PDF.
    await write(staff.page, {
      kind: 'decision',
      outcome: 'approved',
      body: 'Ihr Bewohnerparkausweis ist bewilligt. Den Bescheid finden Sie im Anhang.',
      files: { name: 'bescheid.pdf', mimeType: 'application/pdf', buffer: PDF },
    });
    assert.match(await status(staff.page), /Nachricht wurde gesendet/);
    assert.match(await staff.page.textContent('main dl'), /Bewilligt/);
    assert.match(await mailTo(app, DEMO.citizen, ++mails), new RegExp(reference));

    // The citizen reads the decision and downloads the notice.
    await citizen.page.goto(`${app.base}/konto/postfach`);
    assert.match(await citizen.page.locator('main li', { hasText: reference }).textContent(), /Bewilligt[\s\S]*1 ungelesen/);
    await go(citizen.page, `main a[href="${threadPath(reference)}"]`);
    assert.match(await citizen.page.textContent('main dl'), /Bewilligt/);
    assert.match(await citizen.page.textContent('main .aw-thread'), /Bescheid[\s\S]*Bewilligt[\s\S]*bescheid\.pdf/);
    const link = citizen.page.locator('main .aw-thread a', { hasText: 'bescheid.pdf' });
    const [download] = await Promise.all([citizen.page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), 'bescheid.pdf');
    const file = await citizen.context.request.get(app.base + await link.getAttribute('href'));
    assert.equal(file.status(), 200);
    assert.match(file.headers()['content-disposition'], /^attachment; filename="bescheid\.pdf"/);
    assert.equal(file.headers()['content-type'], 'application/pdf');
    assert.deepEqual(await file.body(), PDF);
    await expectAccessible(citizen.page, 'bescheid');
    await screenshot(citizen.page, 'bo-decision-phone-de');
  } finally {
    await citizen.context.close();
    await staff.context.close();
  }
});

test('forwarded to Berlin: the citizen learns of Bezirksamt Mitte, never the internal reason', async () => {
  const citizen = await loggedIn(DEMO.citizen);
  const staff = await loggedIn(DEMO.caseworker);
  try {
    const mails = mailCount(app, DEMO.citizen);
    const reference = await applyForParkingPermit(app, citizen.page, { familyName: 'Weitergeber' });
    await staff.page.goto(app.base + casePath(reference));
    const reason = 'Wohnt laut Melderegister seit Oktober in Berlin-Mitte, interner Vermerk 4711.';
    await staff.page.selectOption('#postbox', 'p-berlin-mitte-buergeramt');
    await staff.page.fill('#reason', reason);
    await go(staff.page, 'main form[action$="/weiterleiten"] button');
    assert.equal(new URL(staff.page.url()).pathname, '/verwaltung');

    // The demo caseworker leads the Berlin postbox too: the case is new there, with the reason.
    await go(staff.page, 'main a[href="/verwaltung/postfach/p-berlin-mitte-buergeramt"]');
    assert.match(await inboxRow(staff.page, reference).textContent(), /Erika Weitergeber[\s\S]*Eingegangen/);
    await go(staff.page, `main a[href="${casePath(reference)}"]`);
    assert.match(await staff.page.textContent('main .aw-timeline'), new RegExp(`Grund der Weiterleitung: ${reason}`));
    await staff.page.goto(`${app.base}${INBOX}?tab=alle`);
    assert.equal(await inboxRow(staff.page, reference).count(), 0, 'gone from the Stuttgart postbox');

    const mail = await mailTo(app, DEMO.citizen, mails + 2); // after the confirmation of receipt
    assert.match(mail, new RegExp(`/konto/postfach/${reference}`));
    assert.doesNotMatch(mail, /4711|Melderegister/);
    await citizen.page.goto(app.base + threadPath(reference));
    assert.match(await citizen.page.textContent('main address'), /Bezirksamt Mitte von Berlin/);
    assert.match(await citizen.page.textContent('main .aw-thread'), /Weiterleitung[\s\S]*Bezirksamt Mitte von Berlin/);
    const main = await citizen.page.textContent('main');
    assert.doesNotMatch(main, /4711|Melderegister|Grund der Weiterleitung/, 'the reason stays internal');
    assert.doesNotMatch(main, /Landeshauptstadt Stuttgart/, 'the former authority is not named as responsible');
  } finally {
    await citizen.context.close();
    await staff.context.close();
  }
});

test('mistakes keep what was typed: a request without a deadline, an empty answer, a text file', async () => {
  const citizen = await loggedIn(DEMO.citizen, 'phone');
  const staff = await loggedIn(DEMO.caseworker);
  try {
    const reference = await submittedAndTaken(citizen.page, staff.page, 'Vergessmeinnicht');

    const request = 'Bitte senden Sie uns den Fahrzeugschein in besserer Auflösung.';
    for (const deadline of [undefined, '2020-01-31']) {
      await write(staff.page, { kind: 'request', body: request, deadline });
      const summary = staff.page.locator('main .aw-error-summary');
      assert.match(await summary.textContent(), /Bitte geben Sie eine Frist in der Zukunft an/);
      assert.equal(await summary.locator('a[href="#deadline"]').count(), 1, 'the summary links to the deadline field');
      assert.equal(await staff.page.getAttribute('#deadline', 'aria-invalid'), 'true');
      assert.equal(await staff.page.inputValue('#body'), request, 'the text typed is kept');
      assert.ok(await staff.page.isChecked('input[name=kind][value=request]'), 'the kind chosen is kept');
    }
    await expectAccessible(staff.page, 'nachforderung ohne frist');
    await screenshot(staff.page, 'bo-case-errors-desktop-de');
    await staff.page.fill('#deadline', dayFromToday(14));
    await go(staff.page, SEND);
    assert.match(await status(staff.page), /Nachricht wurde gesendet/);

    // The browser itself refuses an empty answer (required); only spaces reach the server.
    await citizen.page.goto(app.base + threadPath(reference));
    assert.ok(await citizen.page.$eval('#body', (field) => field.validity.valueMissing), 'empty: the browser will not send it');
    await citizen.page.fill('#body', '   ');
    await go(citizen.page, REPLY);
    const summary = citizen.page.locator('main .aw-error-summary');
    assert.match(await summary.textContent(), /Bitte geben Sie Ihre Antwort ein/);
    assert.equal(await summary.locator('a[href="#body"]').count(), 1);
    assert.equal(await citizen.page.locator(REPLY).count(), 1, 'the form is still there');
    await expectAccessible(citizen.page, 'leere antwort');
    await screenshot(citizen.page, 'bo-reply-errors-phone-de');

    // A file of a type not allowed: refused, and the answer typed stays.
    const answer = 'Anbei der Fahrzeugschein.';
    await citizen.page.fill('#body', answer);
    await citizen.page.setInputFiles('#files', { name: 'notiz.txt', mimeType: 'text/plain', buffer: Buffer.from('nur Text') });
    await go(citizen.page, REPLY);
    assert.match(await summary.textContent(), /nicht erlaubtes Format/);
    assert.equal(await summary.locator('a[href="#files"]').count(), 1);
    assert.equal(await citizen.page.inputValue('#body'), answer);
    await citizen.page.setInputFiles('#files', { name: 'fahrzeugschein.png', mimeType: 'image/png', buffer: PNG });
    await go(citizen.page, REPLY);
    assert.match(await status(citizen.page), /Ihre Antwort wurde an die Behörde gesendet/);
  } finally {
    await citizen.context.close();
    await staff.context.close();
  }
});

// A case with a request open (so the citizen's page has the reply form) and a reply template,
// made once for all the page checks below.
let shown;
function caseAwaitingAnswer() {
  shown ??= (async () => {
    const citizen = await loggedIn(DEMO.citizen);
    const staff = await loggedIn(DEMO.caseworker);
    try {
      await staff.page.goto(`${app.base}${INBOX}/vorlagen`);
      const title = 'Nachforderung Fahrzeugschein';
      await staff.page.fill('#title', title);
      await staff.page.fill('#body', 'Bitte laden Sie den Fahrzeugschein (Vorder- und Rückseite) gut lesbar hoch.');
      await go(staff.page, 'main form:has(#title) button[type=submit]');
      assert.equal(await staff.page.locator('main h2', { hasText: title }).count(), 1, 'template listed');

      const reference = await submittedAndTaken(citizen.page, staff.page, 'Barrierefrei');
      // The template fills the text field (a GET form, no script).
      await staff.page.selectOption('#vorlage', { label: title });
      await go(staff.page, 'main form.aw-inline-form button');
      assert.match(await staff.page.inputValue('#body'), /Vorder- und Rückseite/);
      await write(staff.page, {
        kind: 'request',
        body: await staff.page.inputValue('#body'),
        deadline: dayFromToday(10),
        files: { name: 'merkblatt.pdf', mimeType: 'application/pdf', buffer: PDF },
      });
      assert.match(await status(staff.page), /Nachricht wurde gesendet/);
      return reference;
    } finally {
      await citizen.context.close();
      await staff.context.close();
    }
  })();
  return shown;
}

// Every page checked: [name, account, path of the case awaiting an answer].
const PAGES = [
  ['bo-home', DEMO.caseworker, () => '/verwaltung'],
  ['bo-inbox', DEMO.caseworker, () => `${INBOX}?tab=alle`],
  ['bo-case', DEMO.caseworker, casePath],
  ['bo-templates', DEMO.caseworker, () => `${INBOX}/vorlagen`],
  ['postbox', DEMO.citizen, () => '/konto/postfach'],
  ['postbox-application', DEMO.citizen, threadPath],
];
// The demo accounts are German; English is what a visitor chooses with the language switch
// (its cookie; the switch itself is tested in platform.test.js).
const LANGS = { de: 'de-DE', en: 'en-US' };
const SCREENSHOT_PAGES = ['bo-inbox', 'bo-case', 'postbox-application'];
async function openAs(account, size, lang) {
  const opened = await loggedIn(account, size, LANGS[lang]);
  if (lang === 'en') await opened.context.addCookies([{ name: 'aw_lang', value: 'en', url: app.base }]);
  return opened;
}


for (const lang of Object.keys(LANGS)) {
  for (const [name, account, path] of PAGES) {
    test(`${name} (${lang}): valid HTML, no script`, async () => {
      const url = path(await caseAwaitingAnswer());
      const { context } = await openAs(account, 'desktop', lang);
      try {
        const r = await context.request.get(app.base + url);
        assert.equal(r.status(), 200, `GET ${url}`);
        const html = await r.text();
        assert.match(html, new RegExp(`<html[^>]*\\slang="${lang}"`), `GET ${url} in ${lang}`);
        assert.doesNotMatch(html, /<script\b/i, `GET ${url}: pages need no JavaScript`);
        await expectValidHtml(html, `GET ${url} (${lang})`);
      } finally {
        await context.close();
      }
    });
  }
}

for (const size of Object.keys(SIZES)) {
  for (const lang of Object.keys(LANGS)) {
    test(`back office and postbox: accessible, no sideways scrolling at ${size} size in ${lang}`, async () => {
      const reference = await caseAwaitingAnswer();
      const opened = {};
      try {
        for (const [name, account, path] of PAGES) {
          opened[account] ??= await openAs(account, size, lang);
          const { page } = opened[account];
          const resp = await page.goto(app.base + path(reference));
          assert.equal(resp.status(), 200, `GET ${path(reference)}`);
          assert.equal(await page.getAttribute('html', 'lang'), lang);
          if (SCREENSHOT_PAGES.includes(name)) await screenshot(page, `${name}-${size}-${lang}`);
          await expectAccessible(page, `${name} (${size}, ${lang})`);
          if (name === 'bo-inbox') {
            // Cells wrap between words and the table scrolls sideways on a phone: breaking
            // anywhere once squeezed columns to a letter and made rows 320-370 px high (five
            // lines of a long service title are about 140 px).
            const heights = await page.locator('main table.aw-inbox tbody tr')
              .evaluateAll((rows) => rows.map((r) => Math.round(r.getBoundingClientRect().height)));
            assert.ok(heights.length > 0, 'inbox rows shown');
            assert.ok(Math.max(...heights) < 200, `inbox rows a few lines high at ${size} size in ${lang}: ${heights}`);
          }
        }
        // The application page, last, is the one with the open request and its reply form.
        assert.equal(await opened[DEMO.citizen].page.locator(REPLY).count(), 1, 'reply form shown');
      } finally {
        for (const { context } of Object.values(opened)) await context.close();
      }
    });
  }
}

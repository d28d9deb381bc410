// Back-office systems over the API: an administrator creates a key in the back office (the key
// page passes axe and html-validate at desktop and phone size), a citizen applies, a back-office
// system in a separate process (fachverfahren.js) fetches the case with its key, checks the file
// hashes, acknowledges and writes back, and the citizen reads the reply in the account.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startServer, newPage, expectAccessible, expectValidHtml, screenshot } from './harness.js';
import { DEMO, go, loginAs, applyForParkingPermit } from './steps.js';

const run = promisify(execFile);
const keysPage = '/verwaltung/admin/postfaecher/p-stuttgart-parken/api-schluessel';

let app;
before(async () => { app = await startServer(); });
after(async () => { await app?.stop(); });

async function createKey() {
  const { context, page } = await newPage(app, 'desktop');
  try {
    await loginAs(app, page, DEMO.admin, '/verwaltung/admin');
    await page.goto(`${app.base}${keysPage}`);
    // Nothing chosen but the default: the name is missing, and said so.
    await go(page, 'main form[novalidate] button[type=submit]');
    assert.match(await page.textContent('.kern-error-summary, [role=alert]'), /Bezeichnung/);
    await page.fill('#name', 'Fachverfahren Parken (Test)');
    for (const scope of ['acknowledge', 'reply']) await page.check(`input[name=scopes][value=${scope}]`);
    await go(page, 'main form[novalidate] button[type=submit]');
    const key = (await page.textContent('code.aw-break')).trim();
    assert.match(key, /^aw_[0-9a-f]{10}_[A-Za-z0-9_-]{43}$/);
    await expectAccessible(page, 'api keys, key shown once');
    await screenshot(page, 'api-keys-desktop');
    await page.reload();
    assert.equal(await page.locator('code.aw-break').count(), 0, 'the key is shown only once');
    return { key, state: await context.storageState() };
  } finally {
    await context.close();
  }
}

test('a back-office system in its own process takes a case over and the citizen reads its reply', async () => {
  const { key, state } = await createKey();

  const citizen = await newPage(app, 'phone');
  await loginAs(app, citizen.page, DEMO.citizen);
  const reference = await applyForParkingPermit(app, citizen.page, { familyName: 'Schnittstelle', plate: 'S-AP 4242' });

  const { stdout } = await run(process.execPath, [fileURLToPath(new URL('./fachverfahren.js', import.meta.url)), app.base, reference],
    { env: { ...process.env, AMTSWEG_API_KEY: key }, timeout: 60000 });
  const done = JSON.parse(stdout);
  assert.equal(done.ack, 'accepted');
  assert.equal(done.files.length, 1, 'the vehicle registration, hash checked');

  await citizen.page.goto(`${app.base}/konto/postfach/${reference}`);
  const thread = await citizen.page.textContent('main');
  assert.match(thread, /Kennzeichen S-AP 4242 ist im Fachverfahren eingegangen/);
  assert.match(thread, /zur Bearbeitung übernommen/, 'the acknowledgement is on the timeline');
  await expectAccessible(citizen.page, 'citizen thread with the reply of the back-office system');
  await citizen.context.close();

  // The key page at phone size, with the key in the list and valid markup.
  const admin = await newPage(app, { viewport: { width: 375, height: 667 }, storageState: state });
  await admin.page.goto(`${app.base}${keysPage}`);
  assert.match(await admin.page.textContent('main'), /Fachverfahren Parken \(Test\)/);
  await expectAccessible(admin.page, 'api keys at phone size');
  await expectValidHtml(await (await admin.page.request.get(`${app.base}${keysPage}`)).text(), 'api keys');
  await screenshot(admin.page, 'api-keys-phone');
  await admin.context.close();
});

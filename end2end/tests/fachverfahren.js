// A back-office system (Fachverfahren) in a process of its own, as an authority would run it:
// with its API key it polls for new submissions until it finds the case it was told about,
// fetches it, downloads every file and checks its SHA-256, acknowledges the submission and
// writes to the citizen. Prints what it did as JSON; exits non-zero on any problem.
//
//   node tests/fachverfahren.js <base URL> <reference>   (key in AMTSWEG_API_KEY)
import { createHash, randomUUID } from 'node:crypto';

const [base, reference] = process.argv.slice(2);
const key = process.env.AMTSWEG_API_KEY;
if (!base || !reference || !key) {
  console.error('usage: AMTSWEG_API_KEY=… node fachverfahren.js <base URL> <reference>');
  process.exit(2);
}
const auth = { Authorization: `Bearer ${key}` };

async function call(method, path, body) {
  const headers = { ...auth };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Idempotency-Key'] = randomUUID();
  }
  const r = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}

/** Pages through the pending submissions until the case shows up (new work may take a moment). */
async function findPending() {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    let cursor = '';
    for (;;) {
      const page = await call('GET', `/api/v1/cases?pending=true&limit=50${cursor ? `&cursor=${cursor}` : ''}`);
      const hit = page.items.find((c) => c.reference === reference);
      if (hit) return hit;
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${reference} did not appear among the pending submissions`);
}

const summary = await findPending();
const detail = await call('GET', `/api/v1/cases/${reference}`);
const files = [];
for (const f of detail.files) {
  const r = await fetch(`${base}${f.href}`, { headers: auth });
  if (!r.ok) throw new Error(`download ${f.href}: ${r.status}`);
  const bytes = Buffer.from(await r.arrayBuffer());
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== f.sha256) throw new Error(`${f.file_name}: SHA-256 ${sha}, announced ${f.sha256}`);
  files.push({ name: f.file_name, size: bytes.length, sha256: sha });
}
const ack = await call('POST', `/api/v1/cases/${reference}/acknowledgement`, { outcome: 'accepted' });
const plate = detail.answers.plate ?? '';
const message = await call('POST', `/api/v1/cases/${reference}/messages`, {
  kind: 'message',
  body: `Ihr Antrag für das Kennzeichen ${plate} ist im Fachverfahren eingegangen und wird bearbeitet.`,
});
console.log(JSON.stringify({ state: summary.state, service: detail.case.service_key, files, ack: ack.outcome, message: message.id }));

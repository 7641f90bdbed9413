// End-to-end browser test of the forewarn console and partner portal, in headless Debian Chromium driven by
// playwright-core. .ci/run starts a demo server (debug build) with a test-only clock file and runs this with:
//   FOREWARN_URL     the server's base URL
//   DEMO_DIR         the demo's data directory (its demo-credentials.txt holds the logins)
//   CLOCK_FILE       the file the server reads "now" from (FOREWARN_TEST_CLOCK_FILE)
//   SCREENSHOTS      where to save a screenshot of each main page
// The story: an author writes and submits an advisory; a second user approves it and schedules it for Patch
// Tuesday; the next Patch Tuesday's timeline shows the CN partners' row restricted; a US validate-tier partner's
// user sees the PoC only after its lead time (the clock is moved); an investigator pastes an excerpt of that
// partner's portal copy and the partner is named; the program manager suspends the partner and its portal user is
// refused on the next request.

import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const url = process.env.FOREWARN_URL;
const demo = process.env.DEMO_DIR;
const clock = process.env.CLOCK_FILE;
const shots = process.env.SCREENSHOTS || 'screenshots';
assert.ok(url && demo && clock, 'set FOREWARN_URL, DEMO_DIR and CLOCK_FILE');
mkdirSync(shots, { recursive: true });

const creds = readFileSync(join(demo, 'demo-credentials.txt'), 'utf8');
const password = (user) => {
  const line = creds.split('\n').find((l) => l.trim().split(/\s+/)[0] === user);
  assert.ok(line, `no credentials for ${user}`);
  return line.trim().split(/\s+/)[1];
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/lib/chromium/chromium',
  args: ['--no-sandbox'],
});
let step = 0;
const shot = async (page, name) => {
  step += 1;
  await page.screenshot({ path: join(shots, `${String(step).padStart(2, '0')}-${name}.png`), fullPage: true });
};
const check = (what, fn) => {
  process.stdout.write(`- ${what} ... `);
  return fn().then(() => console.log('ok'));
};

// Each user in a context of their own (their own cookies), as on separate machines.
const signIn = async (path, user) => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  // Statuses are asserted where they matter (a 404 before its time, a 403 once suspended): what must never
  // happen is a Content-Security-Policy violation or a script error.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.goto(`${url}${path}/login`);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password(user));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${url}${path}`);
  return { page, problems };
};

let newId;
try {
  const alice = await signIn('/console', 'alice');
  await check('the dashboard shows what becomes visible, and the advisories', async () => {
    await assert.doesNotReject(alice.page.getByRole('heading', { name: 'Dashboard' }).waitFor());
    await shot(alice.page, 'dashboard');
  });

  await check('an author writes an advisory and submits it for approval', async () => {
    await alice.page.getByRole('link', { name: 'Write an advisory' }).click();
    await alice.page.getByLabel('Title').fill('Contoso Relay: heap overflow in header parsing');
    await alice.page.getByLabel('CVE ids').fill('CVE-2026-50001');
    await alice.page.getByLabel('CWE').fill('CWE-787');
    await alice.page.getByLabel('CVSS vector').fill('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H');
    await alice.page.getByLabel('Products').fill('Contoso Relay: 2.0 through 2.3');
    await alice.page.getByLabel('Summary').fill('A {{heap overflow|heap buffer overflow}} in Contoso Relay lets a remote attacker run code.');
    await alice.page.getByLabel('Details').fill('The header parser {{copies|writes}} a long header into a fixed buffer.');
    await alice.page.getByLabel('PoC').fill('```python\nprint("{{trigger|poc}}")\n```');
    await shot(alice.page, 'advisory-new');
    await alice.page.getByRole('button', { name: 'Save and submit for approval' }).click();
    await alice.page.waitForURL(/\/console\/advisories\/ADV-/);
    newId = alice.page.url().split('/').pop();
    await assert.doesNotReject(alice.page.getByText('draft', { exact: true }).waitFor());
    // The author is no approver: no approve button for her.
    assert.equal(await alice.page.getByRole('button', { name: /Approve revision/ }).count(), 0);
  });

  const bob = await signIn('/console', 'bob');
  await check('a second user approves it and schedules it for Patch Tuesday', async () => {
    await bob.page.goto(`${url}/console/advisories/${newId}`);
    await bob.page.getByRole('button', { name: 'Approve revision 1' }).click();
    await bob.page.waitForURL(`${url}/console/advisories/${newId}`);
    const options = bob.page.getByLabel('Patch Tuesday').locator('option');
    const first = await options.nth(1).getAttribute('value');
    await bob.page.getByLabel('Patch Tuesday').selectOption(first);
    await bob.page.getByRole('button', { name: 'Schedule' }).click();
    await bob.page.waitForURL(`${url}/console/advisories/${newId}`);
    await assert.doesNotReject(bob.page.getByText('scheduled', { exact: true }).waitFor());
    await shot(bob.page, 'advisory-scheduled-timeline');
  });

  let releaseOfNext;
  await check("the next Patch Tuesday's timeline shows the CN partners' row restricted, with the law", async () => {
    // As a new user would: from the dashboard's next Patch Tuesday to the advisory.
    await bob.page.goto(`${url}/console`);
    await bob.page.locator('section.next-pt').getByRole('link', { name: 'ADV-2026-0002' }).click();
    await bob.page.waitForURL(`${url}/console/advisories/ADV-2026-0002`);
    const restricted = bob.page.locator('svg.timeline g.row.restricted');
    assert.ok((await restricted.count()) >= 1, 'a restricted row in the picture');
    const cn = bob.page.locator('article.group.restricted', { hasText: 'Hanshan Antivirus' });
    await assert.doesNotReject(cn.waitFor());
    const text = await cn.innerText();
    assert.match(text, /CN/);
    assert.match(text, /RMSV/, 'the legal source is shown');
    assert.match(text, /details\s+never/);
    releaseOfNext = await bob.page.locator('dt:text("Release (T)") + dd time').getAttribute('datetime');
    assert.ok(releaseOfNext, 'T is shown');
    await shot(bob.page, 'timeline-next-patch-tuesday');
    await bob.page.locator('select[name=partner]').selectOption('hanshan-antivirus');
    await bob.page.getByRole('button', { name: 'Show the copy' }).click();
    await assert.doesNotReject(bob.page.getByText('Nothing of ADV-2026-0002 exists for this partner').waitFor());
    await shot(bob.page, 'see-as-partner');
  });

  const kestrel = await signIn('/portal', 'kestrel-analyst');
  await check('a US validate-tier partner user sees the PoC only after its lead time', async () => {
    const t = Date.parse(releaseOfNext);
    writeFileSync(clock, new Date(t - 9 * 24 * 3600 * 1000).toISOString());
    let r = await kestrel.page.goto(`${url}/portal/advisories/ADV-2026-0002`);
    assert.equal(r.status(), 404, 'nothing before its time');
    writeFileSync(clock, new Date(t - 24 * 3600 * 1000).toISOString());
    r = await kestrel.page.goto(`${url}/portal/advisories/ADV-2026-0002`);
    assert.equal(r.status(), 200);
    await assert.doesNotReject(kestrel.page.getByRole('heading', { name: 'poc' }).waitFor());
    await shot(kestrel.page, 'portal-advisory-poc');
    rmSync(clock);
    await kestrel.page.goto(`${url}/portal`);
    await shot(kestrel.page, 'portal-home');
  });

  await check("an investigator pastes an excerpt of the partner's portal copy and the partner is named", async () => {
    await kestrel.page.goto(`${url}/portal/advisories/ADV-2026-0001`);
    // The second paragraph of the Details, as a reader would select and copy it from the page.
    const excerpt = await kestrel.page.locator('#section-details .markdown > p').nth(1).innerText();
    assert.ok(excerpt && excerpt.length > 200, 'a few sentences');
    const ivan = await signIn('/console', 'ivan');
    await ivan.page.getByRole('link', { name: 'Investigations' }).click();
    await ivan.page.getByLabel('Leaked material').fill(excerpt);
    await ivan.page.getByRole('button', { name: 'Trace' }).click();
    await assert.doesNotReject(ivan.page.getByRole('heading', { name: /named: kestrel-edr/ }).waitFor());
    await shot(ivan.page, 'investigation');
  });

  await check("the program manager suspends the partner; its portal user is refused on the next request", async () => {
    const priya = await signIn('/console', 'priya');
    await priya.page.getByRole('link', { name: 'Partners' }).click();
    await priya.page.locator('form.filters input[name=country]').fill('US');
    await priya.page.getByRole('button', { name: 'Filter' }).click();
    await shot(priya.page, 'partners');
    const row = priya.page.locator('tr#partner-kestrel-edr');
    await row.getByPlaceholder('reason').fill('Browser test: suspected leak');
    await row.getByRole('button', { name: 'Suspend' }).click();
    await assert.doesNotReject(priya.page.getByText('Kestrel EDR is now suspended.').waitFor());
    const r = await kestrel.page.goto(`${url}/portal`);
    assert.equal(r.status(), 403);
    await assert.doesNotReject(kestrel.page.getByText(/suspended/).waitFor());
    await shot(kestrel.page, 'portal-refused');
  });

  await check('every other main page renders (screenshots): policy, log, a partner, portal settings', async () => {
    const audrey = await signIn('/console', 'audrey');
    await audrey.page.getByRole('link', { name: 'Policy' }).click();
    await assert.doesNotReject(audrey.page.getByRole('heading', { name: 'Policy', exact: true }).waitFor());
    await audrey.page.locator('select[name=partner]').selectOption('hanshan-antivirus');
    await audrey.page.locator('select[name=advisory]').selectOption('ADV-2026-0002');
    await audrey.page.getByRole('button', { name: 'Explain' }).click();
    await assert.doesNotReject(audrey.page.getByText('as seen by Hanshan Antivirus').waitFor());
    await shot(audrey.page, 'policy-explain');
    await audrey.page.getByRole('link', { name: 'Log' }).click();
    await audrey.page.getByRole('button', { name: 'Recompute and verify every entry' }).click();
    await assert.doesNotReject(audrey.page.getByText(/^Verified:/).waitFor());
    await shot(audrey.page, 'log');
    await audrey.page.goto(`${url}/console/partners/hanshan-antivirus`);
    await assert.doesNotReject(audrey.page.getByRole('heading', { name: 'API tokens' }).waitFor());
    await shot(audrey.page, 'partner');
    const hanshan = await signIn('/portal', 'hanshan-analyst');
    await hanshan.page.getByRole('link', { name: /Receipts, webhook/ }).click();
    await assert.doesNotReject(hanshan.page.getByRole('heading', { name: 'Receipts', exact: true }).waitFor());
    await shot(hanshan.page, 'portal-settings');
    for (const who of [audrey, hanshan]) assert.deepEqual(who.problems, []);
  });

  await check('no page broke the Content-Security-Policy or raised a script error', async () => {
    for (const who of [alice, bob, kestrel]) assert.deepEqual(who.problems, []);
  });
  console.log(`browser tests passed; ${step} screenshots in ${shots}`);
} catch (e) {
  console.log('FAILED');
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
}

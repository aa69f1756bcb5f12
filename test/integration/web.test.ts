// The web view in a real headless browser (Debian chromium driven by playwright-core) against the
// real app listening on loopback, over a memory store filled by ingesting real CloudTrail fixtures
// through the worker pool. What the page shows is checked against the JSON API's own answers.
// Screenshots the view into a temporary file; with UPDATE_SCREENSHOT=1 into docs/web-view.png
// (the README's picture) instead. Skipped (with that reason in its name) when /usr/bin/chromium is absent.
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/catalog.ts';
import { buildApp } from '../../src/http/app.ts';
import type { ErrorBody } from '../../src/http/errors.ts';
import type { DeniedResult } from '../../src/http/routes/denied.ts';
import type { ActionsResult } from '../../src/http/routes/policy.ts';
import { ingestObjects } from '../../src/ingest.ts';
import type { PolicyResult } from '../../src/policy/types.ts';
import type { UnusedResult } from '../../src/policy/unused.ts';
import { ParserPool } from '../../src/pool.ts';
import { listLocal } from '../../src/sources/local.ts';
import { openStore } from '../../src/state/open.ts';
import type { Store } from '../../src/state/store.ts';
import { Telemetry } from '../../src/telemetry.ts';
import { DEFAULT_PARSE_OPTIONS } from '../../workers/parse.ts';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.resolve(ROOT, '../shared/fixtures/cloudtrail');
const SCREENSHOT = process.env.UPDATE_SCREENSHOT
  ? path.join(ROOT, 'docs/web-view.png')
  : path.join(os.tmpdir(), `trailmint-web-view-${process.pid}.png`);

const TOKEN = 'web view token';
/** The browser's and the server's "now": ten days after the newest fixture event. */
const NOW = Date.parse('2026-03-20T12:00:00Z');
/** 90 days ending NOW, as the page defaults to */
const DEFAULT_FROM = '2025-12-21';
const DEFAULT_TO = '2026-03-20';

// Principals of the fixtures that exercise each panel.
const SSO_ADMIN =
  'arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_AdministratorAccess_1b74cd717d47002b';
const DENIED_USER = 'arn:aws:iam::111111111111:user/TrailDiscover';
const PASSES_ROLE = 'arn:aws:iam::791182566784:user/christophe';

const catalog = loadCatalog();
let pool: ParserPool;
let store: Store;
let telemetry: Telemetry;
let openApp: FastifyInstance;
let authApp: FastifyInstance;
let openUrl: string;
let authUrl: string;
let browser: Browser | undefined;

async function ingest(folder: string) {
  const listing = await listLocal([path.join(FIXTURES, folder)]);
  const summary = await ingestObjects(listing.objects, store, pool, {
    inFlightObjects: 4,
    commitBatchFiles: 16,
    observer: telemetry,
  });
  expect(summary.files.failed, JSON.stringify(summary.errors)).toBe(0);
}

beforeAll(async () => {
  pool = new ParserPool({ threads: 2 }, DEFAULT_PARSE_OPTIONS);
  store = await openStore('memory:');
  telemetry = new Telemetry({ store, now: () => NOW });
  await ingest('traildiscover-log-examples');
  await ingest('stratus-red-team-detonation-logs');
  // one corrupt object, for the failed-objects list
  const corrupt = {
    ref: { key: 'file:/logs/corrupt.json.gz', tag: '1' },
    name: '/logs/corrupt.json.gz',
    size: 7,
    read: async () => new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]),
  };
  await ingestObjects([corrupt], store, pool, {
    inFlightObjects: 1,
    commitBatchFiles: 1,
    observer: telemetry,
  });
  const deps = { store, catalog, telemetry, ready: () => true, now: () => NOW };
  openApp = buildApp(deps);
  authApp = buildApp({ ...deps, apiToken: TOKEN });
  openUrl = await openApp.listen({ host: '127.0.0.1', port: 0 });
  authUrl = await authApp.listen({ host: '127.0.0.1', port: 0 });
  if (HAVE_CHROMIUM) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }
});

afterAll(async () => {
  await browser?.close();
  await openApp?.close();
  await authApp?.close();
  await pool?.close();
  await store?.close();
});

/** The API's own answer, for comparing with what the page shows. */
async function apiJson<T>(p: string, init: RequestInit = {}, base = openUrl): Promise<T> {
  const res = await fetch(`${base}${p}`, init);
  expect(res.status, `${p}: ${await res.clone().text()}`).toBe(200);
  return (await res.json()) as T;
}

const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

// ---- the served files, over plain HTTP -----------------------------------------------------

describe('web assets', () => {
  it('serve the page and its assets with content types, cache headers and a strict CSP', async () => {
    const page = await fetch(`${openUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    // assets are linked by content hash and immutable under that hash
    const js = /src="(\/ui\/app\.js\?v=[0-9a-f]{16})"/.exec(html)?.[1];
    const css = /href="(\/ui\/app\.css\?v=[0-9a-f]{16})"/.exec(html)?.[1];
    expect(js && css, html.slice(0, 600)).toBeTruthy();
    for (const [url, type] of [
      [js!, 'text/javascript; charset=utf-8'],
      [css!, 'text/css; charset=utf-8'],
    ]) {
      const res = await fetch(`${openUrl}${url}`);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      // without the current hash: revalidate
      const bare = await fetch(`${openUrl}${url.split('?')[0]}`);
      expect(bare.headers.get('cache-control')).toBe('no-cache');
      const again = await fetch(`${openUrl}${url}`, {
        headers: { 'if-none-match': res.headers.get('etag')! },
      });
      expect(again.status).toBe(304);
    }
    const etag = page.headers.get('etag')!;
    expect((await fetch(`${openUrl}/`, { headers: { 'if-none-match': etag } })).status).toBe(304);

    const missing = await fetch(`${openUrl}/ui/nothing.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ErrorBody).error.code).toBe('NOT_FOUND');
  });

  it('stay open with a bearer token configured while the API does not', async () => {
    const html = await (await fetch(`${authUrl}/`)).text();
    const js = /src="([^"]+)"/.exec(html)![1];
    expect((await fetch(`${authUrl}${js}`)).status).toBe(200);
    expect((await fetch(`${authUrl}/v1/principals`)).status).toBe(401);
    expect((await fetch(`${authUrl}/ui/nothing.js`)).status).toBe(401);
  });
});

// ---- the page, in chromium -----------------------------------------------------------------

const browserSuite = HAVE_CHROMIUM
  ? 'web view in headless chromium'
  : `web view in headless chromium (SKIPPED: ${CHROMIUM} is missing; apt-get install chromium)`;

describe.skipIf(!HAVE_CHROMIUM)(browserSuite, () => {
  const contexts: BrowserContext[] = [];
  /** uncaught exceptions, CSP violations and other console errors, per page */
  const problems: string[] = [];

  afterAll(async () => {
    for (const c of contexts) await c.close();
  });

  async function open(url: string, { clock = true } = {}): Promise<Page> {
    const context = await browser!.newContext({
      viewport: { width: 1280, height: 800 },
      colorScheme: 'light',
      timezoneId: 'UTC',
    });
    contexts.push(context);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: openUrl });
    const page = await context.newPage();
    if (clock) await page.clock.setFixedTime(NOW);
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      // a 401/404 answer is logged by chromium as a failed resource: expected where tested
      if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text()))
        problems.push(`console: ${msg.text()}`);
    });
    await page.goto(url);
    return page;
  }

  const button = (page: Page, arn: string) =>
    page.locator(`#principal-list button[data-arn="${arn}"]`);
  const docsShown = async (page: Page, container = '#policy-docs') =>
    (await page.locator(`${container} pre`).allTextContents()).map((t) => JSON.parse(t));

  async function selectPrincipal(page: Page, arn: string) {
    await button(page, arn).click();
    await expect.poll(() => page.locator('#principal-h').textContent()).toBe(arn);
  }

  async function useActiveDays(page: Page) {
    await page.getByRole('button', { name: /^Active days \(/ }).click();
  }

  it('lists every principal through all pages, and filters them', async () => {
    const all = (await store.principals()).map((p) => p.principal).sort();
    const pages: string[] = [];
    const context = await browser!.newContext();
    contexts.push(context);
    const page = await context.newPage();
    page.on('request', (r) => {
      if (r.url().includes('/v1/principals')) pages.push(r.url());
    });
    await page.goto(`${openUrl}/?pageSize=10`);
    await expect
      .poll(() => page.locator('#principals-count').textContent())
      .toBe(`${all.length} principals`);
    const shown = await page
      .locator('#principal-list button')
      .evaluateAll((bs) => bs.map((b) => b.getAttribute('data-arn')));
    expect(shown).toEqual(all);
    expect(pages.length).toBe(Math.ceil(all.length / 10));
    expect(pages.slice(1).every((u) => u.includes('nextToken='))).toBe(true);

    // a row shows last activity and action count
    const p = (await store.principals()).find((x) => x.principal === SSO_ADMIN)!;
    await expect
      .poll(() => button(page, SSO_ADMIN).textContent())
      .toContain(`last ${p.lastSeen} · ${p.actions} actions`);

    // filter: case-insensitive, every word must match
    const filter = page.getByLabel('Filter');
    await filter.fill('CHRISTOPHE');
    const christophes = all.filter((a) => a.includes('christophe'));
    await expect
      .poll(() => page.locator('#principal-list button').count())
      .toBe(christophes.length);
    expect(await page.locator('#principals-count').textContent()).toBe(
      `${christophes.length} of ${all.length} principals`,
    );
    await filter.fill('sso administrator us-east-2');
    const sso = all.filter(
      (a) => /sso/i.test(a) && /administrator/i.test(a) && a.includes('us-east-2'),
    );
    await expect.poll(() => page.locator('#principal-list button').count()).toBe(sso.length);
    expect(sso).toContain(SSO_ADMIN);
    await filter.fill('no such principal');
    await expect.poll(() => page.locator('#principal-list button').count()).toBe(0);
    await filter.fill('');
    await expect.poll(() => page.locator('#principal-list button').count()).toBe(all.length);

    // keyboard: arrows move between principals, Enter opens one
    await page.locator('#principal-list button').first().focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#principal-h').textContent()).toBe(all[2]);
    expect(
      await page.locator('#principal-list button[aria-current="true"]').getAttribute('data-arn'),
    ).toBe(all[2]);

    // sort by action count: the busiest first
    await page.getByLabel('Sort').selectOption('actions');
    const busiest = [...(await store.principals())].sort(
      (a, b) => b.actions - a.actions || (a.principal < b.principal ? -1 : 1),
    )[0].principal;
    expect(await page.locator('#principal-list button').first().getAttribute('data-arn')).toBe(
      busiest,
    );
  });

  it("shows a principal's policy as GET /v1/policy has it; window, placeholders, copy", async () => {
    const page = await open(openUrl);
    await selectPrincipal(page, SSO_ADMIN);
    expect(await page.getByLabel('From', { exact: true }).inputValue()).toBe(DEFAULT_FROM);
    expect(await page.getByLabel('To', { exact: true }).inputValue()).toBe(DEFAULT_TO);

    const policyOf = (params: Record<string, string>) =>
      apiJson<PolicyResult>(`/v1/policy?${q({ principal: SSO_ADMIN, ...params })}`);
    const expected90 = await policyOf({ from: DEFAULT_FROM, to: DEFAULT_TO });
    await expect.poll(() => docsShown(page)).toEqual(expected90.policies);
    expect(await page.locator('#policy-summary').textContent()).toContain(
      `${expected90.actions.length} actions from ${DEFAULT_FROM} to ${DEFAULT_TO}`,
    );

    // the window picker changes the query
    const wider = page.waitForRequest(
      (r) => r.url().includes('/v1/policy?') && r.url().includes('from=2025-10-01'),
    );
    await page.getByLabel('From', { exact: true }).fill('2025-10-01');
    const url = new URL((await wider).url());
    expect(Object.fromEntries(url.searchParams)).toEqual({
      principal: SSO_ADMIN,
      from: '2025-10-01',
      to: DEFAULT_TO,
    });
    const expectedWide = await policyOf({ from: '2025-10-01', to: DEFAULT_TO });
    expect(expectedWide.actions.length).toBeGreaterThan(expected90.actions.length);
    await expect.poll(() => docsShown(page)).toEqual(expectedWide.policies);
    expect(page.url()).toContain('from=2025-10-01');

    // placeholders toggle
    const withPh = page.waitForRequest((r) => r.url().includes('placeholders=true'));
    await page.getByLabel('Resource placeholders').check();
    await withPh;
    const expectedPh = await policyOf({
      from: '2025-10-01',
      to: DEFAULT_TO,
      placeholders: 'true',
    });
    expect(JSON.stringify(expectedPh.policies)).toContain('${');
    await expect.poll(() => docsShown(page)).toEqual(expectedPh.policies);
    await page.getByLabel('Resource placeholders').uncheck();
    await expect.poll(() => docsShown(page)).toEqual(expectedWide.policies);

    // copy puts the pretty JSON on the clipboard
    await page.locator('#policy-docs button.copy').first().click();
    await expect
      .poll(() => page.evaluate('navigator.clipboard.readText()'))
      .toBe(JSON.stringify(expectedWide.policies[0], null, 2));

    // actions table: every action of /v1/actions, with its times
    const actions = await apiJson<ActionsResult>(
      `/v1/actions?${q({ principal: SSO_ADMIN, from: '2025-10-01', to: DEFAULT_TO })}`,
    );
    const granted = actions.actions.filter((a) => a.used || a.inferred);
    const rows = page.locator('#actions-table tbody tr');
    await expect.poll(() => rows.count()).toBe(granted.length);
    const shownRows = await rows.evaluateAll((trs) =>
      trs.map((tr) => [...tr.children].map((c) => c.textContent)),
    );
    const utc = (iso: string | null) =>
      iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : '—';
    expect(shownRows.map((r) => [r[1], r[2], r[3]])).toEqual(
      granted.map((a) => [String(a.count), utc(a.firstSeen), utc(a.lastSeen)]),
    );
    expect(shownRows.map((r) => r[0]!.split(' ')[0])).toEqual(granted.map((a) => a.action));
    // actions only refused are left to the denied attempts' table, and counted
    const deniedOnly = actions.actions.length - granted.length;
    if (deniedOnly > 0)
      expect(await page.locator('#actions-note').textContent()).toMatch(
        new RegExp(`^${deniedOnly} more actions? (was|were) only denied`),
      );

    // a typed window the API refuses shows the API's error
    await page.getByLabel('From', { exact: true }).fill('2026-03-19');
    await page.getByLabel('To', { exact: true }).fill('2026-03-01');
    await expect.poll(() => page.locator('#policy-error').textContent()).toMatch(/^BAD_WINDOW /);

    // the view for the screenshot: the principal's active days
    await useActiveDays(page);
    await expect.poll(() => page.locator('#policy-error').isHidden()).toBe(true);
    await expect.poll(() => page.locator('#policy-docs pre').count()).toBeGreaterThan(0);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000); // a rendered page, not a blank
    if (!process.env.UPDATE_SCREENSHOT) rmSync(SCREENSHOT);
  });

  it('marks the inferred iam:PassRole with the roles passed', async () => {
    const page = await open(openUrl);
    await selectPrincipal(page, PASSES_ROLE);
    await useActiveDays(page);
    const row = page.locator('#actions-table tbody tr', { hasText: 'iam:PassRole' });
    await expect.poll(() => row.locator('.badge.inferred').count()).toBe(1);
    const p = (await store.principals()).find((x) => x.principal === PASSES_ROLE)!;
    const actions = await apiJson<ActionsResult>(
      `/v1/actions?${q({ principal: PASSES_ROLE, from: p.firstSeen, to: p.lastSeen })}`,
    );
    expect(actions.passRoles.length).toBeGreaterThan(0);
    for (const pr of actions.passRoles)
      expect(await row.textContent()).toContain(`${pr.role} → ${pr.service}`);
    const policy = await docsShown(page);
    expect(JSON.stringify(policy)).toContain('iam:PassRole');
  });

  it('lists denied attempts as GET /v1/denied has them', async () => {
    const page = await open(openUrl);
    await selectPrincipal(page, DENIED_USER);
    await useActiveDays(page);
    const p = (await store.principals()).find((x) => x.principal === DENIED_USER)!;
    const denied = await apiJson<DeniedResult>(
      `/v1/denied?${q({ principal: DENIED_USER, from: p.firstSeen, to: p.lastSeen })}`,
    );
    expect(denied.denied.length).toBeGreaterThan(10);
    const rows = page.locator('#denied-table tbody tr');
    await expect.poll(() => rows.count()).toBe(denied.denied.length);
    const cells = await rows.evaluateAll((trs) =>
      trs.map((tr) => [...tr.children].map((c) => c.textContent)),
    );
    expect(cells.map((c) => c[0])).toEqual(denied.denied.map((d: { action: string }) => d.action));
    expect(cells[0][1]).toBe(String(denied.denied[0].count));
    expect(cells[0][3]).toBe(denied.denied[0].errorCode);
  });

  it('reports unused permissions against a pasted policy', async () => {
    const page = await open(openUrl);
    await selectPrincipal(page, SSO_ADMIN);
    await useActiveDays(page);
    const p = (await store.principals()).find((x) => x.principal === SSO_ADMIN)!;
    const held = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:*', 'ec2:Describe*', 'sts:*'], Resource: '*' }],
    };
    const expected = await apiJson<UnusedResult>('/v1/unused', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        principal: SSO_ADMIN,
        from: p.firstSeen,
        to: p.lastSeen,
        policies: [held],
      }),
    });
    expect(expected.unused.length).toBeGreaterThan(0);

    const input = page.getByLabel(/Policies the principal holds/);
    const submit = page.getByRole('button', { name: 'Find unused permissions' });
    // not JSON: said so before asking the API
    await input.fill('{"Version": ');
    await submit.click();
    await expect.poll(() => page.locator('#unused-error').textContent()).toMatch(/^BAD_JSON /);
    // not a policy: the API's error
    await input.fill('{"Statement": 5}');
    await submit.click();
    await expect.poll(() => page.locator('#unused-error').textContent()).toMatch(/^BAD_POLICY /);

    await input.fill(JSON.stringify(held, null, 2));
    await submit.click();
    const result = page.locator('#unused-result');
    await expect
      .poll(() => result.locator('.figure.big dd').textContent())
      .toBe(`${expected.reductionPercent}%`);
    expect(await page.locator('#unused-error').isHidden()).toBe(true);
    const unusedShown = await result
      .locator('.names', { hasText: 'Granted, never used' })
      .locator('li')
      .allTextContents();
    expect(unusedShown).toEqual(expected.unused);
    expect(await docsShown(page, '#unused-result')).toEqual(expected.suggested);
  });

  it('shows ingest status and lag, refreshed periodically', async () => {
    const context = await browser!.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.clock.install({ time: NOW });
    await page.goto(openUrl);
    const figure = (label: string) =>
      page
        .locator('#status-figures .figure', {
          has: page.locator('dt').getByText(label, { exact: true }),
        })
        .locator('dd');
    const before = await telemetry.status();
    await expect
      .poll(() => figure('Objects ingested').textContent())
      .toBe(before.objects.ingested.toLocaleString('en-US'));
    expect(await figure('Records').textContent()).toBe(
      before.records.total.toLocaleString('en-US'),
    );
    expect(await figure('Unmapped pairs').textContent()).toBe(String(before.unmapped.pairs));
    expect(before.ingestLagSeconds).toBeGreaterThan(86_400);
    expect(await figure('Ingest lag').textContent()).toMatch(/^\d+ d \d+ h$/);
    expect(await figure('Newest event').textContent()).toBe(
      `${before.newestEventTime!.slice(0, 10)} ${before.newestEventTime!.slice(11, 16)} UTC`,
    );

    // objects the ingest refused are listed (here: a corrupt gzip)
    expect(before.failedObjects.length).toBeGreaterThan(0);
    await page.getByText(/^Failed objects \(/).click();
    expect(await page.locator('#status-details').textContent()).toContain(
      before.failedObjects[0].object,
    );

    await ingest('trailscraper-fixtures');
    const after = await telemetry.status();
    expect(after.objects.ingested).toBeGreaterThan(before.objects.ingested);
    await page.clock.runFor(11_000);
    await expect
      .poll(() => figure('Objects ingested').textContent())
      .toBe(after.objects.ingested.toLocaleString('en-US'));
  });

  it('with a bearer token configured: loads, fails until the token is given, then works', async () => {
    const page = await open(authUrl);
    const apiHeaders: (string | undefined)[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/v1/')) apiHeaders.push(r.headers().authorization);
    });
    expect(await page.title()).toBe('trailmint');
    const tokenField = page.getByLabel('API token');
    await expect.poll(() => tokenField.isVisible()).toBe(true);
    await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('token');
    await expect
      .poll(() => page.locator('#principals-error').textContent())
      .toMatch(/^UNAUTHORIZED /);
    await expect.poll(() => page.locator('#status-error').textContent()).toMatch(/^UNAUTHORIZED /);
    expect(await page.locator('#principal-list button').count()).toBe(0);

    // a wrong token is refused, and said so
    await tokenField.fill('wrong');
    await tokenField.press('Enter');
    await expect.poll(() => page.locator('#auth-note').textContent()).toMatch(/refused/);
    await expect
      .poll(() => page.locator('#principals-error').textContent())
      .toMatch(/^UNAUTHORIZED /);

    await tokenField.fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    const count = (await store.principals()).length;
    await expect.poll(() => page.locator('#principal-list button').count()).toBe(count);
    await expect.poll(() => page.locator('#principals-error').isHidden()).toBe(true);
    await expect.poll(() => page.locator('#status-error').isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('trailmint.apiToken'))).toBe(TOKEN);
    expect(apiHeaders).toContain(`Bearer ${TOKEN}`);

    await selectPrincipal(page, SSO_ADMIN);
    await useActiveDays(page);
    const p = (await store.principals()).find((x) => x.principal === SSO_ADMIN)!;
    const expected = await apiJson<PolicyResult>(
      `/v1/policy?${q({ principal: SSO_ADMIN, from: p.firstSeen, to: p.lastSeen })}`,
      { headers: { authorization: `Bearer ${TOKEN}` } },
      authUrl,
    );
    await expect.poll(() => docsShown(page)).toEqual(expected.policies);
    // the token survives a reload of the tab
    await page.reload();
    await expect.poll(() => docsShown(page)).toEqual(expected.policies);
  });

  it('raised no script errors, CSP violations or console errors', () => {
    expect(problems).toEqual([]);
  });
});

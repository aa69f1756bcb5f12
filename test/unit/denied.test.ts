// GET /v1/denied through buildApp + inject over a memory store: what a principal was refused,
// newest first, never granted by the generated policy; the same 400s and 404 as /v1/policy.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/catalog.ts';
import { buildApp, type AppDeps } from '../../src/http/app.ts';
import { HTTP_ERRORS } from '../../src/http/errors.ts';
import { openStore } from '../../src/state/open.ts';
import type { Store } from '../../src/state/store.ts';
import { Telemetry } from '../../src/telemetry.ts';
import { deltaOf } from '../helpers/activity.ts';
import { actionsOf, allows } from '../helpers/iam.ts';

const catalog = loadCatalog();
const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/ci`;
const QUIET = `arn:aws:iam::${ACCOUNT}:user/quiet`;
const NOW = Date.parse('2024-03-10T12:00:00Z');
const TOKEN = 'denied-test-token';

let store: Store;
beforeAll(async () => {
  store = await openStore('memory:');
  await store.commit([
    {
      object: { key: 's3://trail/d1.json.gz', tag: 'a' },
      delta: deltaOf([
        { principal: ROLE, action: 's3:GetObject', time: '2024-03-01T10:00:00Z' },
        {
          principal: ROLE,
          action: 'iam:CreateUser',
          time: '2024-03-02T09:00:00Z',
          deniedCode: 'AccessDenied',
        },
        {
          principal: ROLE,
          action: 'iam:CreateUser',
          time: '2024-03-04T09:00:00Z',
          deniedCode: 'AccessDenied',
        },
        {
          principal: ROLE,
          action: 'ec2:RunInstances',
          time: '2024-03-03T08:00:00Z',
          deniedCode: 'Client.UnauthorizedOperation',
        },
        {
          principal: ROLE,
          action: 'kms:Decrypt',
          time: '2024-03-03T08:00:00Z',
          deniedCode: 'AccessDeniedException',
        },
        { principal: QUIET, action: 'sts:GetCallerIdentity', time: '2024-03-05T00:00:00Z' },
      ]),
    },
    {
      object: { key: 's3://trail/d2.json.gz', tag: 'b' },
      delta: deltaOf([
        {
          principal: ROLE,
          action: 'dynamodb:Scan',
          time: '2024-01-15T00:00:00Z',
          deniedCode: 'AccessDeniedException',
        },
      ]),
    },
  ]);
  return () => store.close();
});

function app(over: Partial<AppDeps> = {}) {
  return buildApp({
    store,
    catalog,
    telemetry: new Telemetry({ store, now: () => NOW }),
    ready: () => true,
    now: () => NOW,
    ...over,
  });
}

const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

function expectError(
  res: Awaited<ReturnType<ReturnType<typeof app>['inject']>>,
  code: keyof typeof HTTP_ERRORS,
  message?: RegExp,
) {
  expect(res.statusCode, res.body).toBe(HTTP_ERRORS[code]);
  const body = res.json();
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  if (message) expect(body.error.message).toMatch(message);
}

describe('GET /v1/denied', () => {
  it('lists what was refused in the window, newest first, with count, time and error code', async () => {
    const res = await app().inject(
      `/v1/denied?${q({ principal: ROLE, from: '2024-03-01', to: '2024-03-10' })}`,
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      principal: ROLE,
      from: '2024-03-01',
      to: '2024-03-10',
      denied: [
        {
          action: 'iam:CreateUser',
          count: 2,
          lastSeen: '2024-03-04T09:00:00.000Z',
          errorCode: 'AccessDenied',
        },
        {
          action: 'ec2:RunInstances',
          count: 1,
          lastSeen: '2024-03-03T08:00:00.000Z',
          errorCode: 'Client.UnauthorizedOperation',
        },
        {
          action: 'kms:Decrypt',
          count: 1,
          lastSeen: '2024-03-03T08:00:00.000Z',
          errorCode: 'AccessDeniedException',
        },
      ],
    });
  });

  it('the window selects the actions: the default 90 days include January, one day only its own', async () => {
    const all = (await app().inject(`/v1/denied?${q({ principal: ROLE })}`)).json();
    expect(all.from).toBe('2023-12-12');
    expect(all.denied.map((d: { action: string }) => d.action)).toEqual([
      'iam:CreateUser',
      'ec2:RunInstances',
      'kms:Decrypt',
      'dynamodb:Scan',
    ]);
    const one = (
      await app().inject(
        `/v1/denied?${q({ principal: ROLE, from: '2024-03-02', to: '2024-03-02' })}`,
      )
    ).json();
    // all-time count and last time, for an action denied within the window
    expect(one.denied).toEqual([
      {
        action: 'iam:CreateUser',
        count: 2,
        lastSeen: '2024-03-04T09:00:00.000Z',
        errorCode: 'AccessDenied',
      },
    ]);
  });

  it('a known principal refused nothing: 200 with an empty list', async () => {
    const res = await app().inject(`/v1/denied?${q({ principal: QUIET })}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().denied).toEqual([]);
    const idle = await app().inject(
      `/v1/denied?${q({ principal: ROLE, from: '2024-02-01', to: '2024-02-28' })}`,
    );
    expect(idle.json().denied).toEqual([]);
  });

  it('denied actions are never added to the generated policy', async () => {
    const window = { principal: ROLE, from: '2024-01-01', to: '2024-03-10' };
    const denied = (await app().inject(`/v1/denied?${q(window)}`)).json().denied;
    const policy = (await app().inject(`/v1/policy?${q(window)}`)).json();
    expect(policy.actions).toEqual(['s3:GetObject']);
    expect(policy.denied).toEqual(denied.map((d: { action: string }) => d.action).sort());
    const granted = actionsOf(policy.policies);
    for (const { action } of denied) {
      expect(granted.has(action)).toBe(false);
      expect(allows(policy.policies, action, '*')).toBe(false);
    }
  });

  it('404 UNKNOWN_PRINCIPAL, and the same 400s as /v1/policy', async () => {
    expectError(
      await app().inject(`/v1/denied?${q({ principal: `arn:aws:iam::${ACCOUNT}:role/nobody` })}`),
      'UNKNOWN_PRINCIPAL',
      /no activity recorded/,
    );
    expectError(
      await app().inject(
        `/v1/denied?${q({ principal: `arn:aws:sts::${ACCOUNT}:assumed-role/ci/session` })}`,
      ),
      'UNKNOWN_PRINCIPAL',
      /try arn:aws:iam::111122223333:role\/<path\/>ci/,
    );
    expectError(await app().inject(`/v1/denied?${q({ principal: 'ci' })}`), 'BAD_ARN');
    expectError(
      await app().inject(`/v1/denied?${q({ principal: ROLE, from: '2024-02-30' })}`),
      'BAD_DATE',
      /from must be a date YYYY-MM-DD/,
    );
    expectError(
      await app().inject(
        `/v1/denied?${q({ principal: ROLE, from: '2024-03-05', to: '2024-03-01' })}`,
      ),
      'BAD_WINDOW',
    );
    expectError(await app().inject('/v1/denied'), 'BAD_PARAMETER', /missing query parameter/);
    expectError(
      await app().inject(`/v1/denied?${q({ principal: ROLE, placeholders: 'true' })}`),
      'BAD_PARAMETER',
      /unknown query parameter "placeholders"/,
    );
  });

  it('needs the bearer token when one is configured', async () => {
    const a = app({ apiToken: TOKEN });
    const url = `/v1/denied?${q({ principal: ROLE })}`;
    expectError(await a.inject(url), 'UNAUTHORIZED');
    const ok = await a.inject({ url, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.statusCode).toBe(200);
  });
});

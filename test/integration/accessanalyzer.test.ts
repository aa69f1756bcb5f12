// The Access Analyzer compatible API through the real @aws-sdk/client-accessanalyzer against a
// listening app over a memory store filled from a real CloudTrail fixture folder (worker pool and
// all) plus a few synthetic deltas: all four calls, equality with GET /v1/policy, clientToken
// idempotence, paging, cancel, typed errors, and bearer auth through an SDK middleware.
import path from 'node:path';
import {
  AccessAnalyzerClient,
  AccessDeniedException,
  CancelPolicyGenerationCommand,
  ConflictException,
  GetGeneratedPolicyCommand,
  ListPolicyGenerationsCommand,
  ResourceNotFoundException,
  StartPolicyGenerationCommand,
  ValidationException,
  paginateListPolicyGenerations,
  type StartPolicyGenerationCommandInput,
} from '@aws-sdk/client-accessanalyzer';
import type { FinalizeRequestMiddleware, MetadataBearer } from '@smithy/types';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/catalog.ts';
import { buildApp, type AppDeps } from '../../src/http/app.ts';
import { ingestObjects } from '../../src/ingest.ts';
import { ParserPool } from '../../src/pool.ts';
import { listLocal } from '../../src/sources/local.ts';
import { openStore } from '../../src/state/open.ts';
import type { PrincipalSummary, Store } from '../../src/state/store.ts';
import { Telemetry } from '../../src/telemetry.ts';
import { DEFAULT_PARSE_OPTIONS } from '../../workers/parse.ts';
import { deltaOf } from '../helpers/activity.ts';

const FIXTURE = path.resolve(
  import.meta.dirname,
  '../../../shared/fixtures/cloudtrail/stratus-red-team-detonation-logs',
);
const catalog = loadCatalog();
const ACCOUNT = '210987654321';
const LAMBDA_ROLE = `arn:aws:iam::${ACCOUNT}:role/deployer`;
const NEW_SERVICE_ROLE = `arn:aws:iam::${ACCOUNT}:role/early-adopter`;
const TOKEN = 'aa-compat-token';
const TRAIL = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/org`;
const ACCESS_ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/AccessAnalyzerMonitorServiceRole`;

let store: Store;
let busiest: PrincipalSummary;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  store = await openStore('memory:');
  const pool = new ParserPool({ threads: 2 }, DEFAULT_PARSE_OPTIONS);
  try {
    const listing = await listLocal([FIXTURE]);
    const summary = await ingestObjects(listing.objects, store, pool, {
      inFlightObjects: 4,
      commitBatchFiles: 16,
    });
    expect(summary.files.failed).toBe(0);
  } finally {
    await pool.close();
  }
  await store.commit([
    {
      object: { key: 's3://trail/synthetic.json.gz', tag: '1' },
      delta: deltaOf([
        {
          principal: LAMBDA_ROLE,
          action: 'lambda:CreateFunction',
          time: '2024-05-02T10:00:00Z',
          resources: [`arn:aws:lambda:us-east-1:${ACCOUNT}:function:api`],
          passRole: {
            role: `arn:aws:iam::${ACCOUNT}:role/api-exec`,
            service: 'lambda.amazonaws.com',
          },
        },
        { principal: LAMBDA_ROLE, action: 's3:GetObject', time: '2024-05-03T23:59:59Z' },
        { principal: LAMBDA_ROLE, action: 'dynamodb:PutItem', time: '2024-05-04T00:00:01Z' },
        {
          principal: LAMBDA_ROLE,
          action: 'iam:CreateRole',
          time: '2024-05-02T11:00:00Z',
          deniedCode: 'AccessDenied',
        },
        { principal: NEW_SERVICE_ROLE, action: 'newsvc:DoThing', time: '2024-05-02T00:00:00Z' },
        {
          principal: NEW_SERVICE_ROLE,
          action: 'sts:GetCallerIdentity',
          time: '2024-05-02T00:00:00Z',
        },
      ]),
    },
  ]);
  busiest = (await store.principals()).sort((a, b) => b.actions - a.actions)[0];
  expect(busiest.actions).toBeGreaterThan(3);
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await store.close();
});

async function listen(
  over: Partial<AppDeps> = {},
): Promise<{ app: FastifyInstance; endpoint: string }> {
  const app = buildApp({
    store,
    catalog,
    telemetry: new Telemetry({ store }),
    ready: () => true,
    ...over,
  });
  apps.push(app);
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, endpoint: address };
}

function clientFor(endpoint: string, token?: string): AccessAnalyzerClient {
  const client = new AccessAnalyzerClient({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-checked' },
    maxAttempts: 1,
  });
  if (token !== undefined) {
    // The documented way to send trailmint's bearer token: replace the SigV4 header after signing.
    const bearer: FinalizeRequestMiddleware<object, MetadataBearer> = (next) => (args) => {
      (args.request as { headers: Record<string, string> }).headers.authorization =
        `Bearer ${token}`;
      return next(args);
    };
    client.middlewareStack.addRelativeTo(bearer, {
      relation: 'after',
      toMiddleware: 'httpSigningMiddleware',
      name: 'trailmintBearer',
    });
  }
  return client;
}

const startInput = (
  principalArn: string,
  startTime: Date,
  endTime?: Date,
  clientToken?: string,
): StartPolicyGenerationCommandInput => ({
  policyGenerationDetails: { principalArn },
  cloudTrailDetails: {
    trails: [{ cloudTrailArn: TRAIL, allRegions: true }],
    accessRole: ACCESS_ROLE,
    startTime,
    endTime,
  },
  clientToken,
});

const dayStart = (iso: string) => new Date(`${iso}T00:00:00Z`);

describe('Access Analyzer compatible API via @aws-sdk/client-accessanalyzer', () => {
  let app: FastifyInstance;
  let client: AccessAnalyzerClient;
  beforeAll(async () => {
    const l = await listen();
    app = l.app;
    client = clientFor(l.endpoint);
  });

  async function v1Policy(principal: string, from: string, to: string, placeholders = false) {
    const res = await app.inject(
      `/v1/policy?${new URLSearchParams({ principal, from, to, placeholders: String(placeholders) })}`,
    );
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { policies: object[] };
  }

  it('Start + Get: a SUCCEEDED job whose policies are GET /v1/policy for the same days', async () => {
    const start = dayStart(busiest.firstSeen);
    const end = new Date(Date.parse(`${busiest.lastSeen}T00:00:00Z`) + 3_600_000);
    const { jobId } = await client.send(
      new StartPolicyGenerationCommand(startInput(busiest.principal, start, end)),
    );
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);

    for (const placeholders of [false, true]) {
      const got = await client.send(
        new GetGeneratedPolicyCommand({ jobId, includeResourcePlaceholders: placeholders }),
      );
      expect(got.jobDetails).toMatchObject({ jobId, status: 'SUCCEEDED' });
      expect(got.jobDetails!.startedOn).toBeInstanceOf(Date);
      expect(got.jobDetails!.completedOn!.getTime()).toBeGreaterThanOrEqual(
        got.jobDetails!.startedOn!.getTime(),
      );
      const props = got.generatedPolicyResult!.properties!;
      expect(props.principalArn).toBe(busiest.principal);
      expect(props.isComplete).toBe(true);
      expect(props.cloudTrailProperties!.trailProperties).toEqual([
        { cloudTrailArn: TRAIL, allRegions: true },
      ]);
      // the UTC days covering [startTime, endTime]
      expect(props.cloudTrailProperties!.startTime).toEqual(start);
      expect(props.cloudTrailProperties!.endTime).toEqual(
        new Date(`${busiest.lastSeen}T23:59:59.999Z`),
      );
      const expected = await v1Policy(
        busiest.principal,
        busiest.firstSeen,
        busiest.lastSeen,
        placeholders,
      );
      const generated = got.generatedPolicyResult!.generatedPolicies!.map((p) => p.policy);
      expect(generated).toEqual(expected.policies.map((d) => JSON.stringify(d)));
      expect(generated.length).toBeGreaterThan(0);
    }
  });

  it('the window is honoured: days outside it are not in the policy; PassRole is inferred', async () => {
    const { jobId } = await client.send(
      new StartPolicyGenerationCommand(
        startInput(LAMBDA_ROLE, new Date('2024-05-02T09:00:00Z'), new Date('2024-05-03T12:00:00Z')),
      ),
    );
    const got = await client.send(new GetGeneratedPolicyCommand({ jobId }));
    const policies = got.generatedPolicyResult!.generatedPolicies!.map((p) => p.policy!);
    expect(policies).toEqual(
      (await v1Policy(LAMBDA_ROLE, '2024-05-02', '2024-05-03')).policies.map((d) =>
        JSON.stringify(d),
      ),
    );
    const text = policies.join('\n');
    expect(text).toContain('s3:GetObject'); // 2024-05-03T23:59:59Z: the last day is whole
    expect(text).not.toContain('dynamodb:PutItem'); // 2024-05-04
    expect(text).not.toContain('iam:CreateRole'); // denied, never granted
    expect(text).toContain('"Sid":"InferredPassRole1"');
  });

  it('includeServiceLevelTemplate adds <service>:* only for services the catalog does not know', async () => {
    const { jobId } = await client.send(
      new StartPolicyGenerationCommand(
        startInput(NEW_SERVICE_ROLE, new Date('2024-05-01T00:00:00Z')),
      ),
    );
    const plain = await client.send(new GetGeneratedPolicyCommand({ jobId }));
    expect(plain.generatedPolicyResult!.properties!.isComplete).toBe(false);
    const template = await client.send(
      new GetGeneratedPolicyCommand({ jobId, includeServiceLevelTemplate: true }),
    );
    const statements = template.generatedPolicyResult!.generatedPolicies!.flatMap(
      (p) => JSON.parse(p.policy!).Statement,
    );
    expect(statements).toContainEqual({
      Sid: 'NewsvcServiceLevel',
      Effect: 'Allow',
      Action: 'newsvc:*',
      Resource: '*',
    });
    expect(statements.filter((s: { Action: string }) => s.Action === 'sts:*')).toEqual([]);

    // a principal whose actions are all known: the flag changes nothing
    const known = await client.send(
      new StartPolicyGenerationCommand(startInput(LAMBDA_ROLE, new Date('2024-05-01T00:00:00Z'))),
    );
    const a = await client.send(new GetGeneratedPolicyCommand({ jobId: known.jobId }));
    const b = await client.send(
      new GetGeneratedPolicyCommand({ jobId: known.jobId, includeServiceLevelTemplate: true }),
    );
    expect(b.generatedPolicyResult!.generatedPolicies).toEqual(
      a.generatedPolicyResult!.generatedPolicies,
    );
  });

  it('the same clientToken gives the same job; reused with other parameters, ConflictException', async () => {
    const input = startInput(
      LAMBDA_ROLE,
      new Date('2024-05-01T00:00:00Z'),
      undefined,
      'retry-me-1',
    );
    const first = await client.send(new StartPolicyGenerationCommand(input));
    const again = await client.send(new StartPolicyGenerationCommand(input));
    expect(again.jobId).toBe(first.jobId);
    const other = await client.send(
      new StartPolicyGenerationCommand({ ...input, clientToken: 'retry-me-2' }),
    );
    expect(other.jobId).not.toBe(first.jobId);
    await expect(
      client.send(
        new StartPolicyGenerationCommand(
          startInput(LAMBDA_ROLE, new Date('2024-04-01T00:00:00Z'), undefined, 'retry-me-1'),
        ),
      ),
    ).rejects.toBeInstanceOf(ConflictException);
    // a retry arriving while the first attempt still runs waits for its job
    const together = startInput(LAMBDA_ROLE, new Date('2024-05-01T00:00:00Z'), undefined, 'twice');
    const [one, two] = await Promise.all([
      client.send(new StartPolicyGenerationCommand(together)),
      client.send(new StartPolicyGenerationCommand(together)),
    ]);
    expect(two.jobId).toBe(one.jobId);
    // without a token, the SDK makes one per call: two calls, two jobs
    const x = await client.send(
      new StartPolicyGenerationCommand({ ...input, clientToken: undefined }),
    );
    const y = await client.send(
      new StartPolicyGenerationCommand({ ...input, clientToken: undefined }),
    );
    expect(x.jobId).not.toBe(y.jobId);
  });

  it('ListPolicyGenerations pages newest first and filters by principal', async () => {
    const { endpoint } = await listen(); // a fresh job table
    const c = clientFor(endpoint);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { jobId } = await c.send(
        new StartPolicyGenerationCommand(startInput(LAMBDA_ROLE, new Date('2024-05-01T00:00:00Z'))),
      );
      ids.push(jobId!);
    }
    await c.send(
      new StartPolicyGenerationCommand(
        startInput(NEW_SERVICE_ROLE, new Date('2024-05-01T00:00:00Z')),
      ),
    );

    const first = await c.send(
      new ListPolicyGenerationsCommand({ principalArn: LAMBDA_ROLE, maxResults: 2 }),
    );
    expect(first.policyGenerations!.map((g) => g.jobId)).toEqual([ids[4], ids[3]]);
    expect(first.nextToken).toBeDefined();
    expect(first.policyGenerations![0]).toMatchObject({
      principalArn: LAMBDA_ROLE,
      status: 'SUCCEEDED',
    });
    expect(first.policyGenerations![0].startedOn).toBeInstanceOf(Date);

    const seen: string[] = [];
    for await (const page of paginateListPolicyGenerations(
      { client: c, pageSize: 2 },
      { principalArn: LAMBDA_ROLE },
    )) {
      expect(page.policyGenerations!.length).toBeLessThanOrEqual(2);
      seen.push(...page.policyGenerations!.map((g) => g.jobId!));
    }
    expect(seen).toEqual([...ids].reverse());

    const all = await c.send(new ListPolicyGenerationsCommand({}));
    expect(all.policyGenerations!.length).toBe(6);
    expect(all.nextToken).toBeUndefined();

    await expect(
      c.send(new ListPolicyGenerationsCommand({ nextToken: 'not-a-token' })),
    ).rejects.toBeInstanceOf(ValidationException);
  });

  it('CancelPolicyGeneration: CANCELED, policies gone; unknown jobs are ResourceNotFoundException', async () => {
    const { jobId } = await client.send(
      new StartPolicyGenerationCommand(startInput(LAMBDA_ROLE, new Date('2024-05-01T00:00:00Z'))),
    );
    await client.send(new CancelPolicyGenerationCommand({ jobId }));
    const got = await client.send(new GetGeneratedPolicyCommand({ jobId }));
    expect(got.jobDetails!.status).toBe('CANCELED');
    expect(got.generatedPolicyResult!.generatedPolicies).toBeUndefined();
    await client.send(new CancelPolicyGenerationCommand({ jobId })); // again: no change, no error

    const missing = '00000000-0000-4000-8000-000000000000';
    const err = await client
      .send(new GetGeneratedPolicyCommand({ jobId: missing }))
      .catch((e) => e);
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err).toMatchObject({ resourceId: missing, resourceType: 'PolicyGeneration' });
    expect(err.$metadata.httpStatusCode).toBe(404);
    await expect(
      client.send(new CancelPolicyGenerationCommand({ jobId: missing })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('a principal without activity: the job FAILED with a jobError saying why', async () => {
    const nobody = `arn:aws:iam::${ACCOUNT}:role/nobody`;
    const { jobId } = await client.send(
      new StartPolicyGenerationCommand(startInput(nobody, new Date('2024-05-01T00:00:00Z'))),
    );
    const got = await client.send(new GetGeneratedPolicyCommand({ jobId }));
    expect(got.jobDetails).toMatchObject({
      status: 'FAILED',
      jobError: {
        code: 'RESOURCE_NOT_FOUND_ERROR',
        message: expect.stringMatching(/no activity recorded/),
      },
    });
    expect(got.generatedPolicyResult!.generatedPolicies).toBeUndefined();

    const idle = await client.send(
      new StartPolicyGenerationCommand(
        startInput(LAMBDA_ROLE, new Date('2023-01-01T00:00:00Z'), new Date('2023-02-01T00:00:00Z')),
      ),
    );
    const idleJob = await client.send(new GetGeneratedPolicyCommand({ jobId: idle.jobId }));
    expect(idleJob.jobDetails!.jobError!.message).toMatch(
      /no activity from 2023-01-01 to 2023-02-01/,
    );
  });

  it.each([
    [
      'a principal that is not an IAM ARN',
      startInput('arn:aws:s3:::bucket', new Date('2024-05-01T00:00:00Z')),
      'policyGenerationDetails.principalArn',
    ],
    [
      'endTime before startTime',
      startInput(LAMBDA_ROLE, new Date('2024-05-02T00:00:00Z'), new Date('2024-05-01T00:00:00Z')),
      'cloudTrailDetails.endTime',
    ],
    [
      'endTime equal to startTime',
      startInput(LAMBDA_ROLE, new Date('2024-05-02T00:00:00Z'), new Date('2024-05-02T00:00:00Z')),
      'cloudTrailDetails.endTime',
    ],
    [
      'a malformed trail ARN',
      {
        ...startInput(LAMBDA_ROLE, new Date('2024-05-02T00:00:00Z')),
        cloudTrailDetails: {
          trails: [{ cloudTrailArn: 'org-trail' }],
          accessRole: ACCESS_ROLE,
          startTime: new Date('2024-05-02T00:00:00Z'),
        },
      },
      'cloudTrailDetails.trails.0.cloudTrailArn',
    ],
    [
      'no startTime',
      {
        policyGenerationDetails: { principalArn: LAMBDA_ROLE },
        cloudTrailDetails: { trails: [], accessRole: ACCESS_ROLE } as never,
      },
      'cloudTrailDetails.startTime',
    ],
  ])('ValidationException for %s, naming the field', async (_name, input, field) => {
    const err = await client.send(new StartPolicyGenerationCommand(input)).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationException);
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.fieldList.map((f: { name: string }) => f.name)).toEqual([field]);
    expect(err.message).toContain(field);
  });

  it('errors on these paths are AWS-shaped JSON, unknown paths under /policy too', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/policy/generation/x' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['x-amzn-errortype']).toBe('UnknownOperationException');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ message: 'no operation DELETE /policy/generation/x' });

    const bad = await app.inject({
      method: 'PUT',
      url: '/policy/generation',
      payload: '{"policyGenerationDetails": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['x-amzn-errortype']).toBe('ValidationException');
    expect(bad.json()).toMatchObject({ reason: 'cannotParse' });
    expect(bad.json().error).toBeUndefined();

    const unknownQuery = await app.inject('/policy/generation?principal=x');
    expect(unknownQuery.headers['x-amzn-errortype']).toBe('ValidationException');
    expect(unknownQuery.json().fieldList).toEqual([
      { name: 'principal', message: 'unknown member' },
    ]);
  });

  it('jobs beyond the cap evict the oldest; expired jobs are gone', async () => {
    let now = Date.parse('2024-06-01T00:00:00Z');
    const { endpoint } = await listen({ policyJobs: { maxJobs: 2, ttlSecs: 60 }, now: () => now });
    const c = clientFor(endpoint);
    const start = () =>
      c.send(
        new StartPolicyGenerationCommand(startInput(LAMBDA_ROLE, new Date('2024-05-01T00:00:00Z'))),
      );
    const a = await start();
    const b = await start();
    const d = await start();
    await expect(c.send(new GetGeneratedPolicyCommand({ jobId: a.jobId }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    expect(
      (await c.send(new GetGeneratedPolicyCommand({ jobId: b.jobId }))).jobDetails!.status,
    ).toBe('SUCCEEDED');
    now += 61_000;
    await expect(c.send(new GetGeneratedPolicyCommand({ jobId: d.jobId }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    expect((await c.send(new ListPolicyGenerationsCommand({}))).policyGenerations).toEqual([]);
  });
});

describe('bearer auth on the Access Analyzer paths', () => {
  it('AccessDeniedException without the token; the SDK works with the documented middleware', async () => {
    const { endpoint } = await listen({ apiToken: TOKEN });
    const input = startInput(LAMBDA_ROLE, new Date('2024-05-01T00:00:00Z'));
    for (const client of [clientFor(endpoint), clientFor(endpoint, 'wrong-token')]) {
      const err = await client.send(new StartPolicyGenerationCommand(input)).catch((e) => e);
      expect(err).toBeInstanceOf(AccessDeniedException);
      expect(err.$metadata.httpStatusCode).toBe(403);
      expect(err.message).toMatch(/Authorization: Bearer/);
    }
    const client = clientFor(endpoint, TOKEN);
    const { jobId } = await client.send(new StartPolicyGenerationCommand(input));
    const got = await client.send(new GetGeneratedPolicyCommand({ jobId }));
    expect(got.jobDetails!.status).toBe('SUCCEEDED');
    await client.send(new CancelPolicyGenerationCommand({ jobId }));
    expect(
      (await client.send(new ListPolicyGenerationsCommand({}))).policyGenerations,
    ).toHaveLength(1);

    // unknown paths under /policy: 403 in the AWS shape too, saying nothing about what exists
    const res = await fetch(`${endpoint}/policy/nothing`);
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
  });
});

// The checked-in catalog: built from the installed data package, ids append-only.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildCatalogFile, type SourceService } from '../../src/catalog/build.ts';
import { ActionCatalog, loadCatalog } from '../../src/catalog/catalog.ts';

const catalog = loadCatalog();

describe('action catalog', () => {
  it('holds every IAM action with a dense id, access level and resource types', () => {
    expect(catalog.actions().length).toBeGreaterThan(20_000);
    expect(catalog.services().length).toBeGreaterThan(400);
    expect(catalog.ids().length).toBeGreaterThanOrEqual(catalog.actions().length);
    expect(new Set(catalog.ids()).size).toBe(catalog.ids().length);
    const get = catalog.info('s3:GetObject')!;
    expect(get.accessLevel).toBe('Read');
    expect(get.resourceTypes.map((t) => t.name)).toContain('object');
    expect(get.resourceTypes.find((t) => t.name === 'object')!.arnFormats).toEqual([
      'arn:${Partition}:s3:::${BucketName}/${ObjectName}',
    ]);
    expect(catalog.info('s3:ListAllMyBuckets')!.resourceTypes).toEqual([]);
    const run = catalog.info('ec2:RunInstances')!;
    expect(run.resourceTypes.filter((t) => t.required).map((t) => t.name)).toEqual(
      expect.arrayContaining(['image', 'instance', 'network-interface']),
    );
    expect(catalog.id('s3:GetObject')).toBe(catalog.ids().indexOf('s3:GetObject'));
  });

  it('lists the ARN formats of the resource types its actions name, as info() gives them', () => {
    const want = new Set<string>();
    for (const name of catalog.actions())
      for (const t of catalog.info(name)!.resourceTypes) for (const f of t.arnFormats) want.add(f);
    expect(catalog.arnFormats()).toEqual([...want]);
    expect(catalog.arnFormats().length).toBeGreaterThan(2000);
  });

  it('looks names up case-insensitively and returns the canonical spelling', () => {
    expect(catalog.canonical('s3', 'getobject')).toBe('s3:GetObject');
    expect(catalog.canonical('S3', 'GetObject')).toBe('s3:GetObject');
    expect(catalog.canonical('s3', 'NoSuchAction')).toBeUndefined();
  });

  it('the checked-in file is what `npm run catalog` builds from the installed package', () => {
    const r = spawnSync(process.execPath, ['scripts/build-catalog.ts', '--check'], {
      encoding: 'utf8',
    });
    expect(r.stderr + r.stdout).toMatch(/up to date/);
    expect(r.status).toBe(0);
  });

  it('keeps old ids when the data package adds, renames or retires actions', () => {
    const svc = (actions: string[]): SourceService[] => [
      {
        prefix: 'x',
        name: 'X',
        resourceTypes: [{ name: 'thing', arn: 'arn:${Partition}:x:::${Thing}' }],
        actions: actions.map((name) => ({
          name,
          accessLevel: 'Read',
          resourceTypes: [{ name: 'thing', required: true }],
        })),
      },
    ];
    const v1 = buildCatalogFile(svc(['B', 'A', 'C']), '1');
    expect(v1.actions.map((a) => a[0])).toEqual(['x:A', 'x:B', 'x:C']);
    const v2 = buildCatalogFile(svc(['A', 'AA', 'C', 'D']), '2', v1); // B retired, AA and D new
    expect(v2.actions.map((a) => a[0])).toEqual(['x:A', 'x:B', 'x:C', 'x:AA', 'x:D']);
    const c2 = new ActionCatalog(v2);
    expect(c2.has('x:B')).toBe(false);
    expect(c2.id('x:B')).toBe(1); // retired, but its id is never reused
    expect(c2.id('x:D')).toBe(4);
    expect(c2.info('x:A')!.resourceTypes).toEqual([
      { name: 'thing', required: true, arnFormats: ['arn:${Partition}:x:::${Thing}'] },
    ]);
  });
});

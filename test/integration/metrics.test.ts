// The real /metrics output, after driving objects, messages and commits through Telemetry, checked
// by the real `promtool check metrics` (Debian package prometheus): it must have no complaints.
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.ts';
import { emptyStats, type FileStats } from '../../src/state/delta.ts';
import { openStore } from '../../src/state/open.ts';
import { Telemetry } from '../../src/telemetry.ts';
import type { Catalog } from '../../src/catalog/types.ts';

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
if (!hasPromtool && !process.env.CI) {
  console.warn(
    'metrics.test.ts: promtool not found; install the Debian package "prometheus" (skipped outside CI)',
  );
}

function promtool(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b) => (output += b));
    child.stderr.on('data', (b) => (output += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

const stats = (over: Partial<FileStats>): FileStats => ({ ...emptyStats(), ...over });

describe.skipIf(!hasPromtool && !process.env.CI)('GET /metrics', () => {
  it('passes promtool check metrics with no complaints, and counts what was driven', async () => {
    const store = await openStore('memory:');
    let now = Date.parse('2024-03-10T12:00:00Z');
    const telemetry = new Telemetry({ store, now: () => now });
    telemetry.watchPool({ threads: 4, queueSize: 3, utilization: 0.25 });
    telemetry.watchConsumer({ inFlightMessages: 2, inFlightObjects: 5 });

    telemetry.messagesReceived(3);
    const base = emptyStats().skipped;
    telemetry.objectDone(
      { key: 's3://trail/a.json.gz', tag: '1' },
      stats({
        bytesCompressed: 1000,
        bytesInflated: 9000,
        records: 120,
        duplicateRecords: 2,
        succeeded: 100,
        failed: 5,
        denied: 3,
        skipped: { ...base, serviceEvent: 6, unmapped: 4 },
        maxEventTime: now - 30_000,
      }),
      0.04,
    );
    telemetry.objectDone(
      { key: 's3://trail/b.json.gz', tag: '2' },
      stats({ records: 10, succeeded: 10, maxEventTime: now - 60_000 }),
      0.2,
    );
    telemetry.objectFailed(
      { key: 's3://trail/c.json.gz', tag: '3' },
      { code: 'GZIP_CORRUPT', message: 'truncated' },
      'skip',
    );
    telemetry.objectSkipped('digest', 's3://trail/digest.json.gz');
    telemetry.objectSkipped('already ingested', 's3://trail/a.json.gz');
    telemetry.committed(2, 0.012);
    telemetry.messagesDeleted(2);
    telemetry.poisonMessage('m-3', 'not JSON');
    telemetry.testEvent('m-4');
    telemetry.sqsError('DeleteMessageBatch', new Error('throttled'));
    telemetry.policyServed(0.002);
    telemetry.policyResponse('fast_path');
    now += 5_000;

    const app = buildApp({
      store,
      catalog: {} as Catalog,
      telemetry,
      ready: () => true,
      apiToken: 'secret',
    });
    const res = await app.inject('/metrics'); // open without the token: Prometheus scrapes it
    expect(res.statusCode).toBe(200);
    const text = res.body;

    const check = await promtool(text);
    expect(check.output, check.output).toBe('');
    expect(check.code).toBe(0);

    const sample = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(series + ' '));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(sample('trailmint_objects_total{result="ingested"}')).toBe(2);
    expect(sample('trailmint_objects_total{result="failed"}')).toBe(1);
    expect(sample('trailmint_objects_total{result="skipped"}')).toBe(2);
    expect(sample('trailmint_object_errors_total{code="GZIP_CORRUPT"}')).toBe(1);
    expect(sample('trailmint_objects_skipped_total{reason="already_ingested"}')).toBe(1);
    expect(sample('trailmint_records_total')).toBe(130);
    expect(sample('trailmint_records_skipped_total{reason="duplicate"}')).toBe(2);
    expect(sample('trailmint_records_skipped_total{reason="serviceEvent"}')).toBe(6);
    expect(sample('trailmint_events_total{outcome="succeeded"}')).toBe(110);
    expect(sample('trailmint_events_total{outcome="denied"}')).toBe(3);
    expect(sample('trailmint_compressed_bytes_total')).toBe(1000);
    expect(sample('trailmint_inflated_bytes_total')).toBe(9000);
    expect(sample('trailmint_sqs_messages_received_total')).toBe(3);
    expect(sample('trailmint_sqs_messages_deleted_total')).toBe(2);
    expect(sample('trailmint_sqs_messages_failed_total{reason="poison"}')).toBe(1);
    expect(sample('trailmint_sqs_test_events_total')).toBe(1);
    expect(sample('trailmint_sqs_errors_total{operation="DeleteMessageBatch"}')).toBe(1);
    expect(sample('trailmint_object_processing_seconds_count')).toBe(2);
    expect(sample('trailmint_object_processing_seconds_bucket{le="0.05"}')).toBe(1);
    expect(sample('trailmint_store_commit_seconds_count')).toBe(1);
    expect(sample('trailmint_policy_materialization_seconds_count')).toBe(1);
    expect(sample('trailmint_policy_responses_total{source="fast_path"}')).toBe(1);
    expect(sample('trailmint_policy_responses_total{source="materialized"}')).toBe(0);
    expect(sample('trailmint_ingest_lag_seconds')).toBe(35);
    expect(sample('trailmint_worker_pool_utilization_ratio')).toBe(0.25);
    expect(sample('trailmint_worker_pool_queued_tasks')).toBe(3);
    expect(sample('trailmint_worker_pool_threads')).toBe(4);
    expect(sample('trailmint_sqs_inflight_messages')).toBe(2);
    expect(sample('trailmint_inflight_objects')).toBe(5);
    expect(sample('trailmint_principals')).toBe(0);
    expect(sample('process_resident_memory_bytes')).toBeGreaterThan(0);
    await store.close();
  });

  it('promtool is not a rubber stamp: it rejects a counter without _total', async () => {
    const check = await promtool(
      '# HELP bad_things Bad.\n# TYPE bad_things counter\nbad_things 1\n',
    );
    expect(check.output).toMatch(/_total/);
  });
});

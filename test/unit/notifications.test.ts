import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyKey, parseNotification, unquoteEtag } from '../../src/sources/notifications.ts';

const DIR = path.resolve(import.meta.dirname, '../../../shared/fixtures/notifications');
const fixture = (name: string): string => readFileSync(path.join(DIR, name), 'utf8');

/** What SNS puts on the queue without raw delivery, around a publisher's message. */
function snsWrap(message: string): string {
  const envelope = JSON.parse(fixture('sns-notification.json'));
  return JSON.stringify({ ...envelope, Message: message });
}

/** An S3 event notification for these (already encoded) keys, as S3 sends it. */
function s3Event(
  records: { eventName?: string; key: string; eTag?: string; size?: number }[],
): string {
  const doc = JSON.parse(fixture('s3-put.json'));
  const template = doc.Records[0];
  doc.Records = records.map((r) => ({
    ...template,
    eventName: r.eventName ?? 'ObjectCreated:Put',
    s3: {
      ...template.s3,
      object: { ...template.s3.object, key: r.key, eTag: r.eTag, size: r.size },
    },
  }));
  return JSON.stringify(doc);
}

/** S3's form-URL-encoding of keys in event notifications: a space is `+`, a plus %2B, `/` kept. */
const s3Encode = (key: string): string =>
  encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');

const LOG_KEY =
  'AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/123456789012_CloudTrail_us-east-2_20160811T2215Z_kpaMYavMQA9Ahp7L.json.gz';

describe('parseNotification on the AWS-documented fixtures', () => {
  it('s3-put.json: bucket, key, unquoted ETag and size of the S3 event', () => {
    expect(parseNotification(fixture('s3-put.json'))).toEqual({
      kind: 'objects',
      objects: [
        {
          bucket: 'mybucket',
          key: 'HappyFace.jpg',
          etag: 'd41d8cd98f00b204e9800998ecf8427e',
          size: 1024,
        },
      ],
      ignoredEvents: 0,
    });
  });

  it('s3-test-event.json is a test event, bare or SNS-wrapped', () => {
    expect(parseNotification(fixture('s3-test-event.json'))).toEqual({ kind: 'test' });
    expect(parseNotification(snsWrap(fixture('s3-test-event.json')))).toEqual({ kind: 'test' });
  });

  it('sns-notification.json: an envelope whose Message is plain text is invalid', () => {
    const result = parseNotification(fixture('sns-notification.json'));
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.reason).toMatch(
      /SNS envelope whose Message is not JSON/,
    );
  });

  it('eventbridge-object-created.json: detail.bucket.name and detail.object.key, etag and size', () => {
    expect(parseNotification(fixture('eventbridge-object-created.json'))).toEqual({
      kind: 'objects',
      objects: [
        {
          bucket: 'DOC-EXAMPLE-BUCKET1',
          key: 'example-key',
          etag: 'b1946ac92492d2347c6235b4d2611184',
          size: 5,
        },
      ],
      ignoredEvents: 0,
    });
  });

  it('cloudtrail-sns-message.json: every key of the delivery, bare or SNS-wrapped', () => {
    const body = fixture('cloudtrail-sns-message.json');
    const keys = JSON.parse(body).s3ObjectKey as string[];
    const expected = {
      kind: 'objects',
      objects: keys.map((key) => ({
        bucket: 'your-bucket-name',
        key,
        etag: undefined,
        size: undefined,
      })),
      ignoredEvents: 0,
    };
    expect(keys).toHaveLength(3);
    expect(parseNotification(body)).toEqual(expected);
    expect(parseNotification(snsWrap(body))).toEqual(expected);
    for (const key of keys) expect(classifyKey(key)).toBe('log');
  });

  it('an S3 event wrapped in SNS reads like the bare one', () => {
    const body = fixture('s3-put.json');
    expect(parseNotification(snsWrap(body))).toEqual(parseNotification(body));
  });
});

describe('parseNotification edge cases', () => {
  it('form-URL-decodes S3 keys: + is a space, %2B a plus, %25 a percent, UTF-8 escapes', () => {
    const key = 'AWSLogs/a b+c%d/é 日本/x.json.gz';
    const encoded = 'AWSLogs/a+b%2Bc%25d/%C3%A9+%E6%97%A5%E6%9C%AC/x.json.gz';
    expect(s3Encode(key)).toBe(encoded);
    const result = parseNotification(s3Event([{ key: encoded }]));
    expect(result.kind === 'objects' && result.objects[0].key).toBe(key);
  });

  it('decoding inverts S3 encoding for any key', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1 }), (key) => {
        const result = parseNotification(s3Event([{ key: s3Encode(key) }]));
        expect(result.kind === 'objects' && result.objects[0].key).toBe(key);
      }),
    );
  });

  it('EventBridge keys are taken as they are (not URL-encoded)', () => {
    const doc = JSON.parse(fixture('eventbridge-object-created.json'));
    doc.detail.object.key = 'a+b%2B c';
    const result = parseNotification(JSON.stringify(doc));
    expect(result.kind === 'objects' && result.objects[0].key).toBe('a+b%2B c');
  });

  it('a key with a broken escape makes the message invalid', () => {
    const result = parseNotification(s3Event([{ key: 'AWSLogs/%E0%A4%A.json.gz' }]));
    expect(result).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/not URL-encoded/),
    });
  });

  it('ignores events other than ObjectCreated:*, counting them', () => {
    const result = parseNotification(
      s3Event([
        { eventName: 'ObjectRemoved:Delete', key: 'a.json.gz' },
        { eventName: 'ObjectCreated:CompleteMultipartUpload', key: 'b.json.gz' },
        { eventName: 'ObjectRestore:Completed', key: 'c.json.gz' },
        { eventName: 'ObjectCreated:Copy', key: 'd.json.gz' },
      ]),
    );
    expect(result).toEqual({
      kind: 'objects',
      objects: [
        { bucket: 'mybucket', key: 'b.json.gz', etag: undefined, size: undefined },
        { bucket: 'mybucket', key: 'd.json.gz', etag: undefined, size: undefined },
      ],
      ignoredEvents: 2,
    });
    const deleted = JSON.parse(fixture('eventbridge-object-created.json'));
    deleted['detail-type'] = 'Object Deleted';
    expect(parseNotification(JSON.stringify(deleted))).toEqual({
      kind: 'objects',
      objects: [],
      ignoredEvents: 1,
    });
  });

  it('keeps ETag and size only when they are usable', () => {
    const result = parseNotification(s3Event([{ key: 'k', eTag: '"abc-2"', size: -1 }]));
    expect(result.kind === 'objects' && result.objects[0]).toMatchObject({
      etag: 'abc-2',
      size: undefined,
    });
    expect(unquoteEtag('"x"')).toBe('x');
    expect(unquoteEtag('x')).toBe('x');
    expect(unquoteEtag('"')).toBe('"');
  });

  const poison: [string, string, RegExp][] = [
    ['not JSON', 'Hello world!', /not JSON/],
    ['empty body', '', /not JSON/],
    ['a JSON array', '[1,2]', /not a JSON object/],
    ['JSON null', 'null', /not a JSON object/],
    ['an unknown object', '{"hello":"world"}', /not an S3, EventBridge or CloudTrail/],
    [
      'an SNS Message that is not a string',
      '{"Type":"Notification","Message":{"Records":[]}}',
      /not a string/,
    ],
    [
      'an SNS Message that is a JSON array',
      '{"Type":"Notification","Message":"[]"}',
      /not a JSON object/,
    ],
    [
      'an SNS envelope inside an SNS envelope',
      snsWrap(snsWrap(fixture('s3-put.json'))),
      /SNS Message: not an S3/,
    ],
    ['an S3 event with no Records', '{"Records":[]}', /no Records/],
    [
      'CloudTrail records instead of a notification',
      '{"Records":[{"eventName":"GetObject"}]}',
      /not an S3 event/,
    ],
    [
      'an S3 event without a bucket name',
      '{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{},"object":{"key":"k"}}}]}',
      /without s3.bucket.name/,
    ],
    [
      'a CloudTrail notification with a non-string key',
      '{"s3Bucket":"b","s3ObjectKey":["a",1]}',
      /bad s3ObjectKey/,
    ],
    [
      'a CloudTrail notification with no keys',
      '{"s3Bucket":"b","s3ObjectKey":[]}',
      /bad s3ObjectKey/,
    ],
    [
      'an EventBridge event from another source',
      '{"detail-type":"Object Created","source":"aws.ec2","detail":{}}',
      /aws.ec2, not aws.s3/,
    ],
    [
      'an EventBridge Object Created without a key',
      '{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{}}}',
      /without detail.bucket.name or detail.object.key/,
    ],
  ];
  it.each(poison)('invalid: %s', (_what, body, reason) => {
    const result = parseNotification(body);
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.reason).toMatch(reason);
  });
});

describe('classifyKey', () => {
  const cases: [string, string][] = [
    [LOG_KEY, 'log'],
    ['AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/x.json', 'log'],
    ['my-trail/AWSLogs/123456789012/CloudTrail/cn-north-1/2016/08/11/x.json.gz', 'log'],
    ['AWSLogs/o-aa111bb222/123456789012/CloudTrail/us-gov-west-1/2024/02/29/x.json.gz', 'log'],
    [
      'AWSLogs/123456789012/CloudTrail-Digest/us-east-2/2016/08/11/123456789012_CloudTrail-Digest_us-east-2_t_20160811T221500Z.json.gz',
      'digest',
    ],
    ['AWSLogs/123456789012/CloudTrail-Insight/us-east-2/2016/08/11/x.json.gz', 'not a log file'],
    ['AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/x.json.gz.tmp', 'not a log file'],
    ['AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/x.json.gz', 'not a log file'],
    ['AWSLogs/1234/CloudTrail/us-east-2/2016/08/11/x.json.gz', 'not a log file'],
    ['AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/sub/x.json.gz', 'not a log file'],
    ['AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/', 'not a log file'],
    ['HappyFace.jpg', 'not a log file'],
    ['x.json.gz', 'not a log file'],
  ];
  it.each(cases)('%s → %s', (key, kind) => {
    expect(classifyKey(key)).toBe(kind);
  });
});

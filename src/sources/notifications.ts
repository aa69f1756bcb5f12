// SQS message bodies → the S3 objects they announce. Pure: a string in, data out. Every way a
// CloudTrail delivery reaches a queue is understood here (fixtures: shared/fixtures/notifications):
// an S3 event notification, the same wrapped in an SNS envelope, an EventBridge "Object Created"
// event, CloudTrail's own SNS delivery notification, and the s3:TestEvent S3 sends on setup.

export interface NotifiedObject {
  bucket: string;
  /** decoded: the object's real key */
  key: string;
  /** without quotes; absent from CloudTrail's own notification */
  etag: string | undefined;
  size: number | undefined;
}

export type NotificationResult =
  /** `ignoredEvents`: S3 / EventBridge events that do not create an object (removals, restores…) */
  | { kind: 'objects'; objects: NotifiedObject[]; ignoredEvents: number }
  /** s3:TestEvent: acknowledge and drop */
  | { kind: 'test' }
  /** poison: nothing in it can ever be processed */
  | { kind: 'invalid'; reason: string };

export function parseNotification(body: string): NotificationResult {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return invalid('body is not JSON');
  }
  if (!isObject(doc)) return invalid('body is not a JSON object');
  if (doc.Type === 'Notification' && 'Message' in doc) {
    // SNS without raw delivery: the publisher's message is a JSON string inside the envelope.
    if (typeof doc.Message !== 'string')
      return invalid('SNS envelope whose Message is not a string');
    let inner: unknown;
    try {
      inner = JSON.parse(doc.Message);
    } catch {
      return invalid('SNS envelope whose Message is not JSON');
    }
    if (!isObject(inner)) return invalid('SNS envelope whose Message is not a JSON object');
    return parseInner(inner, 'SNS Message: ');
  }
  return parseInner(doc, '');
}

function parseInner(doc: Record<string, unknown>, where: string): NotificationResult {
  if (doc.Event === 's3:TestEvent') return { kind: 'test' };
  if (Array.isArray(doc.Records)) return s3Event(doc.Records, where);
  if (typeof doc.s3Bucket === 'string' && Array.isArray(doc.s3ObjectKey)) {
    return cloudTrailDelivery(doc.s3Bucket, doc.s3ObjectKey, where);
  }
  if (typeof doc['detail-type'] === 'string' && isObject(doc.detail)) {
    return eventBridge(doc, doc.detail, where);
  }
  return invalid(`${where}not an S3, EventBridge or CloudTrail notification`);
}

/** S3 event notification: keys are form-URL-encoded (`+` is a space, then %XX escapes). */
function s3Event(records: unknown[], where: string): NotificationResult {
  if (records.length === 0) return invalid(`${where}S3 event with no Records`);
  const objects: NotifiedObject[] = [];
  let ignoredEvents = 0;
  for (const r of records) {
    if (!isObject(r) || typeof r.eventName !== 'string' || !isObject(r.s3)) {
      return invalid(`${where}a Records entry is not an S3 event`);
    }
    const bucket = isObject(r.s3.bucket) ? r.s3.bucket.name : undefined;
    const object = isObject(r.s3.object) ? r.s3.object : undefined;
    if (typeof bucket !== 'string' || bucket === '' || typeof object?.key !== 'string') {
      return invalid(`${where}an S3 event without s3.bucket.name or s3.object.key`);
    }
    if (!r.eventName.startsWith('ObjectCreated:')) {
      ignoredEvents++;
      continue;
    }
    let key: string;
    try {
      key = decodeURIComponent(object.key.replace(/\+/g, ' '));
    } catch {
      return invalid(`${where}an S3 event whose object key is not URL-encoded: ${object.key}`);
    }
    objects.push(notified(bucket, key, object.eTag, object.size));
  }
  return { kind: 'objects', objects, ignoredEvents };
}

/** CloudTrail's SNS notification on log delivery: one bucket, raw (not encoded) keys. */
function cloudTrailDelivery(bucket: string, keys: unknown[], where: string): NotificationResult {
  if (bucket === '' || keys.length === 0 || !keys.every((k) => typeof k === 'string' && k !== '')) {
    return invalid(
      `${where}CloudTrail notification without a bucket or with a bad s3ObjectKey list`,
    );
  }
  const objects = (keys as string[]).map((key) => notified(bucket, key, undefined, undefined));
  return { kind: 'objects', objects, ignoredEvents: 0 };
}

/** EventBridge S3 event: keys are not encoded. */
function eventBridge(
  doc: Record<string, unknown>,
  detail: Record<string, unknown>,
  where: string,
): NotificationResult {
  if (doc.source !== 'aws.s3') {
    return invalid(`${where}EventBridge event from ${String(doc.source)}, not aws.s3`);
  }
  if (doc['detail-type'] !== 'Object Created')
    return { kind: 'objects', objects: [], ignoredEvents: 1 };
  const bucket = isObject(detail.bucket) ? detail.bucket.name : undefined;
  const object = isObject(detail.object) ? detail.object : undefined;
  if (typeof bucket !== 'string' || bucket === '' || typeof object?.key !== 'string') {
    return invalid(
      `${where}EventBridge Object Created without detail.bucket.name or detail.object.key`,
    );
  }
  return {
    kind: 'objects',
    objects: [notified(bucket, object.key, object.etag, object.size)],
    ignoredEvents: 0,
  };
}

function notified(bucket: string, key: string, etag: unknown, size: unknown): NotifiedObject {
  return {
    bucket,
    key,
    etag: typeof etag === 'string' && etag !== '' ? unquoteEtag(etag) : undefined,
    size: typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? size : undefined,
  };
}

/** S3 quotes ETags in HTTP headers and listings but not in event notifications: one form for tags. */
export function unquoteEtag(etag: string): string {
  return etag.length >= 2 && etag.startsWith('"') && etag.endsWith('"') ? etag.slice(1, -1) : etag;
}

export type KeyKind = 'log' | 'digest' | 'not a log file';

// <prefix/>AWSLogs/[o-<org id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json[.gz]
const LOG_KEY =
  /(?:^|\/)AWSLogs\/(?:o-[a-z0-9]{10,32}\/)?\d{12}\/CloudTrail\/[^/]+\/\d{4}\/\d{2}\/\d{2}\/[^/]+\.json(?:\.gz)?$/;
// Digests live under …/CloudTrail-Digest/ and are named <account>_CloudTrail-Digest_….
const DIGEST_KEY = /CloudTrail-Digest/;

/**
 * Whether a notified key is a CloudTrail log file. Digests and any other object in the bucket
 * (Insights files, CloudTrail Lake exports, unrelated uploads) are skipped and counted.
 */
export function classifyKey(key: string): KeyKind {
  if (DIGEST_KEY.test(key)) return 'digest';
  return LOG_KEY.test(key) ? 'log' : 'not a log file';
}

function invalid(reason: string): NotificationResult {
  return { kind: 'invalid', reason };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

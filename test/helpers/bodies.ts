// SQS message bodies as each delivery route sends them (shapes from shared/fixtures/notifications),
// and a polling wait, shared by the consumer and service tests.

export const s3Encode = (key: string) =>
  encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
export const s3Event = (
  bucket: string,
  key: string,
  eventName = 'ObjectCreated:Put',
  etag?: string,
  size?: number,
) =>
  JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: '2024-05-17T00:00:00.000Z',
        eventName,
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: bucket },
          object: { key: s3Encode(key), eTag: etag, size },
        },
      },
    ],
  });
export const sns = (message: string) =>
  JSON.stringify({
    Type: 'Notification',
    MessageId: crypto.randomUUID(),
    TopicArn: 'arn:aws:sns:us-east-1:1:t',
    Message: message,
  });
export const eventBridge = (bucket: string, key: string) =>
  JSON.stringify({
    version: '0',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    detail: { bucket: { name: bucket }, object: { key } },
  });
export const cloudTrail = (bucket: string, keys: string[]) =>
  JSON.stringify({ s3Bucket: bucket, s3ObjectKey: keys });
export const TEST_EVENT = JSON.stringify({
  Service: 'Amazon S3',
  Event: 's3:TestEvent',
  Bucket: 'b',
});

export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

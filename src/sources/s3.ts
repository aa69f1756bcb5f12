// S3 objects as ingest sources: GetObject into one exactly-sized buffer, with a size cap.
import { GetObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { ObjectReadError, UsageError } from '../errors.ts';
import type { SourceObject } from './local.ts';
import { unquoteEtag } from './notifications.ts';

export interface S3ClientOptions {
  /** emulators and tests; otherwise the SDK resolves it (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS) */
  endpoint?: string;
  /** otherwise the SDK's region chain (AWS_REGION, profile, IMDS) */
  region?: string;
  /** bucket in the path instead of the host name (emulators, MinIO) */
  forcePathStyle?: boolean;
  /** otherwise the SDK's default chain (env, profile, IRSA web identity, IMDS) */
  credentials?: S3ClientConfig['credentials'];
  /** attempts per request (SDK standard retry mode: throttling, 5xx, timeouts); default 3 */
  maxAttempts?: number;
  /** longest wait for a connection; default 5000 */
  connectionTimeoutMs?: number;
  /**
   * Longest silence on a connection (no response header, no body byte) before the request fails
   * with a TimeoutError the SDK retries (headers) or the read reports (body); default 30000. The
   * SDK sets no timeout of its own: a stalled GetObject would hold its in-flight slot, and its
   * message through the heartbeat, for ever.
   */
  socketTimeoutMs?: number;
}

/** An S3 client that leaves everything not given to the SDK's own configuration. */
export function createS3Client(opts: S3ClientOptions = {}): S3Client {
  const config: S3ClientConfig = {
    retryMode: 'standard',
    maxAttempts: opts.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: opts.connectionTimeoutMs ?? 5_000,
      socketTimeout: opts.socketTimeoutMs ?? 30_000,
    },
  };
  // Only set what was given: an explicit `undefined` would still shadow the SDK's env lookup.
  if (opts.endpoint !== undefined) config.endpoint = opts.endpoint;
  if (opts.region !== undefined) config.region = opts.region;
  if (opts.forcePathStyle !== undefined) config.forcePathStyle = opts.forcePathStyle;
  if (opts.credentials !== undefined) config.credentials = opts.credentials;
  return new S3Client(config);
}

export { ObjectReadError, readErrorOf } from '../errors.ts';

export interface FetchedObject {
  /** owns its whole ArrayBuffer, so it can be moved to a worker */
  bytes: Uint8Array;
  /** ETag of what was read, unquoted */
  etag: string;
}

export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

export class S3Source {
  readonly client: S3Client;
  readonly maxObjectBytes: number;

  constructor(client: S3Client, opts: { maxObjectBytes: number }) {
    if (!Number.isSafeInteger(opts.maxObjectBytes) || opts.maxObjectBytes < 1) {
      throw new UsageError(
        'BAD_CONFIG',
        `maxObjectBytes must be a positive whole number, got ${opts.maxObjectBytes}`,
      );
    }
    this.client = client;
    this.maxObjectBytes = opts.maxObjectBytes;
  }

  /** A listed or notified object; `etag` is its version tag (the store's ObjectRef.tag). */
  object(bucket: string, key: string, etag: string, size?: number): SourceObject {
    const name = s3Url(bucket, key);
    return {
      ref: { key: name, tag: etag },
      name,
      size: size ?? 0,
      read: async () => (await this.fetch(bucket, key, size)).bytes,
    };
  }

  /**
   * GetObject into one buffer. `knownSize` (from a listing or notification) refuses an oversized
   * object before any request; Content-Length refuses it before reading the body.
   */
  async fetch(bucket: string, key: string, knownSize?: number): Promise<FetchedObject> {
    if (knownSize !== undefined && knownSize > this.maxObjectBytes) throw this.tooLarge(knownSize);
    const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = out.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    if (body === undefined) throw new ObjectReadError('READ_FAILED', 'GetObject returned no body');
    const length = out.ContentLength;
    if (length !== undefined && length > this.maxObjectBytes) {
      body.destroy?.(); // do not download what will be refused
      throw this.tooLarge(length);
    }
    const bytes =
      length !== undefined ? await readExact(body, length) : await this.readCapped(body);
    return { bytes, etag: out.ETag ? unquoteEtag(out.ETag) : '' };
  }

  /** No Content-Length (not seen from S3, possible from look-alikes): count as it comes. */
  private async readCapped(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of body) {
      total += chunk.length;
      if (total > this.maxObjectBytes) throw this.tooLarge(total); // leaving the loop destroys the stream
      chunks.push(chunk);
    }
    const bytes = Buffer.allocUnsafeSlow(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  }

  private tooLarge(bytes: number): ObjectReadError {
    return new ObjectReadError(
      'TOO_LARGE',
      `${bytes} bytes, cap maxObjectBytes=${this.maxObjectBytes}`,
    );
  }
}

/**
 * Copies the body straight into one buffer of the announced length: no chunk list, one copy.
 * allocUnsafeSlow: unpooled (it owns its ArrayBuffer, so it can be moved) and not zero-filled.
 */
async function readExact(body: AsyncIterable<Uint8Array>, length: number): Promise<Uint8Array> {
  const bytes = Buffer.allocUnsafeSlow(length);
  let offset = 0;
  for await (const chunk of body) {
    if (offset + chunk.length > length) {
      throw new ObjectReadError('READ_FAILED', `body longer than its Content-Length ${length}`);
    }
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  if (offset !== length) {
    throw new ObjectReadError('READ_FAILED', `body truncated: ${offset} of ${length} bytes`);
  }
  return bytes;
}

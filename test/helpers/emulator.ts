// fauxqs (an SQS + S3 emulator speaking the real wire protocols) in-process on a random loopback
// port, with real AWS SDK clients pointed at it. Queues and buckets are created through the SDK.
import type { S3Client } from '@aws-sdk/client-s3';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';
import { createS3Client } from '../../src/sources/s3.ts';
import { createSqsClient } from '../../src/sources/sqs.ts';

export interface EmulatorOptions {
  bucket?: string;
  queue?: string;
  /** the queue's own default visibility */
  visibilityTimeoutSecs?: number;
  /** creates `<queue>-dlq` and a redrive policy moving a message there after this many receives */
  maxReceiveCount?: number;
  /**
   * Runs first on every request (fault injection: answer 503 SlowDown, hang, cut a body). Send a
   * reply (or hijack it) to stand in for the emulator; return without one to let it answer.
   */
  onRequest?: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

export interface EmulatorRequest {
  method: string;
  url: string;
  /** SQS action (DeleteMessageBatch, …); undefined for S3 */
  action: string | undefined;
  /** entries of an SQS batch request */
  entries: number | undefined;
  /** performance.now() when handled: comparable with the test's own clock */
  at: number;
}

export interface Emulator {
  endpoint: string;
  s3: S3Client;
  sqs: SQSClient;
  bucket: string;
  queueUrl: string;
  dlqUrl: string | undefined;
  /** every request the emulator handled, in order, for asserting what was asked and when */
  requests: EmulatorRequest[];
  /** visible + in flight + delayed messages of a queue */
  queueDepth(queueUrl?: string): Promise<{ visible: number; inFlight: number; delayed: number }>;
  stop(): Promise<void>;
}

export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const app = buildApp({ logger: false });
  const requests: Emulator['requests'] = [];
  if (opts.onRequest) app.addHook('onRequest', opts.onRequest);
  app.addHook('preHandler', async (req) => {
    const target = req.headers['x-amz-target'];
    const entries = (req.body as { Entries?: unknown } | undefined)?.Entries;
    requests.push({
      method: req.method,
      url: req.url,
      action: typeof target === 'string' ? target.replace(/^AmazonSQS\./, '') : undefined,
      entries: Array.isArray(entries) ? entries.length : undefined,
      at: performance.now(),
    });
  });
  // Loopback only: the emulator accepts any credentials.
  const endpoint = await app.listen({ port: 0, host: '127.0.0.1' });
  const s3 = createS3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
  });
  // Queue URLs come back as http://sqs.us-east-1.localhost:<port>/…, which need not resolve here:
  // the client sends every request to the endpoint instead.
  const sqs = createSqsClient({ endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
  const bucket = opts.bucket ?? 'trail-bucket';
  const queue = opts.queue ?? 'trail-queue';
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));

  const attributes: Record<string, string> = {};
  if (opts.visibilityTimeoutSecs !== undefined)
    attributes.VisibilityTimeout = String(opts.visibilityTimeoutSecs);
  let dlqUrl: string | undefined;
  if (opts.maxReceiveCount !== undefined) {
    dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${queue}-dlq` }))).QueueUrl!;
    const dlq = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
    );
    attributes.RedrivePolicy = JSON.stringify({
      deadLetterTargetArn: dlq.Attributes!.QueueArn,
      maxReceiveCount: String(opts.maxReceiveCount),
    });
  }
  const queueUrl = (
    await sqs.send(new CreateQueueCommand({ QueueName: queue, Attributes: attributes }))
  ).QueueUrl!;

  return {
    endpoint,
    s3,
    sqs,
    bucket,
    queueUrl,
    dlqUrl,
    requests,
    async queueDepth(url = queueUrl) {
      const out = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      const n = (name: QueueAttributeName) => Number(out.Attributes?.[name] ?? NaN);
      return {
        visible: n('ApproximateNumberOfMessages'),
        inFlight: n('ApproximateNumberOfMessagesNotVisible'),
        delayed: n('ApproximateNumberOfMessagesDelayed'),
      };
    },
    async stop() {
      s3.destroy();
      sqs.destroy();
      await app.close();
    },
  };
}

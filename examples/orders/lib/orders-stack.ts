/**
 * Two task queues in one stack, as an app with two kinds of work would have them: orders on
 * tierq's default tiers, e-mails on one bulk tier. Each has its own worker, table and DLQ.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { TaskQueue } from 'tierq/cdk';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

export class OrdersStack extends Stack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new TaskQueue(this, 'Orders', {
      consumerEntry: join(src, 'orders-worker.ts'),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    new TaskQueue(this, 'Emails', {
      consumerEntry: join(src, 'emails-worker.ts'),
      tiers: [{ name: 'bulk', weight: 1, batchSize: 10, maxBatchingWindow: Duration.seconds(1) }],
      consumerTimeout: Duration.seconds(10),
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { ASSET_RESOURCE_METADATA_ENABLED_CONTEXT } from 'aws-cdk-lib/cx-api';
import type { Construct } from 'constructs';
import { TaskQueue } from '../../../infra/constructs/task-queue.js';

/** The outage app's one tier: its pollers times its batch size bound the calls in flight. */
export const OUTAGE_TIER = { name: 'normal', batchSize: 10, maxConcurrency: 5 } as const;

/** An application stack with one tier, whose consumer calls a downstream (./consumer.ts). */
class OutageStack extends Stack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new TaskQueue(this, 'TaskQueue', {
      consumerEntry: join(dirname(fileURLToPath(import.meta.url)), 'consumer.ts'),
      consumerTimeout: Duration.seconds(15),
      tiers: [{ name: OUTAGE_TIER.name, weight: 1, batchSize: OUTAGE_TIER.batchSize }],
      consumerConcurrency: OUTAGE_TIER.maxConcurrency,
    });
  }
}

/**
 * Synthesizes the outage app into `outdir` (esbuild bundles the consumer) and returns the cloud
 * assembly directory, for `startLocalStack({ assemblyDir })`.
 */
export function synthesizeOutageApp(outdir: string): string {
  const app = new App({ outdir, context: { [ASSET_RESOURCE_METADATA_ENABLED_CONTEXT]: true } });
  new OutageStack(app, 'TierqOutage');
  return app.synth().directory;
}

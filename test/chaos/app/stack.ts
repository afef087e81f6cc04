import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import { ASSET_RESOURCE_METADATA_ENABLED_CONTEXT } from 'aws-cdk-lib/cx-api';
import type { Construct } from 'constructs';
import { TaskQueue } from '../../../infra/constructs/task-queue.js';
import { pascalCase } from '../../../infra/constructs/tiers.js';
import { StackOutput as OUTPUTS } from '../../../shared/declaration.js';

/** The chaos app's consumer timeout: also how long a lock outlives a run that never completed. */
export const CHAOS_CONSUMER_TIMEOUT_SECONDS = 15;

/**
 * A small application stack, as a user would write one: the `TaskQueue` construct with its own
 * consumer (`consumerEntry`) and the outputs the local runner reads.
 */
export class ChaosStack extends Stack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const queue = new TaskQueue(this, 'TaskQueue', {
      consumerEntry: join(dirname(fileURLToPath(import.meta.url)), 'consumer.ts'),
      consumerTimeout: Duration.seconds(CHAOS_CONSUMER_TIMEOUT_SECONDS),
    });
    new CfnOutput(this, OUTPUTS.tiers, { value: queue.tiers.map((t) => t.name).join(',') });
    for (const tier of queue.tiers) {
      new CfnOutput(this, `${OUTPUTS.queueUrlPrefix}${pascalCase(tier.name)}`, {
        value: queue.queue(tier.name).queueUrl,
      });
    }
    new CfnOutput(this, OUTPUTS.deadLetterQueueUrl, { value: queue.deadLetterQueue.queueUrl });
    new CfnOutput(this, OUTPUTS.tableName, { value: queue.table.tableName });
    // The chaos run enqueues as the principal holding the producer policy, and looks as the operator.
    new CfnOutput(this, OUTPUTS.producerPolicyArn, { value: queue.producerPolicy.managedPolicyArn });
    new CfnOutput(this, OUTPUTS.operatorPolicyArn, { value: queue.operatorPolicy.managedPolicyArn });
  }
}

/**
 * Synthesizes the chaos app into `outdir` in this process (esbuild bundles the consumer) and
 * returns the cloud assembly directory, for `startLocalStack({ assemblyDir })`.
 *
 * @example
 * const assemblyDir = synthesizeChaosApp('.tierq/chaos.out');
 */
export function synthesizeChaosApp(outdir: string): string {
  // The CDK CLI turns asset metadata on; the local runner finds the bundle through it.
  const app = new App({ outdir, context: { [ASSET_RESOURCE_METADATA_ENABLED_CONTEXT]: true } });
  new ChaosStack(app, 'TierqChaos');
  return app.synth().directory;
}

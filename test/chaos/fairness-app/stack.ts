import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import { ASSET_RESOURCE_METADATA_ENABLED_CONTEXT } from 'aws-cdk-lib/cx-api';
import type { Construct } from 'constructs';
import { TaskQueue } from '../../../infra/constructs/task-queue.js';
import { pascalCase } from '../../../infra/constructs/tiers.js';
import { StackOutput as OUTPUTS } from '../../../shared/declaration.js';

/** Room for 11 cold sandboxes on two busy cores; the crash task's own `timeoutMs` bounds its lease. */
export const FAIR_CONSUMER_TIMEOUT_SECONDS = 15;

/** The `TaskQueue` construct with the fairness consumer, and the outputs the local runner reads. */
class FairnessStack extends Stack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const queue = new TaskQueue(this, 'TaskQueue', {
      consumerEntry: join(dirname(fileURLToPath(import.meta.url)), 'consumer.ts'),
      consumerTimeout: Duration.seconds(FAIR_CONSUMER_TIMEOUT_SECONDS),
    });
    new CfnOutput(this, OUTPUTS.tiers, { value: queue.tiers.map((t) => t.name).join(',') });
    for (const tier of queue.tiers) {
      new CfnOutput(this, `${OUTPUTS.queueUrlPrefix}${pascalCase(tier.name)}`, {
        value: queue.queue(tier.name).queueUrl,
      });
    }
    new CfnOutput(this, OUTPUTS.deadLetterQueueUrl, { value: queue.deadLetterQueue.queueUrl });
    new CfnOutput(this, OUTPUTS.tableName, { value: queue.table.tableName });
    new CfnOutput(this, OUTPUTS.producerPolicyArn, { value: queue.producerPolicy.managedPolicyArn });
    new CfnOutput(this, OUTPUTS.operatorPolicyArn, { value: queue.operatorPolicy.managedPolicyArn });
  }
}

/**
 * Synthesizes the fairness app into `outdir` (esbuild bundles the consumer) and returns the cloud
 * assembly directory, for `startLocalStack({ assemblyDir })`.
 *
 * @example
 * const assemblyDir = synthesizeFairnessApp('.tierq/fairness.out');
 */
export function synthesizeFairnessApp(outdir: string): string {
  const app = new App({ outdir, context: { [ASSET_RESOURCE_METADATA_ENABLED_CONTEXT]: true } });
  new FairnessStack(app, 'TierqFairness');
  return app.synth().directory;
}

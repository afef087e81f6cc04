/**
 * The fairness benchmark's app: the `TaskQueue` construct with the benchmark's consumer, and
 * the outputs the local runner reads.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import { ASSET_RESOURCE_METADATA_ENABLED_CONTEXT } from 'aws-cdk-lib/cx-api';
import { TaskQueue } from '../../infra/constructs/task-queue.js';
import { pascalCase } from '../../infra/constructs/tiers.js';
import { StackOutput as OUTPUTS } from '../../shared/declaration.js';

/**
 * Synthesizes the app into `outdir` (esbuild bundles the consumer); returns the assembly directory.
 *
 * @example
 * const assemblyDir = synthesizeFairnessBench('.tierq/fairness-bench.out');
 */
export function synthesizeFairnessBench(outdir: string): string {
  const app = new App({ outdir, context: { [ASSET_RESOURCE_METADATA_ENABLED_CONTEXT]: true } });
  const stack = new Stack(app, 'TierqFairnessBench');
  const queue = new TaskQueue(stack, 'TaskQueue', {
    consumerEntry: join(dirname(fileURLToPath(import.meta.url)), 'consumer.ts'),
  });
  new CfnOutput(stack, OUTPUTS.tiers, { value: queue.tiers.map((t) => t.name).join(',') });
  for (const tier of queue.tiers) {
    new CfnOutput(stack, `${OUTPUTS.queueUrlPrefix}${pascalCase(tier.name)}`, {
      value: queue.queue(tier.name).queueUrl,
    });
  }
  new CfnOutput(stack, OUTPUTS.deadLetterQueueUrl, { value: queue.deadLetterQueue.queueUrl });
  new CfnOutput(stack, OUTPUTS.tableName, { value: queue.table.tableName });
  new CfnOutput(stack, OUTPUTS.producerPolicyArn, { value: queue.producerPolicy.managedPolicyArn });
  new CfnOutput(stack, OUTPUTS.operatorPolicyArn, { value: queue.operatorPolicy.managedPolicyArn });
  return app.synth().directory;
}

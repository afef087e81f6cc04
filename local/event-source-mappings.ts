import { createHash } from 'node:crypto';
import type { StackAssembly } from './assembly.js';
import type { SqsEventSourceMapping } from './event-source-runner.js';
import type { LocalResource, Resolve } from './intrinsics.js';
import type { LocalFunction } from './lambda-runtime.js';

/** Pollers per mapping when the template sets no `MaximumConcurrency` (AWS would allow 1,000). */
export const DEFAULT_LOCAL_CONCURRENCY = 5;

/** Mappings the runner cannot run, with the reason, to be listed at start. */
export interface SkippedMapping {
  readonly logicalId: string;
  readonly reason: string;
}

/**
 * Registers every `AWS::Lambda::EventSourceMapping` of the template as a local resource, so
 * `Ref` (its id, a UUID stable across starts) and its ARN resolve — in the operator policy, which
 * grants pausing them, and in the outputs that name them. Call it before reading IAM.
 *
 * @example
 * registerEventSourceMappings(stack, local.resources, local.pseudo);
 */
export function registerEventSourceMappings(
  stack: StackAssembly,
  resources: Map<string, LocalResource>,
  where: { readonly region: string; readonly accountId: string },
): void {
  for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    const hex = createHash('sha256').update(`${stack.stackName}/${logicalId}`).digest('hex');
    const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    const arn = `arn:aws:lambda:${where.region}:${where.accountId}:event-source-mapping:${uuid}`;
    resources.set(logicalId, {
      logicalId,
      type: resource.Type,
      ref: uuid,
      attributes: { Id: uuid, EventSourceMappingArn: arn },
    });
  }
}

/**
 * Reads every `AWS::Lambda::EventSourceMapping` of the template whose source is a local SQS
 * queue and whose function is loaded.
 *
 * @example
 * const { mappings, skipped } = readEventSourceMappings(stack, local.resolve, local.resources, functions);
 */
export function readEventSourceMappings(
  stack: StackAssembly,
  resolve: Resolve,
  resources: ReadonlyMap<string, LocalResource>,
  functions: ReadonlyMap<string, LocalFunction>,
): { mappings: SqsEventSourceMapping[]; skipped: SkippedMapping[] } {
  const mappings: SqsEventSourceMapping[] = [];
  const skipped: SkippedMapping[] = [];
  const queues = [...resources.values()].filter((r) => r.type === 'AWS::SQS::Queue');
  for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    const props = resource.Properties ?? {};
    if (props.Enabled === false || props.Enabled === 'false') {
      skipped.push({ logicalId, reason: 'disabled in the template' });
      continue;
    }
    const sourceArn = String(resolve(props.EventSourceArn, `${logicalId} EventSourceArn`));
    const queue = queues.find((q) => q.attributes.Arn === sourceArn);
    if (queue === undefined) {
      skipped.push({ logicalId, reason: `its source ${sourceArn} is not a local SQS queue` });
      continue;
    }
    const functionName = String(resolve(props.FunctionName, `${logicalId} FunctionName`));
    const fn = [...functions.values()].find(
      (f) => f.definition.name === functionName || f.definition.arn === functionName,
    );
    if (fn === undefined) {
      skipped.push({ logicalId, reason: `its function ${functionName} is not loaded` });
      continue;
    }
    if (props.FilterCriteria !== undefined) {
      // Running it unfiltered would invoke the function with records AWS would never send it.
      skipped.push({ logicalId, reason: 'FilterCriteria are not supported locally' });
      continue;
    }
    const scaling = props.ScalingConfig as { MaximumConcurrency?: unknown } | undefined;
    const responseTypes = (props.FunctionResponseTypes as unknown[] | undefined) ?? [];
    const registered = resources.get(logicalId);
    mappings.push({
      logicalId,
      uuid: registered?.ref ?? logicalId,
      arn: registered?.attributes.EventSourceMappingArn ?? logicalId,
      queueUrl: queue.ref,
      queueArn: sourceArn,
      batchSize: Number(props.BatchSize ?? 10),
      maxBatchingWindowSeconds: Number(props.MaximumBatchingWindowInSeconds ?? 0),
      maximumConcurrency: Number(scaling?.MaximumConcurrency ?? DEFAULT_LOCAL_CONCURRENCY),
      reportBatchItemFailures: responseTypes.includes('ReportBatchItemFailures'),
      fn,
    });
  }
  return { mappings, skipped };
}

import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { LOCAL_CONNECTION_FILE } from '../shared/connection.js';
import { type AlarmState, readQueueDepthAlarms, startAlarmEvaluation } from './alarms.js';
import { readAssembly, synthesize } from './assembly.js';
import { type AwsGateway, startAwsGateway } from './aws-gateway.js';
import { startDemo } from './demo.js';
import { type Emulators, startEmulators } from './emulators.js';
import { readEventSourceMappings, registerEventSourceMappings } from './event-source-mappings.js';
import { type MappingStats, startEventSources } from './event-source-runner.js';
import { functionResource, readFunctionDefinition } from './function-definition.js';
import { loadIamEvaluator } from './iam/evaluator.js';
import {
  functionPrincipal,
  localResourceArns,
  outputPrincipals,
  policyHolderKeys,
  registerManagedPolicies,
} from './iam/local-rules.js';
import { readLocalIam } from './iam/principals.js';
import { type LocalFunction, loadFunction } from './lambda-runtime.js';
import { PROVISIONED_TYPES, provision } from './provision.js';
import type { RunnerFaults } from './runner-faults.js';
import { describeNode } from './sandbox/node-binary.js';
import { type LocalStackInfo, resolveOutputs, stackInfo, writeJsonAtomically } from './stack-info.js';

export type { LocalStackInfo } from './stack-info.js';

/** Options for {@link startLocalStack}. */
export interface LocalStackOptions {
  /** Send a demo workload to every tier. Default false. */
  readonly demo?: boolean;
  /** Use this existing cloud assembly (e.g. `cdk.out`) instead of synthesizing. */
  readonly assemblyDir?: string;
  /** Where to synthesize. Default `.tierq/cdk.out`, beside (not in) the `cdk.out` of `cdk deploy`. */
  readonly outputDir?: string;
  /** CDK context for synth, e.g. `{ stage: 'prod' }`. */
  readonly context?: Readonly<Record<string, string>>;
  /** Needed only when the assembly holds several stacks and `queue` does not pick one. */
  readonly stackName?: string;
  /**
   * The task queue (construct path or id) to run and to write first in the connection file; it
   * also picks the stack when the assembly holds several.
   */
  readonly queue?: string;
  /** Run against emulators that are already up (tests, LocalStack); they are left running. */
  readonly emulators?: Pick<Emulators, 'region' | 'endpoints'>;
  /** Physical names are `<namePrefix>-<LogicalId>`. Default: the stack name. */
  readonly namePrefix?: string;
  /** Where to write the connection file, or false for none. Default `.tierq/local.json`. */
  readonly stateFile?: string | false;
  /** Test-only, see {@link EventSourceRunnerOptions.visibilityTimeoutOverride}. */
  readonly visibilityTimeoutOverride?: number;
  /** Test-only fault injection into the event source runner, see {@link RunnerFaults}. */
  readonly runnerFaults?: RunnerFaults;
  /**
   * Variables merged over each function's resolved template environment, e.g. in tests
   * `{ TIERQ_MAX_HOP_SECONDS: '1' }`. They are set before the bundle is loaded, so configuration
   * read at module load sees them. Like the template's, they are shared by every function.
   */
  readonly functionEnvironment?: Readonly<Record<string, string>>;
  /** Default Powertools log level of the functions. Default `WARN`. */
  readonly logLevel?: string;
  /**
   * Evaluate every request against the template's IAM policies and deny what AWS would deny.
   * Default true; needs `@cloud-copilot/iam-simulate` (AGPL-3.0) installed.
   */
  readonly iam?: boolean;
  /** One line per start-up step, and later per notable event (failed invocation, alarm). */
  readonly onProgress?: (line: string) => void;
}

/** A running local stack. */
export interface LocalStack extends LocalStackInfo {
  readonly stackName: string;
  readonly tiers: readonly string[];
  /** Outputs the runner could compute (those naming SNS, IAM, … resources are left out). */
  readonly outputs: Readonly<Record<string, string>>;
  /** Resource types and alarms in the template that do not run locally. */
  readonly notRun: readonly string[];
  /** What the AWS-rules gateway has seen: requests, IAM denials, refused visibility changes. */
  gatewayStats(): ReturnType<AwsGateway['stats']>;
  stats(): readonly MappingStats[];
  alarmStates(): Readonly<Record<string, AlarmState>>;
  /**
   * Age in seconds of each tier's oldest message (null when empty), read from the emulator
   * this stack started; null for every tier when it runs on emulators started elsewhere.
   */
  oldestMessageAges(): Readonly<Record<string, number | null>>;
  /** Stops polling, lets running invocations finish (bounded by their timeout), stops everything. */
  stop(): Promise<void>;
}

/** Types that are modelled by something else locally, so they are not listed as "not run". */
const EMULATED_TYPES = new Set<string>([
  ...PROVISIONED_TYPES,
  'AWS::Lambda::Function',
  'AWS::Lambda::EventSourceMapping',
  'AWS::CDK::Metadata',
]);

/**
 * Runs the synthesized stack on this machine: emulators, the template's queues and table, its
 * functions loaded from their bundles, its event source mappings polled like Lambda does, and
 * its queue-depth alarms evaluated.
 *
 * @example
 * const stack = await startLocalStack({ demo: true, onProgress: console.log });
 * process.once('SIGINT', () => void stack.stop());
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const started = Date.now();
  const progress = options.onProgress ?? (() => {});
  const cwd = process.cwd();
  const own = options.emulators === undefined;
  const synthStarted = Date.now();
  if (options.assemblyDir === undefined) progress('Synthesizing the stack with cdk synth');
  // Synth and the emulators' start-up (java) each take seconds; they run side by side.
  const [assemblyDir, emulators] = await settleBoth(
    options.assemblyDir === undefined
      ? synthesize({
          outputDir: options.outputDir ?? join('.tierq', 'cdk.out'),
          context: options.context ?? {},
        })
      : Promise.resolve(options.assemblyDir),
    own
      ? startEmulators({ onProgress: progress })
      : Promise.resolve({ ...options.emulators, oldestMessageAgeSeconds: () => null, stop: async () => {} }),
  );
  if (options.assemblyDir === undefined) {
    progress(
      `Synthesized in ${seconds(Date.now() - synthStarted)} into ${relative(cwd, assemblyDir) || '.'}`,
    );
  }
  const cleanups: (() => Promise<void> | void)[] = [() => emulators.stop()];
  const cleanUp = async () => {
    for (const step of cleanups.splice(0).reverse()) await step();
  };
  try {
    const stack = await readAssembly(assemblyDir, options.stackName, options.queue);
    const region = emulators.region;
    const prefix = options.namePrefix ?? stack.stackName;
    // Everything but the emulators' own start-up goes through the gateway, provisioning included,
    // so the queue URLs fauxqs builds name the gateway and every SQS client sends to it.
    const gateway = await startAwsGateway({ targets: emulators.endpoints, log: progress, region });
    cleanups.push(() => gateway.stop());
    const endpoints = gateway.endpoints;
    const local = await provision({
      stack,
      region,
      endpoints,
      namePrefix: prefix,
      onProgress: progress,
    });
    if (!own) cleanups.push(() => local.teardown());
    // Before IAM: the operator policy names the mappings' ARNs (it may pause them).
    registerEventSourceMappings(stack, local.resources, local.pseudo);
    const iam = readLocalIam(stack.template, local.resolve, {
      stackName: stack.stackName,
      accountId: local.pseudo.accountId,
    });
    if (options.iam !== false) {
      const evaluator = await loadIamEvaluator(iam);
      gateway.enforce({ iam, evaluator, arns: localResourceArns(stack, local.resources, local.pseudo) });
      progress(
        `Enforcing IAM for ${iam.principals.length} principals (${iam.principals.map((p) => p.logicalId).join(', ')})` +
          (iam.unresolved.length > 0 ? `; not resolved: ${iam.unresolved.join('; ')}` : ''),
      );
    }
    const functions = new Map<string, LocalFunction>();
    for (const [id, r] of Object.entries(stack.template.Resources)) {
      if (r.Type !== 'AWS::Lambda::Function') continue;
      const template = readFunctionDefinition(stack, id, local.resolve, local.pseudo, prefix);
      const definition = {
        ...template,
        environment: { ...template.environment, ...options.functionEnvironment },
      };
      const role = functionPrincipal(stack, id, iam);
      if (role === undefined && options.iam !== false) {
        // Run with the placeholder keys it would act as the administrator: refuse instead.
        throw new Error(
          `${id}: its execution role (${JSON.stringify(stack.template.Resources[id]?.Properties?.Role)}) is not a ` +
            'role of this template, so IAM cannot be enforced for it; run with --no-iam',
        );
      }
      const fn = await loadFunction(definition, {
        region,
        endpoints,
        ...(role === undefined ? {} : { credentials: role.credentials }),
        logLevel: options.logLevel,
      });
      cleanups.push(() => fn.unload());
      functions.set(id, fn);
      local.resources.set(id, functionResource(definition));
      progress(
        `Loaded function ${definition.name} (${definition.runtime} on ${describeNode(fn.node)}, ` +
          `${definition.timeoutSeconds} s, ${definition.memorySize} MB) from ${relative(cwd, definition.codeDir)}`,
      );
    }

    const read = readEventSourceMappings(stack, local.resolve, local.resources, functions);
    const { skipped } = read;
    // Lambda polls with the function's execution role.
    const mappings = read.mappings.map((m) => {
      const role = functionPrincipal(stack, m.fn.definition.logicalId, iam);
      return role === undefined ? m : { ...m, credentials: role.credentials };
    });
    const runner = startEventSources({
      mappings,
      region,
      sqsEndpoint: endpoints.sqs,
      visibilityTimeoutOverride: options.visibilityTimeoutOverride,
      faults: options.runnerFaults,
      log: progress,
    });
    // `tierq pause tier` disables a mapping through the gateway's Lambda API, as on AWS.
    gateway.serveLambda(runner);
    const graceMs =
      Math.max(0, ...[...functions.values()].map((f) => f.definition.timeoutSeconds * 1000)) + 1_000;
    cleanups.push(async () => {
      const { drained } = await runner.stop(graceMs);
      if (!drained) progress('Invocations still running were abandoned; their records stay on the queue');
    });
    const pollers = mappings.reduce((sum, m) => sum + m.maximumConcurrency, 0);
    progress(`Polling ${mappings.length} event source mappings with ${pollers} pollers`);

    const { alarms, others } = readQueueDepthAlarms(stack, local.resolve, local.resources);
    const evaluation = startAlarmEvaluation({
      alarms,
      region,
      sqsEndpoint: endpoints.sqs,
      onChange: progress,
    });
    cleanups.push(() => evaluation.stop());
    if (alarms.length > 0) progress(`Evaluating ${alarms.map((a) => a.logicalId).join(', ')} every 3 s`);

    const notRun = [
      ...countByType(
        Object.values(stack.template.Resources)
          .map((r) => r.Type)
          .filter((t) => !EMULATED_TYPES.has(t) && t !== 'AWS::CloudWatch::Alarm'),
      ),
      ...(others.length > 0 ? [`AWS::CloudWatch::Alarm ${others.join(', ')}`] : []),
      ...skipped.map((s) => `AWS::Lambda::EventSourceMapping ${s.logicalId} (${s.reason})`),
    ];
    progress(
      `Not run locally (${options.iam === false ? 'IAM is not enforced; ' : ''}alarms notify nobody): ${notRun.join('; ')}`,
    );

    registerManagedPolicies(stack, local.resources, local.pseudo.accountId);
    const outputs = resolveOutputs(stack.template.Outputs ?? {}, local.resolve);
    const keysOf = (arn: string) => policyHolderKeys(arn, iam);
    const info = stackInfo(
      outputs,
      region,
      endpoints,
      (queue) => {
        if (options.iam === false) return {};
        if (queue === undefined) return outputPrincipals(stack, iam);
        const [producer, operator] = [keysOf(queue.producerPolicyArn), keysOf(queue.operatorPolicyArn)];
        return { ...(producer ? { producer } : {}), ...(operator ? { operator } : {}) };
      },
      options.queue,
    );
    const stateFile = options.stateFile === undefined ? LOCAL_CONNECTION_FILE : options.stateFile;
    if (stateFile !== false) {
      await writeJsonAtomically(stateFile, info);
      cleanups.unshift(() => rm(stateFile, { force: true }));
    }

    if (options.demo) {
      const demo = startDemo({
        region,
        sqsEndpoint: endpoints.sqs,
        queues: info.queues,
        ...(info.principals?.producer === undefined ? {} : { credentials: info.principals.producer }),
        log: progress,
      });
      cleanups.push(() => demo.stop());
    }
    progress(`Ready in ${seconds(Date.now() - started)}${stateFile === false ? '' : `; wrote ${stateFile}`}`);

    let stopping: Promise<void> | undefined;
    return {
      ...info,
      stackName: stack.stackName,
      tiers: Object.keys(info.queues),
      outputs,
      notRun,
      gatewayStats: () => gateway.stats(),
      stats: () => runner.stats(),
      alarmStates: () => evaluation.states(),
      oldestMessageAges: () =>
        Object.fromEntries(
          Object.entries(info.queues).map(([tier, url]) => [tier, emulators.oldestMessageAgeSeconds(url)]),
        ),
      stop: () => {
        stopping ??= cleanUp();
        return stopping;
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** Awaits both; if either fails, stops what the other started and rethrows. */
async function settleBoth<A, B extends { stop(): Promise<void> }>(
  a: Promise<A>,
  b: Promise<B>,
): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'fulfilled' && rb.status === 'fulfilled') return [ra.value, rb.value];
  if (rb.status === 'fulfilled') await rb.value.stop();
  throw ra.status === 'rejected' ? ra.reason : (rb as PromiseRejectedResult).reason;
}

function countByType(types: string[]): string[] {
  const counts = new Map<string, number>();
  for (const t of types) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts].map(([t, n]) => (n > 1 ? `${t} ×${n}` : t));
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

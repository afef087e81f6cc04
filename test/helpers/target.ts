import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { type LocalStackInfo, startLocalStack } from '../../local/stack.js';
import { parseLocalConnection } from '../../shared/connection.js';
import { uniqueName } from './aws.js';

/**
 * What the end-to-end suite runs against: the stack's queues and table and the endpoints that
 * reach them. Tests read only these fields, whichever target is configured.
 */
export interface E2eTarget {
  readonly region: string;
  readonly endpoints: { readonly sqs: string; readonly dynamodb: string };
  /** Queue URL per tier, highest priority first. */
  readonly queues: Readonly<Record<string, string>>;
  readonly dlq: string;
  readonly table: string;
  /**
   * Keys of the stack's producer and operator principals when the target enforces IAM (the local
   * runner): the suite sends as the producer and looks as the operator, each held to its policy.
   */
  readonly principals?: LocalStackInfo['principals'];
  /** Releases what the target started (nothing for a deployed stack). */
  stop(): Promise<void>;
}

/** `TIERQ_E2E_TARGET`: unset or `local` (the in-process local runner), or `stack-outputs`. */
export type E2eTargetKind = 'local' | 'stack-outputs';

export function e2eTargetKind(env: NodeJS.ProcessEnv = process.env): E2eTargetKind {
  const kind = env.TIERQ_E2E_TARGET ?? 'local';
  if (kind === 'local' || kind === 'stack-outputs') return kind;
  throw new Error(`TIERQ_E2E_TARGET must be "local" or "stack-outputs", not "${kind}"`);
}

/**
 * How long the suite's setup may take: a deployed stack's first invocation can start a Lambda
 * container (LocalStack pulls its runtime image on first use).
 */
export function e2eSetupTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  return e2eTargetKind(env) === 'local' ? 90_000 : 300_000;
}

/** How long the setup waits for its first task (the warm-up) to succeed. */
export function e2eWarmUpTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  return e2eTargetKind(env) === 'local' ? 30_000 : 240_000;
}

export interface StartE2eTargetOptions {
  /** Label for the local runner's resource names and temporary directories. */
  readonly label: string;
  /** Progress lines of the local runner. */
  readonly onProgress?: (line: string) => void;
}

/**
 * Starts (or connects to) the target chosen by the environment:
 *
 * - default: `startLocalStack` on the emulators of the integration project's global setup;
 * - `TIERQ_E2E_TARGET=stack-outputs`: a stack deployed elsewhere (e.g. by `cdklocal` to
 *   LocalStack), read from the JSON file at `TIERQ_E2E_OUTPUTS` (default
 *   `.tierq/localstack.json`), shaped like `.tierq/local.json`.
 *
 * @example
 * const target = await startE2eTarget({ label: 'e2e' });
 */
export async function startE2eTarget(options: StartE2eTargetOptions): Promise<E2eTarget> {
  return e2eTargetKind() === 'stack-outputs'
    ? readStackOutputsTarget(process.env.TIERQ_E2E_OUTPUTS ?? join('.tierq', 'localstack.json'))
    : startLocalTarget(options);
}

async function startLocalTarget(options: StartE2eTargetOptions): Promise<E2eTarget> {
  /** Inside the project, so the bundle resolves the AWS SDK from its node_modules as in `npm start`. */
  const assemblyDir = join('.tierq', `test-cdk.out-${options.label}-${randomUUID().slice(0, 8)}`);
  const stateDir = mkdtempSync(join(tmpdir(), `tierq-${options.label}-`));
  const cleanUp = async () => {
    await rm(assemblyDir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  };
  try {
    const stack = await startLocalStack({
      emulators: inject('emulators'),
      outputDir: assemblyDir,
      namePrefix: uniqueName(options.label),
      stateFile: join(stateDir, 'local.json'),
      // Test-only: failed records return after 6 s instead of the template's minutes. Not shorter:
      // the low tier gathers batches for 5 s, and a record whose visibility runs out while it is
      // gathered is received again, which shows up as a second attempt.
      visibilityTimeoutOverride: 6,
      onProgress: options.onProgress,
    });
    return {
      region: stack.region,
      endpoints: stack.endpoints,
      queues: stack.queues,
      dlq: stack.dlq,
      table: stack.table,
      ...(stack.principals === undefined ? {} : { principals: stack.principals }),
      stop: async () => {
        try {
          await stack.stop();
        } finally {
          await cleanUp();
        }
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

async function readStackOutputsTarget(file: string): Promise<E2eTarget> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(
      `TIERQ_E2E_TARGET=stack-outputs needs ${file} (set TIERQ_E2E_OUTPUTS, or run scripts/test-localstack.sh): ${(error as Error).message}`,
    );
  }
  const { credentials: _, ...info } = parseLocalConnection(JSON.parse(text), file);
  // A deployed stack's own IAM applies to whatever credentials reach it; none are chosen here.
  return { ...info, stop: async () => {} };
}

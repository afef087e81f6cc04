import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { connectionFromOutputs } from '../shared/connection.js';
import type { LocalPrincipalKeys } from './iam/local-rules.js';
import { LocalResolveError } from './intrinsics.js';

/** What `.tierq/local.json` holds: enough for a producer or the CLI to reach the local stack. */
export interface LocalStackInfo {
  readonly region: string;
  readonly endpoints: { readonly sqs: string; readonly dynamodb: string };
  /** Queue URL per tier, highest priority first. */
  readonly queues: Readonly<Record<string, string>>;
  readonly dlq: string;
  readonly table: string;
  /**
   * Local keys of the principals holding the stack's producer and operator policies, when IAM is
   * enforced: `loadLocalConfig` signs a producer's requests with `producer`, the CLI with `operator`.
   */
  readonly principals?: LocalPrincipalKeys;
}

/**
 * Resolves the stack's outputs; those naming a resource that is not run locally (SNS topic, IAM
 * policy) are left out.
 *
 * @example
 * const outputs = resolveOutputs(stack.template.Outputs ?? {}, local.resolve);
 */
export function resolveOutputs(
  outputs: Record<string, { Value: unknown }>,
  resolve: (value: unknown, where: string) => unknown,
): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [key, output] of Object.entries(outputs)) {
    try {
      resolved[key] = String(resolve(output.Value, `Output ${key}`));
    } catch (error) {
      // An output naming a resource that is not run locally (SNS topic, IAM policy) is left out.
      if (!(error instanceof LocalResolveError)) throw error;
    }
  }
  return resolved;
}

/**
 * Builds the connection info from the outputs TierqStack defines, failing clearly when one is missing.
 *
 * @example
 * const info = stackInfo(outputs, 'us-east-1', emulators.endpoints);
 */
export function stackInfo(
  outputs: Record<string, string>,
  region: string,
  endpoints: LocalStackInfo['endpoints'],
  principals: LocalPrincipalKeys = {},
): LocalStackInfo {
  return {
    region,
    endpoints,
    ...connectionFromOutputs(outputs, 'the stack'),
    ...(Object.keys(principals).length > 0 ? { principals } : {}),
  };
}

/**
 * Writes JSON through a temporary file and a rename, so a reader never sees half a file.
 *
 * @example
 * await writeJsonAtomically('.tierq/local.json', info);
 */
export async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  const absolute = resolvePath(file);
  await mkdir(dirname(absolute), { recursive: true });
  const temporary = `${absolute}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temporary, absolute);
}

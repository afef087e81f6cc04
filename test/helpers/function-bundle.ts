/**
 * Small Lambda bundles written on the fly, for tests of the local runner's sandboxes: a
 * CommonJS `index.js` in a fresh directory and the function definition that points at it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalFunctionDefinition } from '../../local/lambda-runtime.js';
import { uniqueName } from './aws.js';

/** A bundle on disk and its definition. */
export interface TestBundle {
  readonly definition: LocalFunctionDefinition;
  readonly dir: string;
  /** A file in the bundle's directory the handler can append to (`TEST_JOURNAL` in its env). */
  readonly journal: string;
  /** The journal's lines so far (none when the file does not exist yet). */
  journalLines(): string[];
  remove(): Promise<void>;
}

/**
 * Writes `source` as the `index.js` of a new bundle. The handler finds the path of a journal
 * file in `process.env.TEST_JOURNAL`, for side effects the test reads back.
 *
 * @example
 * const bundle = writeTestBundle(`exports.handler = async () => ({ pid: process.pid });`, { timeoutSeconds: 1 });
 * const fn = await loadFunction(bundle.definition, { region, endpoints });
 */
export function writeTestBundle(
  source: string,
  overrides: Partial<Omit<LocalFunctionDefinition, 'codeDir'>> = {},
): TestBundle {
  const dir = mkdtempSync(join(tmpdir(), 'tierq-bundle-'));
  writeFileSync(join(dir, 'index.js'), source);
  const journal = join(dir, 'journal.log');
  const name = uniqueName(overrides.logicalId ?? 'fn');
  return {
    dir,
    journal,
    definition: {
      logicalId: 'TestFunction',
      name,
      arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
      handler: 'index.handler',
      timeoutSeconds: 3,
      memorySize: 128,
      runtime: 'nodejs22.x',
      logGroupName: `/aws/lambda/${name}`,
      ...overrides,
      environment: { TEST_JOURNAL: journal, ...overrides.environment },
      codeDir: dir,
    },
    journalLines() {
      try {
        return readFileSync(journal, 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** True while a process with this pid exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

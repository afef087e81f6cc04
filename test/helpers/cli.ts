import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inject } from 'vitest';
import { type ConsumerHarness, TIERS } from './consumer-harness.js';
import type { DeclaredAccess } from './declared-access.js';

/** The CLI's TypeScript entry, run through tsx here; the package runs its built JavaScript. */
const BIN = fileURLToPath(new URL('../../cli/bin.ts', import.meta.url));
/** tsx's ESM loader by absolute URL: the CLI runs in temporary directories that cannot resolve it. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** What a finished `tierq` run printed and returned. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `tierq <args>` in `cwd` as a separate process, stdin closed (not a terminal). */
export function spawnCli(args: readonly string[], cwd: string): ChildProcess {
  return spawn(process.execPath, ['--import', TSX, BIN, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `tierq <args>` in `cwd` to the end. */
export async function runCli(args: readonly string[], cwd: string): Promise<CliRun> {
  const child = spawnCli(args, cwd);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

/** A fresh directory holding `.tierq/local.json` with `info`, as the local stack writes it. */
export async function cliWorkspace(info: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tierq-cli-'));
  await mkdir(join(dir, '.tierq'));
  await writeFile(join(dir, '.tierq', 'local.json'), JSON.stringify(info));
  return dir;
}

/**
 * A workspace whose `.tierq/local.json` points at a consumer harness's queues and table. With
 * `access`, the CLI goes through its gateway as a principal holding exactly the operator's
 * declared access to them, as `tierq` would with the stack's OperatorPolicy.
 */
export async function harnessWorkspace(h: ConsumerHarness, access?: DeclaredAccess): Promise<string> {
  const { region, endpoints } = inject('emulators');
  const queues = Object.fromEntries(TIERS.map((t) => [t, h.urlOf(t)]));
  const resources = {
    queues: Object.values(queues),
    dlq: h.config.deadLetterQueueUrl,
    table: h.config.tableName,
  };
  return cliWorkspace({
    region,
    endpoints: access?.endpoints ?? endpoints,
    queues,
    dlq: resources.dlq,
    table: resources.table,
    ...(access === undefined ? {} : { principals: { operator: await access.grant('operator', resources) } }),
  });
}

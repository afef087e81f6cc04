/**
 * One execution environment of a function: a Node child process running local/sandbox/bootstrap.mjs,
 * which loads the bundle once and then answers one invocation at a time. The runner can kill it
 * at any moment, which is what makes a timeout stop the function's code.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { FunctionError, type SerializedFunctionError } from './function-error.js';
import { forwardLines } from './line-forwarder.js';
import type { NodeBinary } from './node-binary.js';

/** Plain JavaScript, so any Node runs it without a TypeScript loader (a build must copy it along). */
const BOOTSTRAP = fileURLToPath(new URL('./bootstrap.mjs', import.meta.url));
/** Lambda's limit for the init phase of an on-demand function. */
const INIT_TIMEOUT_MS = 10_000;
/** How long an exited sandbox's output may take to arrive before its end is reported anyway. */
const STDIO_DRAIN_MS = 200;

/** What a sandbox is started with. */
export interface SandboxSpec {
  readonly node: NodeBinary;
  /** Node flags before the bootstrap, e.g. the heap limits of the function's memory. */
  readonly nodeFlags: readonly string[];
  /** The working directory, like Lambda's `/var/task`. */
  readonly codeDir: string;
  readonly env: Readonly<Record<string, string>>;
}

/** One invocation as the bootstrap receives it. */
export interface SandboxInvocation {
  readonly requestId: string;
  readonly invokedFunctionArn: string;
  /** Epoch ms: what `context.getRemainingTimeInMillis()` counts down to. */
  readonly deadline: number;
  readonly event: unknown;
}

/** How an invocation in a sandbox ended. After `timeout` and `exit` the sandbox is dead. */
export type SandboxOutcome =
  | { readonly kind: 'response'; readonly response: unknown }
  | { readonly kind: 'error'; readonly error: FunctionError }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'exit'; readonly error: FunctionError };

/** A running sandbox process. */
export interface Sandbox {
  readonly pid: number | undefined;
  /** Resolves once the bundle is loaded: undefined, or the error that failed the init. */
  readonly ready: Promise<FunctionError | undefined>;
  /** False once the process has exited or was killed. */
  alive(): boolean;
  /**
   * Sends one invocation and resolves with its outcome. At `killAfterMs` the process is killed
   * (SIGKILL) and the outcome is `timeout`: nothing the handler scheduled runs afterwards.
   */
  invoke(invocation: SandboxInvocation, killAfterMs: number): Promise<SandboxOutcome>;
  /** Kills the process (SIGKILL) and resolves once it has exited. */
  kill(): Promise<void>;
}

type FromBootstrap =
  | { type: 'ready' }
  | { type: 'init-error'; error: SerializedFunctionError }
  | { type: 'result'; requestId: string; response?: unknown }
  | { type: 'error'; requestId: string; error: SerializedFunctionError };

/** Every sandbox process alive, so none outlives this process when it exits. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/**
 * Starts a sandbox process. Its stdout and stderr are forwarded to this process's, one write per
 * line; the cold start (Node's start-up and the bundle's init) is over when `ready` resolves.
 *
 * @example
 * const sandbox = startSandbox({ node, nodeFlags, codeDir, env });
 * const initError = await sandbox.ready;
 * const outcome = await sandbox.invoke({ requestId, invokedFunctionArn, deadline, event }, 30_000);
 */
export function startSandbox(spec: SandboxSpec): Sandbox {
  killAllOnExit();
  const child = spawn(spec.node.path, [...spec.nodeFlags, BOOTSTRAP], {
    cwd: spec.codeDir,
    env: spec.env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  live.add(child);
  forwardLines(child.stdout as NonNullable<typeof child.stdout>, (line) => process.stdout.write(line));
  forwardLines(child.stderr as NonNullable<typeof child.stderr>, (line) => process.stderr.write(line));

  let running = true;
  let pending: { requestId: string; settle(outcome: SandboxOutcome): void } | undefined;
  let settleReady: (error: FunctionError | undefined) => void = () => {};
  const ready = new Promise<FunctionError | undefined>((resolve) => {
    settleReady = resolve;
  });
  const initTimer = setTimeout(() => {
    child.kill('SIGKILL');
    settleReady(
      new FunctionError('Sandbox.Timedout', `init did not finish within ${INIT_TIMEOUT_MS / 1000} s`),
    );
  }, INIT_TIMEOUT_MS);
  const exited = new Promise<void>((resolve) => {
    const onGone = (code: number | null, signal: NodeJS.Signals | null) => {
      running = false;
      live.delete(child);
      clearTimeout(initTimer);
      settleReady(FunctionError.exit(undefined, code, signal));
      if (pending !== undefined)
        pending.settle({ kind: 'exit', error: FunctionError.exit(pending.requestId, code, signal) });
      resolve();
    };
    child.once('exit', (code, signal) => {
      running = false;
      // Its last stderr lines (an uncaught exception's stack) are forwarded before the failure is
      // reported; 'close' waits for the pipes, which a grandchild could hold open, hence the bound.
      const closed = new Promise((done) => child.once('close', done));
      void Promise.race([closed, sleep(STDIO_DRAIN_MS, undefined, { ref: false })]).then(() =>
        onGone(code, signal),
      );
    });
    // Spawning failed (e.g. the binary is gone): there is no exit event.
    child.once('error', (error) => {
      if (child.pid === undefined) onGone(null, null);
      else process.stderr.write(`sandbox ${child.pid}: ${error.message}\n`);
    });
  });

  child.on('message', (message: FromBootstrap) => {
    switch (message.type) {
      case 'ready':
        clearTimeout(initTimer);
        settleReady(undefined);
        return;
      case 'init-error':
        clearTimeout(initTimer);
        settleReady(FunctionError.from(message.error));
        child.kill('SIGKILL');
        return;
      case 'result':
        if (pending?.requestId === message.requestId)
          pending.settle({ kind: 'response', response: message.response });
        return;
      case 'error':
        if (pending?.requestId === message.requestId)
          pending.settle({ kind: 'error', error: FunctionError.from(message.error) });
        return;
    }
  });

  return {
    pid: child.pid,
    ready,
    alive: () => running,
    invoke(invocation, killAfterMs) {
      return new Promise<SandboxOutcome>((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          running = false;
          settle({ kind: 'timeout' });
        }, killAfterMs);
        const settle = (outcome: SandboxOutcome) => {
          clearTimeout(timer);
          pending = undefined;
          resolve(outcome);
        };
        pending = { requestId: invocation.requestId, settle };
        // A failed send means the process is gone; its exit event settles the invocation.
        child.send({ type: 'invoke', ...invocation }, () => {});
      });
    },
    async kill() {
      if (running) child.kill('SIGKILL');
      running = false;
      await exited;
    },
  };
}

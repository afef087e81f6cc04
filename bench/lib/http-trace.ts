import diagnostics_channel from 'node:diagnostics_channel';
import { readdir, readFile } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Endpoints } from './resources.js';

/** One HTTP request to an emulator, as seen from this process. */
export interface TracedRequest {
  readonly service: 'sqs' | 'dynamodb';
  /** From the `x-amz-target` header, e.g. `ReceiveMessage`, `UpdateItem`. */
  readonly operation: string;
  readonly start: number;
  /** When the response arrived (performance.now() ms); undefined while it is still open. */
  end: number | undefined;
}

const START = 'http.client.request.start';
const FINISH = 'http.client.response.finish';

/**
 * Records every HTTP request this process sends to the emulators, through Node's own
 * `http.client.*` diagnostics channels. The end-to-end benchmark needs this because the
 * consumer's SDK clients live inside the bundle the local stack loads, where no middleware can
 * be added; the channels see them without touching the product code.
 *
 * @example
 * const trace = traceHttp(endpoints);
 * // ... run the workload ...
 * const requests = trace.between(t0, t1);
 * trace.stop();
 */
export function traceHttp(endpoints: Endpoints) {
  const services = new Map<string, TracedRequest['service']>([
    [new URL(endpoints.sqs).host, 'sqs'],
    [new URL(endpoints.dynamodb).host, 'dynamodb'],
  ]);
  const open = new Map<ClientRequest, TracedRequest>();
  const finished: TracedRequest[] = [];
  const onStart = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    const service = services.get(String(request.getHeader('host') ?? ''));
    if (service === undefined) return;
    const target = String(request.getHeader('x-amz-target') ?? 'unknown');
    open.set(request, {
      service,
      operation: target.slice(target.lastIndexOf('.') + 1),
      start: performance.now(),
      end: undefined,
    });
  };
  const onFinish = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    const traced = open.get(request);
    if (traced === undefined) return;
    open.delete(request);
    traced.end = performance.now();
    finished.push(traced);
  };
  diagnostics_channel.subscribe(START, onStart);
  diagnostics_channel.subscribe(FINISH, onFinish);
  return {
    /**
     * Requests that overlap `[from, to]`, clipped to it; requests still open count as running
     * until `to` (an idle poller's long poll is time spent waiting to receive).
     */
    between(from: number, to: number): (TracedRequest & { end: number })[] {
      return clip([...finished, ...open.values()], from, to);
    },
    stop(): void {
      diagnostics_channel.unsubscribe(START, onStart);
      diagnostics_channel.unsubscribe(FINISH, onFinish);
    },
  };
}

/**
 * Requests that overlap `[from, to]`, clipped to it; requests still open count as running until
 * `to` (an idle poller's long poll is time spent waiting to receive).
 *
 * @example
 * const inWindow = clip(sandboxes.requests, t0, t1);
 */
export function clip(
  requests: readonly TracedRequest[],
  from: number,
  to: number,
): (TracedRequest & { end: number })[] {
  return requests
    .filter((r) => r.start < to && (r.end ?? to) > from)
    .map((r) => ({ ...r, start: Math.max(r.start, from), end: Math.min(r.end ?? to, to) }));
}

/** The preload that traces a sandbox's requests (see the file); give it to NODE_OPTIONS `--require`. */
export const SANDBOX_TRACE_PRELOAD = fileURLToPath(new URL('./sandbox-http-trace.cjs', import.meta.url));

/** What the function sandboxes traced: their requests and when each sandbox process started. */
export interface SandboxTraces {
  /** In this process's `performance.now()` time, like {@link traceHttp}'s. */
  readonly requests: TracedRequest[];
  /** Start of each sandbox process, in this process's `performance.now()` time, by pid. */
  readonly starts: ReadonlyMap<number, number>;
}

/**
 * Reads what `bench/lib/sandbox-http-trace.cjs` wrote into `dir`, one file per sandbox, and
 * moves its epoch times onto this process's `performance.now()` clock.
 *
 * @example
 * const { requests, starts } = await readSandboxTraces(traceDir);
 */
export async function readSandboxTraces(dir: string): Promise<SandboxTraces> {
  const requests: TracedRequest[] = [];
  const starts = new Map<number, number>();
  const toLocal = (epochMs: number) => epochMs - performance.timeOrigin;
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.jsonl')) continue;
    const pid = Number(name.slice(0, -'.jsonl'.length));
    for (const line of (await readFile(join(dir, name), 'utf8')).split('\n')) {
      if (line === '') continue;
      const entry = JSON.parse(line) as { started?: number } & Omit<TracedRequest, 'end'> & { end: number };
      if (entry.started !== undefined) starts.set(pid, toLocal(entry.started));
      else requests.push({ ...entry, start: toLocal(entry.start), end: toLocal(entry.end) });
    }
  }
  return { requests, starts };
}

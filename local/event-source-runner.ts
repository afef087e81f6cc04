import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { localClientConfig } from './emulators.js';
import type { InvocationResult, LocalFunction } from './lambda-runtime.js';
import { type MappingStatus, MappingSwitch, mappingStatus } from './mapping-switch.js';

export type { MappingStatus } from './mapping-switch.js';

import { type FaultInvocation, InvocationFault, type RunnerFaults } from './runner-faults.js';
import { batchVerdict, toSqsRecord } from './sqs-event.js';

/** One `AWS::Lambda::EventSourceMapping` on an SQS queue, resolved to local values. */
export interface SqsEventSourceMapping {
  readonly logicalId: string;
  /** The mapping's id (what `Ref` returns), as the local Lambda API knows it. */
  readonly uuid: string;
  /** `arn:aws:lambda:<region>:<account>:event-source-mapping:<uuid>`. */
  readonly arn: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  /** `ScalingConfig.MaximumConcurrency`: concurrent pollers, each invoking one batch at a time. */
  readonly maximumConcurrency: number;
  readonly reportBatchItemFailures: boolean;
  readonly fn: LocalFunction;
  /**
   * The function's execution role's local keys: Lambda polls and deletes with that role, so a
   * role that may not receive from its source fails here as it would on AWS.
   */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** Counters of one mapping, for the live view and tests. */
export interface MappingStats {
  readonly logicalId: string;
  readonly queueUrl: string;
  pollers: number;
  batches: number;
  records: number;
  /** Records deleted after an invocation that did not report them failed. */
  succeeded: number;
  /** Records left on the queue for redelivery: reported, or in a batch that failed whole. */
  failed: number;
  /** Invocations that threw (whole batch failed). */
  errors: number;
  /** Invocations that ran past the function's timeout (whole batch failed). */
  timeouts: number;
  /** Responses Lambda would reject, e.g. an unknown itemIdentifier (whole batch failed). */
  malformed: number;
  /** Records inside an invocation right now. */
  inFlight: number;
  /** Disabled through `UpdateEventSourceMapping` (`tierq pause tier`). */
  paused: boolean;
}

/** Options for {@link startEventSources}. */
export interface EventSourceRunnerOptions {
  readonly mappings: readonly SqsEventSourceMapping[];
  readonly region: string;
  readonly sqsEndpoint: string;
  /**
   * Test-only: a `VisibilityTimeout` for every receive, so failed records come back in seconds
   * instead of the template's minutes. Not what Lambda does; never use it to judge behaviour.
   */
  readonly visibilityTimeoutOverride?: number;
  /** Called with one line per notable event (invocation errors, timeouts, SQS errors). */
  readonly log?: (line: string) => void;
  /** Test-only fault injection (crashes, timeouts, duplicate deliveries); see {@link RunnerFaults}. */
  readonly faults?: RunnerFaults;
}

/** Running event source mappings. */
export interface EventSourceRunner {
  stats(): readonly MappingStats[];
  /** Every mapping's configuration and state. */
  mappings(): readonly MappingStatus[];
  /**
   * Enables or disables a mapping, as `UpdateEventSourceMapping` with `Enabled` does: disabled,
   * its pollers start no receive (a batch already received still runs) and its state is
   * `Disabling` until the receives in flight have answered, then `Disabled`. Undefined for an
   * unknown id.
   */
  setEnabled(uuid: string, enabled: boolean): MappingStatus | undefined;
  /**
   * Stops polling at once and waits up to `graceMs` for running invocations; records of
   * invocations still running afterwards are left on their queue, never deleted.
   */
  stop(graceMs: number): Promise<{ drained: boolean }>;
}

const MAX_RECEIVE = 10;
/**
 * Longest wait of one receive. Lambda long-polls up to 20 s; the runner waits at most this, so a
 * disabled mapping's receives in flight end this soon (fauxqs, unlike SQS, would hand a message
 * to a long poll whose client had gone, so a receive is never aborted to disable a mapping).
 */
const MAX_WAIT_SECONDS = 2;
const RETRY_AFTER_ERROR_MS = 1_000;
/** How many of a mapping's last invocations its median duration is taken over. */
const RECENT_INVOCATIONS = 51;

/**
 * Polls each mapping's queue the way Lambda's SQS event source does: `MaximumConcurrency`
 * pollers long-polling in parallel, batches gathered up to `BatchSize` or the batching window,
 * records deleted after the invocation unless reported in `batchItemFailures`, nothing deleted
 * when the invocation throws, times out or answers malformed.
 *
 * @example
 * const runner = startEventSources({ mappings, region, sqsEndpoint });
 * // later
 * await runner.stop(30_000);
 */
export function startEventSources(options: EventSourceRunnerOptions): EventSourceRunner {
  const clients = new Map<string, SQSClient>();
  /** One client per role: the mapping's requests are signed as its function's role. */
  const sqsOf = (m: SqsEventSourceMapping): SQSClient => {
    const key = m.credentials?.accessKeyId ?? '';
    let client = clients.get(key);
    if (client === undefined) {
      client = new SQSClient({
        ...localClientConfig(options.sqsEndpoint),
        region: options.region,
        ...(m.credentials === undefined ? {} : { credentials: m.credentials }),
      });
      clients.set(key, client);
    }
    return client;
  };
  const log = options.log ?? (() => {});
  const controller = new AbortController();
  // Every poller's in-flight receive listens on this one signal; hundreds are expected, not a leak.
  setMaxListeners(0, controller.signal);
  /** Per mapping: enabled or not (`tierq pause tier`), as its pollers see it. */
  const switches = options.mappings.map(() => new MappingSwitch());
  const statusOf = (i: number): MappingStatus =>
    mappingStatus(options.mappings[i] as SqsEventSourceMapping, switches[i] as MappingSwitch);
  const stats = options.mappings.map(
    (m): MappingStats => ({
      logicalId: m.logicalId,
      queueUrl: m.queueUrl,
      pollers: m.maximumConcurrency,
      batches: 0,
      records: 0,
      succeeded: 0,
      failed: 0,
      errors: 0,
      timeouts: 0,
      malformed: 0,
      inFlight: 0,
      paused: false,
    }),
  );

  const gather = async (m: SqsEventSourceMapping, c: MappingSwitch): Promise<Message[]> => {
    const windowMs = m.maxBatchingWindowSeconds * 1000;
    const gathering = windowMs > 0 || m.batchSize > MAX_RECEIVE;
    const messages: Message[] = [];
    let windowEnd: number | undefined;
    // Disabled mid-window: what was gathered still runs, as a batch in flight does on Lambda.
    while (c.enabled) {
      const remainingMs = windowEnd === undefined ? MAX_WAIT_SECONDS * 1000 : windowEnd - Date.now();
      if (remainingMs <= 0) break;
      const { Messages = [] } = await c.receiving(() =>
        sqsOf(m).send(
          new ReceiveMessageCommand({
            QueueUrl: m.queueUrl,
            MaxNumberOfMessages: Math.min(MAX_RECEIVE, m.batchSize - messages.length),
            // Whole seconds only: the window may overrun by under a second, as it may on AWS.
            WaitTimeSeconds:
              windowMs > 0 || messages.length === 0
                ? Math.min(MAX_WAIT_SECONDS, Math.ceil(remainingMs / 1000))
                : 0,
            AttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
            VisibilityTimeout: options.visibilityTimeoutOverride,
          }),
          { abortSignal: controller.signal },
        ),
      );
      messages.push(...Messages);
      if (messages.length === 0 || !gathering || messages.length >= m.batchSize) break;
      // Without a window a batch above 10 takes what is there now.
      if (windowMs === 0 && Messages.length === 0) break;
      windowEnd ??= Date.now() + windowMs;
    }
    return messages;
  };

  const deleteRecords = async (m: SqsEventSourceMapping, messages: Message[]): Promise<number> => {
    let deleted = 0;
    for (let i = 0; i < messages.length; i += MAX_RECEIVE) {
      const chunk = messages.slice(i, i + MAX_RECEIVE);
      const { Failed = [] } = await sqsOf(m).send(
        new DeleteMessageBatchCommand({
          QueueUrl: m.queueUrl,
          Entries: chunk.map((msg, j) => ({ Id: String(j), ReceiptHandle: msg.ReceiptHandle })),
        }),
      );
      for (const f of Failed)
        log(`${m.logicalId}: DeleteMessageBatch failed for a record: ${f.Code} ${f.Message ?? ''}`);
      deleted += chunk.length - Failed.length;
    }
    return deleted;
  };

  // Durations of each mapping's last answered invocations, for the fault hooks' "typical" length.
  const recent = new Map<string, number[]>();
  const medianDurationMs = (m: SqsEventSourceMapping) => {
    const sorted = [...(recent.get(m.logicalId) ?? [])].sort((a, b) => a - b);
    return sorted.length === 0 ? 0 : (sorted[Math.floor(sorted.length / 2)] as number);
  };

  const invoke = async (
    m: SqsEventSourceMapping,
    s: MappingStats,
    messages: Message[],
    duplicate = false,
  ): Promise<void> => {
    const ids = new Set(messages.map((msg) => msg.MessageId ?? ''));
    const batch: FaultInvocation = {
      mapping: m.logicalId,
      messages,
      duplicate,
      requestId: randomUUID(),
      medianDurationMs: medianDurationMs(m),
    };
    const fault = options.faults?.invocation?.(batch);
    const killAfterMs =
      fault === InvocationFault.timeout
        ? (options.faults?.timeoutAfterMs?.(batch) ?? Math.random() * batch.medianDurationMs)
        : undefined;
    s.batches += 1;
    s.records += messages.length;
    s.inFlight += messages.length;
    let failed: ReadonlySet<string> = ids;
    try {
      const result: InvocationResult = await m.fn.invoke(
        { Records: messages.map((msg) => toSqsRecord(msg, m.queueArn, options.region)) },
        { requestId: batch.requestId, killAfterMs },
      );
      if (killAfterMs === undefined && result.status !== 'timeout') {
        const durations = recent.get(m.logicalId) ?? [];
        durations.push(result.durationMs);
        if (durations.length > RECENT_INVOCATIONS) durations.shift();
        recent.set(m.logicalId, durations);
      }
      const what = `${m.fn.definition.logicalId} on ${m.logicalId}: batch of ${messages.length}`;
      if (killAfterMs !== undefined) {
        // Injected: killed mid-handler, or, if it answered first, an overrun after its work.
        if (result.status === 'timeout') options.faults?.killed?.(batch, killAfterMs);
        s.timeouts += 1;
        log(`${what} timed out (injected ${Math.round(killAfterMs)} ms in); every record will be retried`);
      } else if (result.status === 'timeout') {
        s.timeouts += 1;
        log(`${what} timed out after ${m.fn.definition.timeoutSeconds} s; every record will be retried`);
      } else if (result.status === 'error') {
        s.errors += 1;
        log(`${what} failed: ${describeError(result.error)}; every record will be retried`);
      } else if (fault === InvocationFault.crashBeforeAck) {
        s.errors += 1;
        log(`${what} crashed after the handler returned (injected); every record will be retried`);
      } else {
        const verdict = batchVerdict(result.response, ids, m.reportBatchItemFailures);
        if (verdict.kind === 'malformed') {
          s.malformed += 1;
          log(`${what}: Lambda would reject the response (${verdict.reason}); every record will be retried`);
        } else {
          failed = verdict.failed;
        }
      }
    } finally {
      s.inFlight -= messages.length;
    }
    s.failed += failed.size;
    // Awaited first: `s.succeeded += await …` reads the counter before the await, and pollers
    // running side by side would overwrite each other's increments.
    const deleted = await deleteRecords(
      m,
      messages.filter((msg) => !failed.has(msg.MessageId ?? '')),
    );
    s.succeeded += deleted;
  };

  const poller = async (m: SqsEventSourceMapping, s: MappingStats, i: number): Promise<void> => {
    const c = switches[i] as MappingSwitch;
    while (!controller.signal.aborted) {
      if (!c.enabled) {
        await c.untilEnabled(controller.signal);
        continue;
      }
      try {
        const messages = await gather(m, c);
        // Received during shutdown: left alone, they reappear after their visibility timeout.
        if (messages.length === 0 || controller.signal.aborted) continue;
        const again = options.faults?.duplicate?.({ mapping: m.logicalId, messages, duplicate: false });
        if (again === undefined || again.length === 0) await invoke(m, s, messages);
        else {
          // Both run to the end before this poller receives again, whichever fails.
          const both = await Promise.allSettled([invoke(m, s, messages), invoke(m, s, [...again], true)]);
          for (const r of both) if (r.status === 'rejected') throw r.reason;
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        log(`${m.logicalId}: ${describeError(error)}; polling again in ${RETRY_AFTER_ERROR_MS / 1000} s`);
        await sleep(RETRY_AFTER_ERROR_MS, undefined, { signal: controller.signal }).catch(() => {});
      }
    }
  };

  const running = options.mappings.flatMap((m, i) =>
    Array.from({ length: m.maximumConcurrency }, () => poller(m, stats[i] as MappingStats, i)),
  );

  let stopping: Promise<{ drained: boolean }> | undefined;
  return {
    stats: () => stats,
    mappings: () => options.mappings.map((_, i) => statusOf(i)),
    setEnabled(uuid, enabled) {
      const i = options.mappings.findIndex((m) => m.uuid === uuid);
      const c = switches[i];
      if (c === undefined) return undefined;
      if (c.set(enabled)) {
        (stats[i] as MappingStats).paused = !enabled;
        log(
          `${options.mappings[i]?.logicalId}: ${enabled ? 'enabled' : 'disabled'} (UpdateEventSourceMapping)`,
        );
      }
      return statusOf(i);
    },
    stop(graceMs) {
      stopping ??= (async () => {
        controller.abort();
        const drained = await Promise.race([
          Promise.all(running).then(() => true),
          sleep(graceMs, undefined, { ref: false }).then(() => false),
        ]);
        for (const client of clients.values()) client.destroy();
        return { drained };
      })();
      return stopping;
    },
  };
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * The on/off switch of one local event source mapping, as `UpdateEventSourceMapping` with
 * `Enabled` flips it on Lambda: disabled, its pollers start no receive and wait to be enabled;
 * its state is `Disabling` while a receive is still in flight, then `Disabled`.
 */

import type { SqsEventSourceMapping } from './event-source-runner.js';

/** A mapping's state as `GetEventSourceMapping` reports it locally. */
export type SwitchState = 'Enabled' | 'Disabling' | 'Disabled';

/** A mapping as Lambda's `GetEventSourceMapping` describes it. */
export interface MappingStatus {
  readonly uuid: string;
  readonly arn: string;
  readonly logicalId: string;
  readonly queueArn: string;
  readonly functionArn: string;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly maximumConcurrency: number;
  readonly reportBatchItemFailures: boolean;
  /** `Enabled`, `Disabling` (a receive is still in flight) or `Disabled`. */
  readonly state: SwitchState;
  /** Epoch seconds of the last change of state (or of the start). */
  readonly lastModified: number;
}

/**
 * The status of a mapping with its switch.
 *
 * @example
 * const status = mappingStatus(mapping, sw); // { uuid, state: 'Enabled', … }
 */
export function mappingStatus(m: SqsEventSourceMapping, sw: MappingSwitch): MappingStatus {
  return {
    uuid: m.uuid,
    arn: m.arn,
    logicalId: m.logicalId,
    queueArn: m.queueArn,
    functionArn: m.fn.definition.arn,
    batchSize: m.batchSize,
    maxBatchingWindowSeconds: m.maxBatchingWindowSeconds,
    maximumConcurrency: m.maximumConcurrency,
    reportBatchItemFailures: m.reportBatchItemFailures,
    state: sw.state,
    lastModified: sw.lastModified,
  };
}

/**
 * One mapping's switch, shared by its pollers.
 *
 * @example
 * const sw = new MappingSwitch();
 * await sw.whileEnabled(signal); // resolves at once while enabled
 * const messages = await sw.receiving(() => receive());
 */
export class MappingSwitch {
  private on = true;
  private inFlight = 0;
  private waiting: (() => void)[] = [];
  /** Epoch seconds of the last change of state (or of the start). */
  lastModified = nowSeconds();

  get enabled(): boolean {
    return this.on;
  }

  get state(): SwitchState {
    return this.on ? 'Enabled' : this.inFlight > 0 ? 'Disabling' : 'Disabled';
  }

  /** Flips the switch; returns whether it changed. Enabling wakes the waiting pollers. */
  set(enabled: boolean): boolean {
    if (this.on === enabled) return false;
    this.on = enabled;
    this.lastModified = nowSeconds();
    if (enabled) this.wakeAll();
    return true;
  }

  /** Resolves once enabled (at once if it is), or when `signal` aborts. */
  async untilEnabled(signal: AbortSignal): Promise<void> {
    if (this.on || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const wake = () => {
        signal.removeEventListener('abort', wake);
        resolve();
      };
      this.waiting.push(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  /** Runs a receive, counted as in flight: the state is `Disabling` until it answers. */
  async receiving<T>(receive: () => Promise<T>): Promise<T> {
    this.inFlight += 1;
    try {
      return await receive();
    } finally {
      this.inFlight -= 1;
      if (!this.on && this.inFlight === 0) this.lastModified = nowSeconds();
    }
  }

  private wakeAll(): void {
    for (const wake of this.waiting.splice(0)) wake();
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

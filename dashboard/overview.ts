/**
 * The overview's data: what `tierq status --json` says, the richer activity figures where the
 * source has them, and a history of the last minutes for the charts — sampled by the server,
 * so every open page sees the same series and a reload does not start them over.
 */

import { asJson, readStatus } from '../cli/commands/status.js';
import type { Target } from '../cli/connect.js';
import type { ActivitySource, QueueActivity } from '../shared/monitoring/activity.js';

/** One point of the charts. */
export interface HistoryPoint {
  /** Epoch seconds. */
  readonly t: number;
  readonly tiers: Readonly<
    Record<string, { visible: number; inFlight: number; delayed: number; oldestAgeSeconds: number | null }>
  >;
  readonly dlq: number;
  readonly completedPerMinute: number | null;
  readonly failedPerMinute: number | null;
  readonly latencyP50Ms: number | null;
  readonly latencyP95Ms: number | null;
}

/** What `GET /api/overview` answers. */
export interface Overview {
  readonly description: string;
  readonly at: string;
  /** The document `tierq status --json` prints; sections added there (flow control) show up too. */
  readonly status: ReturnType<typeof asJson>;
  /** Per task, per tier, latency and alarms, as far as the activity source knows them. */
  readonly activity: QueueActivity | null;
  readonly history: readonly HistoryPoint[];
}

/** Options of {@link startOverview}. */
export interface OverviewOptions {
  readonly target: Target;
  /** Default 2 000. */
  readonly intervalMs?: number;
  /** Points kept: default 300 (10 minutes at 2 s). */
  readonly keep?: number;
  /**
   * How long an activity reading is reused. Default: the interval locally, 60 s on AWS
   * (CloudWatch has one point a minute, and each GetMetricData call is billed).
   */
  readonly activityRefreshMs?: number;
  /** Sampling pauses when no page asked for the overview for this long. Default 5 minutes. */
  readonly idleAfterMs?: number;
}

function cached(source: ActivitySource, ms: number): { read: ActivitySource; last(): QueueActivity | null } {
  let at = Number.NEGATIVE_INFINITY;
  let value: QueueActivity | undefined;
  return {
    read: async () => {
      if (Date.now() - at >= ms) {
        value = await source().catch(() => undefined);
        at = Date.now();
      }
      return value;
    },
    last: () => value ?? null,
  };
}

/**
 * Samples the target every `intervalMs` while a page is watching, and answers the overview.
 *
 * @example
 * const overview = startOverview({ target });
 * const doc = await overview.read();
 * overview.stop();
 */
export function startOverview(options: OverviewOptions): { read(): Promise<Overview>; stop(): void } {
  const { target } = options;
  const interval = options.intervalMs ?? 2_000;
  const keep = options.keep ?? 300;
  const local = target.connection.endpoints !== undefined;
  // What the dashboard adds on AWS (per-task figures, alarm states) joins the activity figures.
  const extra = target.dashboardActivity;
  const source: ActivitySource =
    extra === undefined
      ? target.activity
      : async () => {
          const [figures, more] = await Promise.all([target.activity(), extra().catch(() => undefined)]);
          return { ...figures, ...more };
        };
  const activity = cached(source, options.activityRefreshMs ?? (local ? interval : 60_000));
  const history: HistoryPoint[] = [];
  let latest: { at: string; status: Overview['status'] } | undefined;
  let watchedAt = 0;
  let sampling: Promise<void> | undefined;

  const sample = async () => {
    // What `tierq status --json` prints: queues, pauses and breakers (a part it cannot read is `{ error }`).
    const { s, paused, breakers } = await readStatus(target, activity.read);
    const a = activity.last();
    const at = new Date();
    latest = { at: at.toISOString(), status: asJson(s, paused, breakers) };
    history.push({
      t: Math.floor(at.getTime() / 1000),
      tiers: s.tiers,
      dlq: s.dlq.visible,
      completedPerMinute: s.perMinute?.completed ?? null,
      failedPerMinute: s.perMinute?.failed ?? null,
      latencyP50Ms: a?.latency?.p50Ms ?? null,
      latencyP95Ms: a?.latency?.p95Ms ?? null,
    });
    if (history.length > keep) history.splice(0, history.length - keep);
  };
  // One sample at a time; a caller that finds one running waits for it.
  const sampleOnce = () => {
    sampling ??= sample().finally(() => {
      sampling = undefined;
    });
    return sampling;
  };

  const timer = setInterval(() => {
    if (Date.now() - watchedAt < (options.idleAfterMs ?? 300_000)) void sampleOnce().catch(() => {});
  }, interval);
  timer.unref();

  return {
    async read() {
      const fresh = Date.now() - watchedAt < interval * 2 && latest !== undefined;
      watchedAt = Date.now();
      // The first look (or the first after a pause) samples at once; later ones get the timer's.
      if (!fresh) await sampleOnce();
      const current = latest as NonNullable<typeof latest>;
      return {
        description: target.description,
        at: current.at,
        status: current.status,
        activity: activity.last(),
        history,
      };
    },
    stop() {
      clearInterval(timer);
    },
  };
}

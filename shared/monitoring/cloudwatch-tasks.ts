import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import type { QueueActivity, TaskActivity } from './activity.js';

/** Options of {@link cloudWatchTaskActivity}. */
export interface CloudWatchTaskActivityOptions {
  readonly cloudwatch: Pick<CloudWatchClient, 'send'>;
  /** The consumer's metrics namespace. Default `tierq`. */
  readonly namespace?: string;
  readonly now?: () => number;
}

/** The consumer's count metrics behind each {@link TaskActivity} field. */
const COUNTS = {
  completed: 'TaskSucceeded',
  failed: 'TaskFailed',
  retried: 'TaskRetried',
  deadLettered: 'TaskDeadLettered',
  deferred: 'TaskDeferred',
} as const;

const LOOKBACK_MS = 10 * 60_000;

/** A CloudWatch dynamic label: each series of a SEARCH is labelled with its `task` dimension. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudWatch's label syntax, not a JavaScript template.
export const TASK_LABEL = "${PROP('Dim.task')}";

/**
 * The queries {@link cloudWatchTaskActivity} sends: one SEARCH per metric across the `task`
 * dimension, each series labelled with its task name (a dynamic label), per minute; sums of the
 * counts and p50/p95 of `TaskLatency`.
 *
 * @example
 * const queries = taskActivityQueries('tierq/orders-prod/Orders');
 */
export function taskActivityQueries(namespace: string): MetricDataQuery[] {
  // Quotes in the namespace would end the search string early; tierq's are plain names.
  const search = (id: string, metric: string, stat: string): MetricDataQuery => ({
    Id: id,
    Expression: `SEARCH('{${namespace},service,task} MetricName="${metric}"', '${stat}', 60)`,
    Label: TASK_LABEL,
    Period: 60,
  });
  return [
    ...Object.entries(COUNTS).map(([field, metric]) => search(field, metric, 'Sum')),
    search('p50', 'TaskLatency', 'p50'),
    search('p95', 'TaskLatency', 'p95'),
  ];
}

/**
 * Per task, from CloudWatch (one GetMetricData call): the consumer's counts and latency
 * percentiles in the latest minute that has data — what the local stack's monitor file gives the
 * dashboard. CloudWatch's figures lag by a minute or two.
 *
 * @example
 * ```ts
 * const tasks = cloudWatchTaskActivity({ cloudwatch: new CloudWatchClient({ region }), namespace });
 * const { perTask } = await tasks();
 * ```
 */
export function cloudWatchTaskActivity(
  options: CloudWatchTaskActivityOptions,
): () => Promise<Pick<QueueActivity, 'perTask' | 'windowSeconds'>> {
  const now = options.now ?? Date.now;
  return async () => {
    const end = now();
    const results: MetricDataResult[] = [];
    let NextToken: string | undefined;
    do {
      const page = await options.cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: taskActivityQueries(options.namespace ?? 'tierq'),
          StartTime: new Date(end - LOOKBACK_MS),
          EndTime: new Date(end),
          ScanBy: 'TimestampDescending',
          NextToken,
        }),
      );
      results.push(...(page.MetricDataResults ?? []));
      NextToken = page.NextToken;
    } while (NextToken !== undefined);
    // A SEARCH answers one result per task under the query's id, labelled with the task's name.
    const latest = (id: string, task: string): number | null =>
      results.find((r) => r.Id === id && r.Label === task)?.Values?.[0] ?? null;
    const tasks = [...new Set(results.map((r) => r.Label).filter((l): l is string => !!l))].sort();
    const perTask: Record<string, TaskActivity> = {};
    for (const task of tasks) {
      const counts = Object.fromEntries(
        Object.keys(COUNTS).map((field) => [field, latest(field, task) ?? 0]),
      ) as Record<keyof typeof COUNTS, number>;
      perTask[task] = {
        ...counts,
        latency: { p50Ms: latest('p50', task), p95Ms: latest('p95', task), count: counts.completed },
      };
    }
    return { perTask, windowSeconds: 60 };
  };
}

import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { ActivitySource, QueueActivity } from './activity.js';

/** Options of {@link cloudWatchActivity}. */
export interface CloudWatchActivityOptions {
  readonly cloudwatch: Pick<CloudWatchClient, 'send'>;
  /** Queue URL of each tier. */
  readonly queues: Readonly<Record<string, string>>;
  /** The consumer's metrics namespace (POWERTOOLS_METRICS_NAMESPACE). Default `tierq`. */
  readonly namespace?: string;
  readonly now?: () => number;
}

/** SQS publishes queue metrics once a minute; look back far enough to find the latest point. */
const LOOKBACK_MS = 10 * 60_000;

/**
 * The metric queries {@link cloudWatchActivity} sends: the maximum `ApproximateAgeOfOldestMessage`
 * of each tier queue, and the consumer's `TaskSucceeded`/`TaskFailed` summed over every task
 * (SEARCH across the `task` dimension), each per minute.
 *
 * @example
 * ```ts
 * const queries = activityQueries({ high: highUrl }, 'tierq');
 * ```
 */
export function activityQueries(
  queues: Readonly<Record<string, string>>,
  namespace: string,
): MetricDataQuery[] {
  const tierQueries = Object.values(queues).map(
    (url, i): MetricDataQuery => ({
      Id: `age${i}`,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateAgeOfOldestMessage',
          Dimensions: [{ Name: 'QueueName', Value: url.slice(url.lastIndexOf('/') + 1) }],
        },
        Period: 60,
        Stat: 'Maximum',
      },
    }),
  );
  // Quotes in the namespace would end the search string early; tierq's are plain names.
  const sum = (id: string, metric: string): MetricDataQuery => ({
    Id: id,
    Expression: `SUM(SEARCH('{${namespace},service,task} MetricName="${metric}"', 'Sum', 60))`,
    Period: 60,
  });
  return [...tierQueries, sum('completed', 'TaskSucceeded'), sum('failed', 'TaskFailed')];
}

/**
 * Oldest message age per tier and tasks completed/failed in the latest whole minute, from
 * CloudWatch (one GetMetricData call). CloudWatch's figures lag by a minute or two.
 *
 * @example
 * ```ts
 * const activity = cloudWatchActivity({ cloudwatch: new CloudWatchClient({ region }), queues });
 * const info = await snapshot({ sqs, queues, dlqUrl, activity });
 * ```
 */
export function cloudWatchActivity(options: CloudWatchActivityOptions): ActivitySource {
  const now = options.now ?? Date.now;
  const tiers = Object.keys(options.queues);
  return async (): Promise<QueueActivity> => {
    const end = now();
    const { MetricDataResults = [] } = await options.cloudwatch.send(
      new GetMetricDataCommand({
        MetricDataQueries: activityQueries(options.queues, options.namespace ?? 'tierq'),
        StartTime: new Date(end - LOOKBACK_MS),
        EndTime: new Date(end),
        ScanBy: 'TimestampDescending',
      }),
    );
    const latest = (id: string): number | null => {
      const value = MetricDataResults.find((r) => r.Id === id)?.Values?.[0];
      return value === undefined ? null : value;
    };
    const oldestAgeSeconds: Record<string, number | null> = {};
    tiers.forEach((tier, i) => {
      oldestAgeSeconds[tier] = latest(`age${i}`);
    });
    return {
      oldestAgeSeconds,
      perMinute: { completed: latest('completed') ?? 0, failed: latest('failed') ?? 0 },
    };
  };
}

import { GetMetricDataCommand, type GetMetricDataCommandOutput } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { activityQueries, cloudWatchActivity } from '../../../../shared/monitoring/cloudwatch-activity.js';

const queues = {
  high: 'https://sqs.eu-west-1.amazonaws.com/123456789012/tierq-prod-High',
  low: 'https://sqs.eu-west-1.amazonaws.com/123456789012/tierq-prod-Low',
};

describe('activityQueries', () => {
  it('asks for each queue age by QueueName and sums task metrics across the task dimension', () => {
    const queries = activityQueries(queues, 'tierq');
    expect(queries[0]?.MetricStat?.Metric?.Dimensions).toEqual([
      { Name: 'QueueName', Value: 'tierq-prod-High' },
    ]);
    expect(queries[0]?.MetricStat?.Stat).toBe('Maximum');
    expect(queries.find((q) => q.Id === 'completed')?.Expression).toBe(
      `SUM(SEARCH('{tierq,service,task} MetricName="TaskSucceeded"', 'Sum', 60))`,
    );
    expect(queries.find((q) => q.Id === 'failed')?.Expression).toContain('MetricName="TaskFailed"');
  });
});

describe('cloudWatchActivity', () => {
  it('maps the newest data point of each query; no data is null age and zero counts', async () => {
    const sent: unknown[] = [];
    const cloudwatch = {
      send: async (command: unknown) => {
        sent.push(command);
        return {
          MetricDataResults: [
            { Id: 'age0', Values: [42, 30] },
            { Id: 'age1', Values: [] },
            { Id: 'completed', Values: [120] },
          ],
        } as unknown as GetMetricDataCommandOutput;
      },
    };
    const activity = cloudWatchActivity({
      cloudwatch: cloudwatch as never,
      queues,
      now: () => 1_800_000_000_000,
    });
    expect(await activity()).toEqual({
      oldestAgeSeconds: { high: 42, low: null },
      perMinute: { completed: 120, failed: 0 },
    });
    const command = sent[0] as GetMetricDataCommand;
    expect(command).toBeInstanceOf(GetMetricDataCommand);
    expect(command.input.ScanBy).toBe('TimestampDescending');
    expect(command.input.EndTime).toEqual(new Date(1_800_000_000_000));
  });
});

import type { GetMetricDataCommand, GetMetricDataCommandOutput } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import {
  cloudWatchTaskActivity,
  TASK_LABEL,
  taskActivityQueries,
} from '../../../../shared/monitoring/cloudwatch-tasks.js';

describe('taskActivityQueries', () => {
  it('searches each metric across the task dimension, labelled by task, with percentiles for latency', () => {
    const queries = taskActivityQueries('tierq/prod/Orders');
    expect(queries.map((q) => q.Id)).toEqual([
      'completed',
      'failed',
      'retried',
      'deadLettered',
      'deferred',
      'p50',
      'p95',
    ]);
    expect(queries[0]?.Expression).toBe(
      `SEARCH('{tierq/prod/Orders,service,task} MetricName="TaskSucceeded"', 'Sum', 60)`,
    );
    expect(queries.find((q) => q.Id === 'p95')?.Expression).toBe(
      `SEARCH('{tierq/prod/Orders,service,task} MetricName="TaskLatency"', 'p95', 60)`,
    );
    expect(new Set(queries.map((q) => q.Label))).toEqual(new Set([TASK_LABEL]));
  });
});

describe('cloudWatchTaskActivity', () => {
  it("maps each task's newest points over every page; a task with no point of a metric has 0 or null", async () => {
    const pages: Partial<GetMetricDataCommandOutput>[] = [
      {
        MetricDataResults: [
          { Id: 'completed', Label: 'send-email', Values: [30, 12] },
          { Id: 'completed', Label: 'charge', Values: [5] },
          { Id: 'failed', Label: 'charge', Values: [2] },
        ],
        NextToken: 'more',
      },
      {
        MetricDataResults: [
          { Id: 'p50', Label: 'send-email', Values: [120] },
          { Id: 'p95', Label: 'send-email', Values: [900] },
          { Id: 'p50', Label: 'charge', Values: [] },
        ],
      },
    ];
    const sent: GetMetricDataCommand[] = [];
    const cloudwatch = {
      send: async (command: GetMetricDataCommand) => {
        sent.push(command);
        return pages[sent.length - 1] as GetMetricDataCommandOutput;
      },
    };
    const activity = await cloudWatchTaskActivity({
      cloudwatch: cloudwatch as never,
      namespace: 'tierq',
      now: () => 1_800_000_000_000,
    })();
    expect(activity).toEqual({
      windowSeconds: 60,
      perTask: {
        charge: {
          completed: 5,
          failed: 2,
          retried: 0,
          deadLettered: 0,
          deferred: 0,
          latency: { p50Ms: null, p95Ms: null, count: 5 },
        },
        'send-email': {
          completed: 30,
          failed: 0,
          retried: 0,
          deadLettered: 0,
          deferred: 0,
          latency: { p50Ms: 120, p95Ms: 900, count: 30 },
        },
      },
    });
    expect(sent.map((c) => c.input.NextToken)).toEqual([undefined, 'more']);
    expect(sent[0]?.input.EndTime).toEqual(new Date(1_800_000_000_000));
  });
});

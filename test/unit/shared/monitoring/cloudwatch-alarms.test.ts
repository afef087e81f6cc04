import { DescribeAlarmsCommand, type DescribeAlarmsCommandOutput } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { cloudWatchAlarmStates } from '../../../../shared/monitoring/cloudwatch-alarms.js';

describe('cloudWatchAlarmStates', () => {
  it("reads every page of the stack's alarms by name prefix, metric and composite alike", async () => {
    const sent: DescribeAlarmsCommand[] = [];
    const pages: Partial<DescribeAlarmsCommandOutput>[] = [
      {
        MetricAlarms: [
          { AlarmName: 'tierq-prod-TaskQueueDeadLetterAlarmDB7F389F-1AB', StateValue: 'ALARM' },
          { AlarmName: 'tierq-prod-TaskQueueHighAgeAlarmFB7655B9-2CD', StateValue: 'OK' },
        ],
        NextToken: 'page-2',
      },
      { MetricAlarms: [{ AlarmName: 'tierq-prod-TaskQueueConsumerErrorsAlarm-3EF' }], CompositeAlarms: [] },
    ];
    const cloudwatch = {
      send: async (command: DescribeAlarmsCommand) => {
        sent.push(command);
        return pages[sent.length - 1] as DescribeAlarmsCommandOutput;
      },
    };
    const states = await cloudWatchAlarmStates({
      cloudwatch: cloudwatch as never,
      alarmNamePrefix: 'tierq-prod-',
    })();
    expect(states).toEqual({
      'tierq-prod-TaskQueueDeadLetterAlarmDB7F389F-1AB': 'ALARM',
      'tierq-prod-TaskQueueHighAgeAlarmFB7655B9-2CD': 'OK',
      'tierq-prod-TaskQueueConsumerErrorsAlarm-3EF': 'INSUFFICIENT_DATA',
    });
    expect(sent.every((c) => c instanceof DescribeAlarmsCommand)).toBe(true);
    expect(sent.map((c) => [c.input.AlarmNamePrefix, c.input.NextToken])).toEqual([
      ['tierq-prod-', undefined],
      ['tierq-prod-', 'page-2'],
    ]);
  });
});

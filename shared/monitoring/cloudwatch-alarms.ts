import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';

/** Options of {@link cloudWatchAlarmStates}. */
export interface CloudWatchAlarmStatesOptions {
  readonly cloudwatch: Pick<CloudWatchClient, 'send'>;
  /**
   * Alarms whose name starts with this: `<stack name>-` takes a stack's alarms, as CloudFormation
   * names alarms the template leaves unnamed (TaskQueue names none).
   */
  readonly alarmNamePrefix: string;
}

/**
 * Reads alarm states with DescribeAlarms (every page), by alarm name: `OK`, `ALARM` or
 * `INSUFFICIENT_DATA`.
 *
 * @example
 * ```ts
 * const states = await cloudWatchAlarmStates({ cloudwatch, alarmNamePrefix: 'tierq-prod-' })();
 * // { 'tierq-prod-TaskQueueDeadLetterAlarmDB7F389F-1A2B3C': 'OK', … }
 * ```
 */
export function cloudWatchAlarmStates(
  options: CloudWatchAlarmStatesOptions,
): () => Promise<Record<string, string>> {
  return async () => {
    const states: Record<string, string> = {};
    let NextToken: string | undefined;
    do {
      const page = await options.cloudwatch.send(
        new DescribeAlarmsCommand({
          AlarmNamePrefix: options.alarmNamePrefix,
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          NextToken,
        }),
      );
      for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
        if (alarm.AlarmName !== undefined) states[alarm.AlarmName] = alarm.StateValue ?? 'INSUFFICIENT_DATA';
      }
      NextToken = page.NextToken;
    } while (NextToken !== undefined);
    return states;
  };
}

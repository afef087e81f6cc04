import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { StackAssembly } from './assembly.js';
import { localClientConfig } from './emulators.js';
import type { LocalResource, Resolve } from './intrinsics.js';

/** A CloudWatch alarm on a local queue's visible-message count, evaluated against the emulator. */
export interface QueueDepthAlarm {
  readonly logicalId: string;
  readonly queueUrl: string;
  readonly queueName: string;
  readonly threshold: number;
  readonly comparisonOperator: string;
}

/** Alarm states as CloudWatch names them; INSUFFICIENT_DATA is never reached locally. */
export type AlarmState = 'OK' | 'ALARM';

const COMPARE: Record<string, (value: number, threshold: number) => boolean> = {
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  GreaterThanThreshold: (v, t) => v > t,
  LessThanThreshold: (v, t) => v < t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
};

const SYMBOL: Record<string, string> = {
  GreaterThanOrEqualToThreshold: '>=',
  GreaterThanThreshold: '>',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '<=',
};

/**
 * Splits the template's alarms into those the runner can evaluate (AWS/SQS
 * `ApproximateNumberOfMessagesVisible` on a local queue, e.g. the DLQ alarm) and the others.
 *
 * @example
 * const { alarms, others } = readQueueDepthAlarms(stack, local.resolve, local.resources);
 */
export function readQueueDepthAlarms(
  stack: StackAssembly,
  resolve: Resolve,
  resources: ReadonlyMap<string, LocalResource>,
): { alarms: QueueDepthAlarm[]; others: string[] } {
  const alarms: QueueDepthAlarm[] = [];
  const others: string[] = [];
  const queues = [...resources.values()].filter((r) => r.type === 'AWS::SQS::Queue');
  for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
    if (resource.Type !== 'AWS::CloudWatch::Alarm') continue;
    const p = resource.Properties ?? {};
    const dimensions = (p.Dimensions as { Name: string; Value: unknown }[] | undefined) ?? [];
    const queueDimension = dimensions.find((d) => d.Name === 'QueueName');
    const queueName =
      queueDimension === undefined
        ? undefined
        : String(resolve(queueDimension.Value, `${logicalId} Dimensions`));
    const queue = queues.find((q) => q.attributes.QueueName === queueName);
    const comparisonOperator = String(p.ComparisonOperator);
    if (
      p.Namespace !== 'AWS/SQS' ||
      p.MetricName !== 'ApproximateNumberOfMessagesVisible' ||
      queue === undefined ||
      COMPARE[comparisonOperator] === undefined
    ) {
      others.push(logicalId);
      continue;
    }
    alarms.push({
      logicalId,
      queueUrl: queue.ref,
      queueName: queue.attributes.QueueName ?? queue.ref,
      threshold: Number(p.Threshold),
      comparisonOperator,
    });
  }
  return { alarms, others };
}

/** Options for {@link startAlarmEvaluation}. */
export interface AlarmEvaluationOptions {
  readonly alarms: readonly QueueDepthAlarm[];
  readonly region: string;
  readonly sqsEndpoint: string;
  /** How often queue depth is read. Default 3 s. */
  readonly intervalMs?: number;
  /** Called with a readable line whenever an alarm would change state. */
  readonly onChange: (line: string, alarm: QueueDepthAlarm, state: AlarmState) => void;
}

/**
 * Evaluates queue-depth alarms every few seconds and reports state changes (OK → ALARM and
 * back). Period and evaluation periods are not simulated: the state follows the latest reading,
 * so locally an alarm fires sooner than on AWS, never later.
 *
 * @example
 * const evaluation = startAlarmEvaluation({ alarms, region, sqsEndpoint, onChange: console.log });
 * evaluation.stop();
 */
export function startAlarmEvaluation(options: AlarmEvaluationOptions): {
  states(): Readonly<Record<string, AlarmState>>;
  stop(): void;
} {
  const sqs = new SQSClient({ ...localClientConfig(options.sqsEndpoint), region: options.region });
  const states: Record<string, AlarmState> = {};
  for (const alarm of options.alarms) states[alarm.logicalId] = 'OK';
  let busy = false;
  const evaluate = async () => {
    if (busy) return;
    busy = true;
    try {
      for (const alarm of options.alarms) {
        const { Attributes } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: alarm.queueUrl,
            AttributeNames: ['ApproximateNumberOfMessages'],
          }),
        );
        const visible = Number(Attributes?.ApproximateNumberOfMessages ?? 0);
        const state: AlarmState = COMPARE[alarm.comparisonOperator]?.(visible, alarm.threshold)
          ? 'ALARM'
          : 'OK';
        if (state !== states[alarm.logicalId]) {
          const rule = `${visible} visible on ${alarm.queueName}, threshold ${SYMBOL[alarm.comparisonOperator]} ${alarm.threshold}`;
          options.onChange(
            `alarm ${alarm.logicalId}: ${states[alarm.logicalId]} → ${state} (${rule})`,
            alarm,
            state,
          );
          states[alarm.logicalId] = state;
        }
      }
    } catch {
      // The emulator is going away or briefly busy; the next tick tries again.
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void evaluate(), options.intervalMs ?? 3_000);
  timer.unref();
  return {
    states: () => states,
    stop() {
      clearInterval(timer);
      sqs.destroy();
    },
  };
}

import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';

/** Deployment stages and what each one changes. */
export const STAGES = {
  dev: {
    removalPolicy: RemovalPolicy.DESTROY,
    logRetention: logs.RetentionDays.ONE_WEEK,
    queueRetention: Duration.days(4),
    tableDeletionProtection: false,
  },
  prod: {
    removalPolicy: RemovalPolicy.RETAIN,
    logRetention: logs.RetentionDays.THREE_MONTHS,
    queueRetention: Duration.days(14),
    tableDeletionProtection: true,
  },
} as const;
export type Stage = keyof typeof STAGES;

const positiveInt = z.coerce.number().int().positive();

/** Context keys the app reads (`-c key=value` or cdk.json "context"). */
const contextSchema = z.object({
  stage: z.enum(['dev', 'prod']).default('dev'),
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'a CloudFormation stack name')
    .optional(),
  alarmEmail: z.email().optional(),
  consumerConcurrency: positiveInt.optional(),
  maxReceiveCount: positiveInt.max(1000).optional(),
  dlqAlarmThreshold: positiveInt.optional(),
  consumerTimeoutSeconds: positiveInt.max(900).optional(),
});

/** The validated deployment configuration. */
export interface AppConfig {
  readonly stage: Stage;
  readonly stackName: string;
  readonly alarmEmail: string | undefined;
  readonly consumerConcurrency: number | undefined;
  readonly maxReceiveCount: number | undefined;
  readonly dlqAlarmThreshold: number | undefined;
  readonly consumerTimeoutSeconds: number | undefined;
}

/**
 * Validates CDK context once, where it enters, and throws one readable error listing every
 * bad key.
 *
 * @example
 * const config = parseAppConfig((key) => app.node.tryGetContext(key));
 */
export function parseAppConfig(get: (key: string) => unknown): AppConfig {
  const raw = Object.fromEntries(
    Object.keys(contextSchema.shape)
      .map((key) => [key, get(key)] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = contextSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `-c ${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`tierq: invalid CDK context: ${problems}`);
  }
  const c = parsed.data;
  return {
    stage: c.stage,
    stackName: c.stackName ?? `tierq-${c.stage}`,
    alarmEmail: c.alarmEmail,
    consumerConcurrency: c.consumerConcurrency,
    maxReceiveCount: c.maxReceiveCount,
    dlqAlarmThreshold: c.dlqAlarmThreshold,
    consumerTimeoutSeconds: c.consumerTimeoutSeconds,
  };
}

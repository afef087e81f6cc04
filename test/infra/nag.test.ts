import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAppConfig } from '../../infra/config.js';
import { TierqStack } from '../../infra/tierq-stack.js';

interface Report {
  pluginReports: { violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
}

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

/** Synthesizes the stack under the AwsSolutions pack; returns every unacknowledged finding. */
function nagFindings(context: Record<string, string>, runtime?: lambda.Runtime): string[] {
  const outdir = mkdtempSync(join(tmpdir(), 'tierq-nag-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  const config = parseAppConfig((k) => app.node.tryGetContext(k));
  new TierqStack(app, config.stackName, {
    config,
    env: { account: '123456789012', region: 'us-east-1' },
    ...(runtime ? { taskQueue: { consumerRuntime: runtime } } : {}),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
    return [];
  } catch {
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as Report;
    return report.pluginReports.flatMap((p) =>
      p.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`)),
    );
  }
}

describe('cdk-nag AwsSolutions pack', () => {
  it('finds nothing unacknowledged in the dev stack', () => {
    expect(nagFindings({ stage: 'dev' })).toEqual([]);
  });

  it('finds nothing unacknowledged in the prod stack with an alarm email', () => {
    expect(nagFindings({ stage: 'prod', alarmEmail: 'ops@example.com' })).toEqual([]);
  });

  it('still reports what is not acknowledged (the check can fail)', () => {
    // The L1 acknowledgement covers only the Node.js 22 default; an older runtime is flagged.
    expect(nagFindings({ stage: 'dev' }, lambda.Runtime.NODEJS_20_X)).toContain(
      'AwsSolutions-L1 at tierq-dev/TaskQueue/Consumer/Resource',
    );
  });
});

import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseAppConfig } from '../../infra/config.js';
import { TierqStack, type TierqStackProps } from '../../infra/tierq-stack.js';

/**
 * Synthesizes a TierqStack for assertions. Bundling is skipped (the template is what is under
 * test); pass `bundle: true` to exercise esbuild too.
 */
export function synthStack(
  context: Record<string, string> = {},
  extra: Partial<TierqStackProps> = {},
  bundle = false,
): { stack: TierqStack; template: Template } {
  const app = new App({ context: bundle ? context : { ...context, 'aws:cdk:bundling-stacks': [] } });
  const config = parseAppConfig((key) => app.node.tryGetContext(key));
  const stack = new TierqStack(app, config.stackName, {
    config,
    env: { account: '123456789012', region: 'us-east-1' },
    ...extra,
  });
  return { stack, template: Template.fromStack(stack) };
}

/** Every IAM-style statement in a template: IAM policies, managed policies, resource and key policies. */
export function allStatements(
  template: Template,
): { resource: string; statement: Record<string, unknown> }[] {
  const out: { resource: string; statement: Record<string, unknown> }[] = [];
  for (const [id, res] of Object.entries(
    template.toJSON().Resources as Record<string, { Properties?: Record<string, unknown> }>,
  )) {
    const p = res.Properties ?? {};
    const doc = (p.PolicyDocument ?? p.KeyPolicy) as { Statement?: Record<string, unknown>[] } | undefined;
    for (const statement of doc?.Statement ?? []) out.push({ resource: id, statement });
  }
  return out;
}

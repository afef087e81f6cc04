/**
 * Turns the runtime's declaration of what each component calls (shared/declaration.ts) into CDK
 * grants and policy statements. This is the only place the construct grants AWS access: no
 * action list is written here, so code and grants cannot drift apart.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { type AccessResources, accessStatements, type Component } from '../../shared/declaration.js';

/**
 * The declared statements of `component` for one deployment, as CDK policy statements.
 *
 * @example
 * new iam.ManagedPolicy(this, 'ProducerPolicy', { statements: accessPolicyStatements('producer', resources) });
 */
export function accessPolicyStatements(
  component: Component,
  resources: AccessResources,
): iam.PolicyStatement[] {
  return accessStatements(component, resources).map((json) => iam.PolicyStatement.fromJson(json));
}

/**
 * Grants `grantee` exactly the declared access of `component`, one statement per rule.
 *
 * @example
 * grantAccess(consumerFunction, 'consumer', resources);
 */
export function grantAccess(
  grantee: iam.IGrantable,
  component: Component,
  resources: AccessResources,
): iam.Grant {
  const grants = accessStatements(component, resources).map((s) =>
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...s.Action],
      resourceArns: [...s.Resource],
      ...(s.Condition === undefined
        ? {}
        : { conditions: s.Condition as Record<string, Record<string, unknown>> }),
    }),
  );
  // An imported, immutable role takes no statements: say so instead of deploying without them.
  for (const grant of grants) grant.assertSuccess();
  return grants.reduce((all, grant) => all.combine(grant));
}

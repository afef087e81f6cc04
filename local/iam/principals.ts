/**
 * Who may do what in the local stack, read from the synthesized template as IAM would see it:
 * each role with the policies attached to it (inline, `AWS::IAM::Policy`, managed), each managed
 * policy as a principal that holds only that policy (a producer or operator role), and the queue
 * policies as resource policies. Each principal gets its own local access key, which is how the
 * gateway knows who sent a request.
 */
import { createHash } from 'node:crypto';
import type { CfnTemplate } from '../assembly.js';
import { LocalResolveError, type Resolve } from '../intrinsics.js';

/** An IAM policy document as JSON, intrinsics resolved to local values. */
export type PolicyDocument = {
  readonly Version?: string;
  readonly Statement: readonly Record<string, unknown>[];
};

/** One principal of the local stack and the identity policies it holds. */
export interface LocalPrincipal {
  /** Logical id of the role, or of the managed policy the principal holds alone. */
  readonly logicalId: string;
  readonly kind: 'role' | 'managed-policy-holder';
  /** The assumed-role session ARN requests are evaluated as. */
  readonly arn: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly policies: readonly { readonly name: string; readonly policy: PolicyDocument }[];
}

/** Everything IAM evaluation needs from one template. */
export interface LocalIam {
  readonly accountId: string;
  readonly principals: readonly LocalPrincipal[];
  /** Resource policies by resource ARN (queue policies). */
  readonly resourcePolicies: ReadonlyMap<string, PolicyDocument>;
  /** Policy references the local stack could not resolve (e.g. an AWS managed policy). */
  readonly unresolved: readonly string[];
}

/** The secret every local key shares: the gateway identifies callers, it does not verify signatures. */
const LOCAL_SECRET = 'tierq-local';

/**
 * A stable access key id per principal, so `.tierq/local.json` does not change between starts.
 *
 * @example
 * localAccessKeyId('tierq-dev', 'TaskQueueProducerPolicyF2A4C5F7'); // 'AKIALOCAL3F9A…'
 */
export function localAccessKeyId(stackName: string, logicalId: string): string {
  const digest = createHash('sha256').update(`${stackName}/${logicalId}`).digest('hex').toUpperCase();
  return `AKIALOCAL${digest.slice(0, 11)}`;
}

/**
 * Reads the template's principals and resource policies, resolving ARNs with `resolve`. A
 * resource the local stack does not create (a log group) resolves to an ARN no local request
 * names, so the statement simply never applies here.
 *
 * @example
 * const iam = readLocalIam(stack.template, local.resolve, { stackName, accountId: local.pseudo.accountId });
 */
export function readLocalIam(
  template: CfnTemplate,
  resolve: Resolve,
  names: { readonly stackName: string; readonly accountId: string },
): LocalIam {
  const unresolved: string[] = [];
  const resources = template.Resources;
  const document = (value: unknown, where: string): PolicyDocument => {
    const doc = value as { Version?: string; Statement?: unknown };
    const statements = [doc?.Statement ?? []].flat() as Record<string, unknown>[];
    return {
      ...(doc?.Version === undefined ? {} : { Version: doc.Version }),
      Statement: statements.map((s, i) => resolveStatement(s, resolve, `${where} Statement[${i}]`)),
    };
  };
  const refersTo = (list: unknown, logicalId: string) =>
    [list ?? []].flat().some((ref) => (ref as { Ref?: unknown })?.Ref === logicalId);

  const managed = new Map<string, PolicyDocument>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::IAM::ManagedPolicy') managed.set(id, document(r.Properties?.PolicyDocument, id));
  }

  const principals: LocalPrincipal[] = [];
  const session = (roleName: string) => `arn:aws:sts::${names.accountId}:assumed-role/${roleName}/local`;
  for (const [roleId, role] of Object.entries(resources)) {
    if (role.Type !== 'AWS::IAM::Role') continue;
    const props = role.Properties ?? {};
    const policies: { name: string; policy: PolicyDocument }[] = [];
    for (const [i, inline] of ([props.Policies ?? []].flat() as Record<string, unknown>[]).entries()) {
      policies.push({
        name: String(inline.PolicyName ?? `${roleId}-inline-${i}`),
        policy: document(inline.PolicyDocument, roleId),
      });
    }
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type === 'AWS::IAM::Policy' && refersTo(r.Properties?.Roles, roleId)) {
        policies.push({ name: id, policy: document(r.Properties?.PolicyDocument, id) });
      }
      if (r.Type === 'AWS::IAM::ManagedPolicy' && refersTo(r.Properties?.Roles, roleId)) {
        policies.push({ name: id, policy: managed.get(id) as PolicyDocument });
      }
    }
    for (const arn of [props.ManagedPolicyArns ?? []].flat()) {
      const ref = (arn as { Ref?: string })?.Ref;
      const policy = ref === undefined ? undefined : managed.get(ref);
      if (policy === undefined) unresolved.push(`${roleId} ManagedPolicyArns ${JSON.stringify(arn)}`);
      else policies.push({ name: ref as string, policy });
    }
    principals.push({
      logicalId: roleId,
      kind: 'role',
      arn: session(typeof props.RoleName === 'string' ? props.RoleName : roleId),
      credentials: { accessKeyId: localAccessKeyId(names.stackName, roleId), secretAccessKey: LOCAL_SECRET },
      policies,
    });
  }
  for (const [policyId, policy] of managed) {
    principals.push({
      logicalId: policyId,
      kind: 'managed-policy-holder',
      arn: session(`holder-of-${policyId}`),
      credentials: {
        accessKeyId: localAccessKeyId(names.stackName, policyId),
        secretAccessKey: LOCAL_SECRET,
      },
      policies: [{ name: policyId, policy }],
    });
  }

  const resourcePolicies = new Map<string, PolicyDocument>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::SQS::QueuePolicy') continue;
    const policy = document(r.Properties?.PolicyDocument, id);
    for (const [i, queue] of [r.Properties?.Queues ?? []].flat().entries()) {
      // A queue policy names its queues by URL; the request names the queue's ARN.
      const ref = (queue as { Ref?: string })?.Ref;
      try {
        const arn =
          ref === undefined ? undefined : resolve({ 'Fn::GetAtt': [ref, 'Arn'] }, `${id} Queues[${i}]`);
        if (typeof arn === 'string') resourcePolicies.set(arn, policy);
      } catch (error) {
        if (!(error instanceof LocalResolveError)) throw error;
        unresolved.push(error.message);
      }
    }
  }
  return { accountId: names.accountId, principals, resourcePolicies, unresolved };
}

/** Resolves one statement; a resource the local stack lacks becomes an ARN nothing local matches. */
function resolveStatement(
  statement: Record<string, unknown>,
  resolve: Resolve,
  where: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(statement)) {
    if (key === 'Resource' || key === 'NotResource') {
      out[key] = [value].flat().map((v, i) => {
        try {
          return resolve(v, `${where}.${key}[${i}]`);
        } catch (error) {
          if (!(error instanceof LocalResolveError)) throw error;
          return `arn:aws:tierq-local:::not-created-locally/${i}`;
        }
      });
    } else {
      out[key] = resolve(value, `${where}.${key}`);
    }
  }
  return out;
}

/**
 * Ties the template's IAM to the local stack's resources: which principal each function runs as,
 * which principals stand for the stack's producer and operator policies (by the outputs that name
 * them), and how request names map to the resource ARNs the policies use.
 */
import { StackOutput } from '../../shared/declaration.js';
import type { StackAssembly } from '../assembly.js';
import type { LocalResource } from '../intrinsics.js';
import type { LocalIam, LocalPrincipal } from './principals.js';
import type { ResourceArns } from './requests.js';

/** Local keys of the principals a producer and an operator use, when the template defines them. */
export interface LocalPrincipalKeys {
  readonly producer?: LocalPrincipal['credentials'];
  readonly operator?: LocalPrincipal['credentials'];
}

/**
 * The principal a function runs as: the role its `Role` property names.
 *
 * @example
 * const role = functionPrincipal(stack, 'TaskQueueConsumer956A21A7', iam);
 */
export function functionPrincipal(
  stack: StackAssembly,
  functionId: string,
  iam: LocalIam,
): LocalPrincipal | undefined {
  const role = stack.template.Resources[functionId]?.Properties?.Role as
    | { 'Fn::GetAtt'?: unknown[] }
    | undefined;
  const roleId = role?.['Fn::GetAtt']?.[0];
  return iam.principals.find((p) => p.logicalId === roleId);
}

/**
 * What `Ref` returns for a managed policy on AWS, its ARN: the local stack registers one per
 * `AWS::IAM::ManagedPolicy`, so outputs naming a policy (a queue's own output) resolve.
 *
 * @example
 * registerManagedPolicies(stack, local.resources, local.pseudo.accountId);
 */
export function registerManagedPolicies(
  stack: StackAssembly,
  resources: Map<string, LocalResource>,
  accountId: string,
): void {
  for (const [id, r] of Object.entries(stack.template.Resources)) {
    if (r.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const arn = `arn:aws:iam::${accountId}:policy/${id}`;
    resources.set(id, { logicalId: id, type: r.Type, ref: arn, attributes: { PolicyArn: arn } });
  }
}

/**
 * The keys of the principal holding the managed policy with this (local) ARN.
 *
 * @example
 * const producer = policyHolderKeys(descriptor.producerPolicyArn, iam);
 */
export function policyHolderKeys(
  policyArn: string,
  iam: LocalIam,
): LocalPrincipal['credentials'] | undefined {
  const logicalId = policyArn.slice(policyArn.lastIndexOf('/') + 1);
  return iam.principals.find((p) => p.kind === 'managed-policy-holder' && p.logicalId === logicalId)
    ?.credentials;
}

/**
 * The producer's and operator's keys: the holders of the managed policies the stack's
 * `ProducerPolicyArn` and `OperatorPolicyArn` outputs name.
 *
 * @example
 * const { producer } = outputPrincipals(stack, iam);
 */
export function outputPrincipals(stack: StackAssembly, iam: LocalIam): LocalPrincipalKeys {
  const holder = (output: string) => {
    const ref = (stack.template.Outputs?.[output]?.Value as { Ref?: string } | undefined)?.Ref;
    return iam.principals.find((p) => p.kind === 'managed-policy-holder' && p.logicalId === ref)?.credentials;
  };
  const producer = holder(StackOutput.producerPolicyArn);
  const operator = holder(StackOutput.operatorPolicyArn);
  return { ...(producer ? { producer } : {}), ...(operator ? { operator } : {}) };
}

/**
 * Request names → ARNs, as the provisioned resources know them (DynamoDB Local's table ARNs name
 * its own region); names of resources the stack did not create get the ARN AWS would give them.
 *
 * @example
 * const arns = localResourceArns(stack, local.resources, { region, accountId });
 */
export function localResourceArns(
  stack: StackAssembly,
  resources: ReadonlyMap<string, LocalResource>,
  where: { readonly region: string; readonly accountId: string },
): ResourceArns {
  const queues = new Map<string, string>();
  type KeySchema = { AttributeName: string; KeyType: string }[] | undefined;
  const hashKey = (schema: KeySchema) => schema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
  const tables = new Map<
    string,
    { arn: string; partitionKey: string | undefined; indexes: Map<string, string> }
  >();
  for (const r of resources.values()) {
    if (r.type === 'AWS::SQS::Queue') queues.set(String(r.attributes.QueueName), String(r.attributes.Arn));
    if (r.type === 'AWS::DynamoDB::Table') {
      const props = stack.template.Resources[r.logicalId]?.Properties ?? {};
      const indexes = new Map<string, string>();
      // A query on an index names the index's own partition key (a local index shares the table's).
      for (const index of [
        ...((props.GlobalSecondaryIndexes ?? []) as { IndexName: string; KeySchema: KeySchema }[]),
        ...((props.LocalSecondaryIndexes ?? []) as { IndexName: string; KeySchema: KeySchema }[]),
      ]) {
        const key = hashKey(index.KeySchema);
        if (key !== undefined) indexes.set(index.IndexName, key);
      }
      tables.set(r.ref, {
        arn: String(r.attributes.Arn),
        partitionKey: hashKey(props.KeySchema as KeySchema),
        indexes,
      });
    }
  }
  return {
    queueArn: (name) => queues.get(name) ?? `arn:aws:sqs:${where.region}:${where.accountId}:${name}`,
    tableArn: (name) =>
      tables.get(name)?.arn ?? `arn:aws:dynamodb:${where.region}:${where.accountId}:table/${name}`,
    partitionKeyOf: (name, index) =>
      index === undefined ? tables.get(name)?.partitionKey : tables.get(name)?.indexes.get(index),
  };
}

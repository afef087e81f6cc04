/**
 * The declaration of what each component calls (shared/declaration.ts) holds both ways: the code
 * calls exactly the declared actions (read off the component's bundle), and the synthesized
 * template grants exactly the declared statements — no expectation here is a list of its own.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { TaskQueue } from '../../infra/constructs/task-queue.js';
import { EXAMPLE_CONSUMER_ENTRY } from '../../infra/tierq-stack.js';
import { registerEventSourceMappings } from '../../local/event-source-mappings.js';
import { iamActionOf, operationOfCommand, serviceOfPackage } from '../../local/iam/actions.js';
import { loadIamEvaluator } from '../../local/iam/evaluator.js';
import { type LocalPrincipal, readLocalIam } from '../../local/iam/principals.js';
import { createResolver, type LocalResource } from '../../local/intrinsics.js';
import {
  Access,
  type AccessResources,
  type AccessRule,
  accessStatements,
  type Component,
  KEYED_TABLE_ACTIONS,
} from '../../shared/declaration.js';
import { synthStack } from '../helpers/stack.js';

/** Where each component's code starts: what its users bundle or run. */
const ENTRIES: Record<Component, string> = {
  consumer: 'functions/consumer.ts',
  producer: 'shared/producer/index.ts',
  operator: 'cli/main.ts',
};

/** The IAM actions of every AWS SDK command the bundle of `entry` can send. */
async function actionsCalledBy(entry: string): Promise<string[]> {
  const { outputFiles } = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    // Kept external, the SDK's commands stay visible as named imports; unused ones are shaken off.
    external: ['@aws-sdk/*', '@smithy/*'],
    logLevel: 'silent',
  });
  const text = outputFiles[0]?.text ?? '';
  const actions = new Set<string>();
  for (const [, names = '', pkg = ''] of text.matchAll(
    /import\s*\{([^}]*)\}\s*from\s*"(@aws-sdk\/[^"]+)"/g,
  )) {
    const service = serviceOfPackage(pkg);
    for (const name of names.split(',').map((n) => n.trim().split(/\s+as\s+/)[0] ?? '')) {
      if (!name.endsWith('Command') || service === undefined) continue;
      actions.add(iamActionOf(service, operationOfCommand(pkg, name)));
    }
  }
  return [...actions].sort();
}

const declared = (component: Component, include: (rule: AccessRule) => boolean = () => true) =>
  [...new Set((Access[component] as readonly AccessRule[]).filter(include).flatMap((r) => r.actions))].sort();

/** Statements as (action, resource, condition) triples: equal sets grant the same, however merged. */
function triples(statements: readonly Record<string, unknown>[]): string[] {
  const out = new Set<string>();
  for (const s of statements) {
    expect(s.Effect).toBe('Allow');
    const condition = JSON.stringify(s.Condition ?? null);
    for (const action of [s.Action].flat())
      for (const resource of [s.Resource].flat()) {
        out.add(`${String(action)} on ${JSON.stringify(resource)} if ${condition}`);
      }
  }
  return [...out].sort();
}

/** The declared statements, resolved the way the template writes the construct's ARNs. */
function expectedTriples(component: Component, queue: TaskQueue): string[] {
  const stack = Stack.of(queue);
  const resources: AccessResources = {
    tierQueueArns: queue.tiers.map((t) => queue.queue(t.name).queueArn),
    deadLetterQueueArn: queue.deadLetterQueue.queueArn,
    tableArn: queue.table.tableArn,
    stackArn: stack.stackId,
    eventSourceMappingArns: queue.tiers.map(
      (t) => queue.eventSourceMappings[t.name]?.eventSourceMappingArn ?? '',
    ),
  };
  return triples(stack.resolve(accessStatements(component, resources)));
}

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

/** Statements of every AWS::IAM::Policy attached to the role with logical id `roleId`. */
function roleStatements(resources: Resources, roleId: string): Record<string, unknown>[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) =>
      (r.Properties.Roles as unknown[]).some(
        (ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleId }),
      ),
    )
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
}

describe('the access declaration', () => {
  it('bounds every table rule by key prefix, with only actions that always name keys', () => {
    for (const [component, rules] of Object.entries(Access) as [Component, readonly AccessRule[]][]) {
      for (const rule of rules.filter((r) => r.on.includes('table'))) {
        expect(rule.keyPrefixes?.length, `${component}.${rule.sid} has key prefixes`).toBeGreaterThan(0);
        for (const action of rule.actions) {
          expect(KEYED_TABLE_ACTIONS.has(action), `${component}.${rule.sid}: ${action} names keys`).toBe(
            true,
          );
        }
      }
    }
  });

  it.each(Object.keys(ENTRIES) as Component[])(
    'lists exactly the AWS actions the %s code sends',
    async (component) => {
      const called = await actionsCalledBy(ENTRIES[component]);
      expect(called.length).toBeGreaterThan(0);
      expect(called).toEqual(declared(component, (rule) => rule.calledByService === undefined));
    },
  );
});

describe('TaskQueue grants', () => {
  const { stack, template } = synthStack();
  const resources = template.toJSON().Resources as Resources;
  const queue = stack.taskQueue;
  const policyOf = (id: string) => {
    const logicalId = stack.resolve(
      (queue.node.findChild(id).node.defaultChild as iam.CfnManagedPolicy).logicalId,
    );
    return resources[logicalId]?.Properties.PolicyDocument.Statement as Record<string, unknown>[];
  };

  it('gives the consumer role the declared consumer access, and its own log group', () => {
    const role = queue.consumer.role as iam.Role;
    const roleId = stack.resolve((role.node.defaultChild as iam.CfnRole).logicalId);
    const statements = roleStatements(resources, roleId);
    const logs = statements.filter((s) => [s.Action].flat().every((a) => String(a).startsWith('logs:')));
    expect(triples(statements.filter((s) => !logs.includes(s)))).toEqual(expectedTriples('consumer', queue));
    expect(triples(logs)).toEqual(
      triples([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: stack.resolve(queue.consumer.logGroup.logGroupArn),
        },
      ]),
    );
  });

  it('makes the producer and operator managed policies of the declared statements', () => {
    expect(triples(policyOf('ProducerPolicy'))).toEqual(expectedTriples('producer', queue));
    expect(triples(policyOf('OperatorPolicy'))).toEqual(expectedTriples('operator', queue));
  });

  it('grantEnqueue, grantOperate and grantConsume give a role the declared statements', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const own = new Stack(app, 'Grants');
    const tq = new TaskQueue(own, 'Q', { consumerEntry: EXAMPLE_CONSUMER_ENTRY });
    const producer = new iam.Role(own, 'Producer', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    });
    const operator = new iam.Role(own, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    const consumer = new iam.Role(own, 'Worker', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    tq.grantEnqueue(producer);
    tq.grantOperate(operator);
    tq.grantConsume(consumer);
    const synthesized = Template.fromStack(own).toJSON().Resources as Resources;
    const roleId = (role: iam.Role) => own.resolve((role.node.defaultChild as iam.CfnRole).logicalId);
    expect(triples(roleStatements(synthesized, roleId(producer)))).toEqual(expectedTriples('producer', tq));
    expect(triples(roleStatements(synthesized, roleId(operator)))).toEqual(expectedTriples('operator', tq));
    expect(triples(roleStatements(synthesized, roleId(consumer)))).toEqual(expectedTriples('consumer', tq));
  });
});

describe('the synthesized policies, evaluated as IAM would', () => {
  const ACCOUNT = '123456789012';
  const { template } = synthStack();
  const json = template.toJSON() as { Resources: Record<string, { Type: string }> };
  const local = new Map<string, LocalResource>();
  for (const [id, r] of Object.entries(json.Resources)) {
    if (r.Type === 'AWS::SQS::Queue') {
      const arn = `arn:aws:sqs:us-east-1:${ACCOUNT}:${id}`;
      local.set(id, {
        logicalId: id,
        type: r.Type,
        ref: `https://sqs/${id}`,
        attributes: { Arn: arn, QueueName: id },
      });
    }
    if (r.Type === 'AWS::DynamoDB::Table') {
      const arn = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${id}`;
      local.set(id, { logicalId: id, type: r.Type, ref: id, attributes: { Arn: arn } });
    }
  }
  // The mappings' ids and ARNs, as the local stack gives them (the operator policy names them).
  registerEventSourceMappings({ stackName: 'tierq-dev', template: json } as never, local, {
    region: 'us-east-1',
    accountId: ACCOUNT,
  });
  const resolve = createResolver(
    local,
    { region: 'us-east-1', accountId: ACCOUNT, stackName: 'tierq-dev' },
    json.Resources,
  );
  const iam = readLocalIam(json as never, resolve, { stackName: 'tierq-dev', accountId: ACCOUNT });
  const arnOf = (prefix: string) =>
    [...local.values()].find((r) => r.logicalId.startsWith(prefix))?.attributes.Arn as string;
  const tier = arnOf('TaskQueueLowQueue');
  const dlq = arnOf('TaskQueueDeadLetterQueue');
  const table = arnOf('TaskQueueTable');
  const mapping = [...local.values()].find((r) => r.logicalId.includes('LowSource'))?.attributes
    .EventSourceMappingArn as string;
  const principal = (prefix: string) =>
    iam.principals.find((p) => p.logicalId.startsWith(prefix)) as LocalPrincipal;

  // [principal, action, resource, partition key (table requests), allowed]
  const cases: [string, string, string, string | undefined, boolean][] = [
    ['TaskQueueConsumerRole', 'dynamodb:UpdateItem', table, 'task#a', true],
    ['TaskQueueConsumerRole', 'dynamodb:BatchWriteItem', table, 'task#a', true],
    ['TaskQueueConsumerRole', 'dynamodb:PutItem', table, 'ratelimit#echo', true],
    ['TaskQueueConsumerRole', 'dynamodb:UpdateItem', table, 'ratelimit#echo', false],
    ['TaskQueueConsumerRole', 'dynamodb:PutItem', table, 'dedup#k', false],
    ['TaskQueueConsumerRole', 'dynamodb:UpdateItem', table, 'lease#sync#acme', true],
    ['TaskQueueConsumerRole', 'dynamodb:GetItem', table, 'lease#sync#acme', true],
    ['TaskQueueConsumerRole', 'dynamodb:DeleteItem', table, 'lease#sync#acme', false],
    ['TaskQueueProducerPolicy', 'dynamodb:UpdateItem', table, 'lease#sync#acme', false],
    ['TaskQueueConsumerRole', 'dynamodb:Scan', table, undefined, false],
    ['TaskQueueConsumerRole', 'dynamodb:UpdateItem', table, 'breaker#', true],
    ['TaskQueueConsumerRole', 'dynamodb:BatchGetItem', table, 'breaker#', true],
    ['TaskQueueConsumerRole', 'dynamodb:Query', table, 'breaker#', false],
    ['TaskQueueConsumerRole', 'sqs:ReceiveMessage', tier, undefined, true],
    ['TaskQueueConsumerRole', 'sqs:ReceiveMessage', dlq, undefined, false],
    ['TaskQueueConsumerRole', 'sqs:SendMessage', dlq, undefined, true],
    ['TaskQueueConsumerRole', 'sqs:PurgeQueue', tier, undefined, false],
    ['TaskQueueProducerPolicy', 'dynamodb:PutItem', table, 'dedup#k', true],
    ['TaskQueueProducerPolicy', 'dynamodb:DeleteItem', table, 'dedup#k', true],
    ['TaskQueueProducerPolicy', 'dynamodb:PutItem', table, 'task#a', false],
    ['TaskQueueProducerPolicy', 'dynamodb:GetItem', table, 'task#a', false],
    ['TaskQueueProducerPolicy', 'sqs:SendMessage', tier, undefined, true],
    ['TaskQueueProducerPolicy', 'sqs:SendMessage', dlq, undefined, false],
    ['TaskQueueProducerPolicy', 'sqs:ReceiveMessage', tier, undefined, false],
    ['TaskQueueOperatorPolicy', 'dynamodb:GetItem', table, 'task#a', true],
    ['TaskQueueOperatorPolicy', 'dynamodb:PutItem', table, 'task#a', false],
    ['TaskQueueOperatorPolicy', 'dynamodb:Query', table, 'breaker#', true],
    ['TaskQueueOperatorPolicy', 'dynamodb:UpdateItem', table, 'breaker#', true],
    ['TaskQueueOperatorPolicy', 'dynamodb:UpdateItem', table, 'ratelimit#echo', false],
    ['TaskQueueProducerPolicy', 'dynamodb:UpdateItem', table, 'breaker#', false],
    ['TaskQueueOperatorPolicy', 'sqs:ReceiveMessage', dlq, undefined, true],
    ['TaskQueueOperatorPolicy', 'sqs:PurgeQueue', dlq, undefined, true],
    ['TaskQueueOperatorPolicy', 'sqs:PurgeQueue', tier, undefined, false],
    ['TaskQueueOperatorPolicy', 'sqs:ReceiveMessage', tier, undefined, false],
    ['TaskQueueOperatorPolicy', 'cloudwatch:GetMetricData', '*', undefined, true],
    ['TaskQueueConsumerRole', 'dynamodb:Query', table, 'pause#task', true],
    ['TaskQueueConsumerRole', 'dynamodb:PutItem', table, 'pause#task', false],
    ['TaskQueueConsumerRole', 'dynamodb:Query', table, 'task#a', false],
    ['TaskQueueConsumerRole', 'lambda:UpdateEventSourceMapping', mapping, undefined, false],
    ['TaskQueueProducerPolicy', 'dynamodb:PutItem', table, 'pause#task', false],
    ['TaskQueueProducerPolicy', 'lambda:UpdateEventSourceMapping', mapping, undefined, false],
    ['TaskQueueOperatorPolicy', 'dynamodb:PutItem', table, 'pause#task', true],
    ['TaskQueueOperatorPolicy', 'dynamodb:DeleteItem', table, 'pause#tier', true],
    ['TaskQueueOperatorPolicy', 'dynamodb:Query', table, 'pause#task', true],
    ['TaskQueueOperatorPolicy', 'lambda:UpdateEventSourceMapping', mapping, undefined, true],
    ['TaskQueueOperatorPolicy', 'lambda:GetEventSourceMapping', mapping, undefined, true],
    ['TaskQueueOperatorPolicy', 'lambda:DeleteEventSourceMapping', mapping, undefined, false],
    ['TaskQueueOperatorPolicy', 'lambda:ListEventSourceMappings', '*', undefined, false],
    ['TaskQueueOperatorPolicy', 'cloudwatch:DescribeAlarms', '*', undefined, true],
    ['TaskQueueProducerPolicy', 'cloudwatch:DescribeAlarms', '*', undefined, false],
  ];

  it.each(cases)('%s may %s on %s for key %s: %s', async (who, action, resource, key, allowed) => {
    const evaluator = await loadIamEvaluator(iam);
    const context = {
      'aws:SecureTransport': 'true',
      ...(key === undefined ? {} : { 'dynamodb:LeadingKeys': [key] }),
    };
    expect((await evaluator.authorize(principal(who), { action, resource, context })).allowed).toBe(allowed);
  });

  it("gives the consumer's role exactly what Lambda requires of an SQS event source's role", () => {
    const polling = (Access.consumer as readonly AccessRule[]).filter((r) => r.calledByService !== undefined);
    expect(polling.flatMap((r) => r.actions).sort()).toEqual(
      ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'].sort(),
    );
  });
});

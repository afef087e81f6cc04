/**
 * IAM for tests that build their own queues and table instead of a synthesized stack: a gateway
 * in front of the emulators (local/aws-gateway.ts) whose principals hold exactly a component's
 * declared access (shared/declaration.ts) to the test's resources, so a test's producer or CLI
 * runs with what the construct would grant it and nothing more.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { type AwsGateway, startAwsGateway } from '../../local/aws-gateway.js';
import { localClientConfig } from '../../local/emulators.js';
import { loadIamEvaluator } from '../../local/iam/evaluator.js';
import type { LocalIam, LocalPrincipal } from '../../local/iam/principals.js';
import type { ResourceArns } from '../../local/iam/requests.js';
import { accessStatements, type Component, TableSchema } from '../../shared/declaration.js';
import { routeHelpersThrough } from './aws.js';

/** Access keys of a principal. */
export type Keys = LocalPrincipal['credentials'];

/** The resources a grant covers, by URL and name as the tests hold them. */
export interface GrantedResources {
  readonly queues: readonly string[];
  readonly dlq: string;
  readonly table: string;
}

/** A gateway for one test file and the principals granted on it. */
export interface DeclaredAccess {
  readonly endpoints: AwsGateway['endpoints'];
  /** Keys of a new principal holding exactly `component`'s declared access to `resources`. */
  grant(component: Component, resources: GrantedResources): Promise<Keys>;
  /** SQS and DynamoDB clients signed with `keys`, through the gateway. */
  clients(keys: Keys): { sqs: SQSClient; dynamodb: DynamoDBClient };
  stop(): Promise<void>;
}

const ACCOUNT = '000000000000';

/**
 * Starts the gateway and routes this file's helpers (queue and table creation) through it, so
 * the queue URLs the test gets name the gateway. Call it before creating resources.
 *
 * @example
 * const access = await startDeclaredAccess();
 * const keys = await access.grant('producer', { queues, dlq, table });
 */
export async function startDeclaredAccess(): Promise<DeclaredAccess> {
  const { region, endpoints } = inject('emulators');
  const gateway = await startAwsGateway({ targets: endpoints });
  routeHelpersThrough(gateway.endpoints);
  const arns: ResourceArns = {
    queueArn: (name) => `arn:aws:sqs:${region}:${ACCOUNT}:${name}`,
    tableArn: (name) => `arn:aws:dynamodb:${region}:${ACCOUNT}:table/${name}`,
    partitionKeyOf: () => TableSchema.partitionKey,
  };
  const principals: LocalPrincipal[] = [];
  const clients: { destroy(): void }[] = [];
  const queueArn = (url: string) => arns.queueArn(url.slice(url.lastIndexOf('/') + 1));
  return {
    endpoints: gateway.endpoints,
    async grant(component, resources) {
      const n = principals.length + 1;
      const statements = accessStatements(component, {
        tierQueueArns: resources.queues.map(queueArn),
        deadLetterQueueArn: queueArn(resources.dlq),
        tableArn: arns.tableArn(resources.table),
        stackArn: `arn:aws:cloudformation:${region}:${ACCOUNT}:stack/test/local`,
        // No event source mappings here: a test's own queues are polled by no Lambda.
        eventSourceMappingArns: [`arn:aws:lambda:${region}:${ACCOUNT}:event-source-mapping:none`],
      });
      const principal: LocalPrincipal = {
        logicalId: `${component}${n}`,
        kind: 'managed-policy-holder',
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/test-${component}-${n}/local`,
        credentials: { accessKeyId: `AKIATEST${component.toUpperCase()}${n}`, secretAccessKey: 'test' },
        policies: [
          {
            name: `${component}-policy`,
            policy: { Version: '2012-10-17', Statement: statements as unknown as Record<string, unknown>[] },
          },
        ],
      };
      principals.push(principal);
      const iam: LocalIam = {
        accountId: ACCOUNT,
        principals: [...principals],
        resourcePolicies: new Map(),
        unresolved: [],
      };
      gateway.enforce({ iam, evaluator: await loadIamEvaluator(iam), arns });
      return principal.credentials;
    },
    clients(keys) {
      const config = (endpoint: string) => ({ ...localClientConfig(endpoint), region, credentials: keys });
      const made = {
        sqs: new SQSClient(config(gateway.endpoints.sqs)),
        dynamodb: new DynamoDBClient(config(gateway.endpoints.dynamodb)),
      };
      clients.push(made.sqs, made.dynamodb);
      return made;
    },
    async stop() {
      for (const client of clients) client.destroy();
      await gateway.stop();
    },
  };
}

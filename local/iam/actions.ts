/**
 * Which IAM action authorizes an AWS API operation, as the services document it: most
 * operations are their own action, SQS's batch operations are authorized by the single-message
 * action, and the DynamoDB document client's command names drop the `Item` of their operation.
 */

/** Services the local stack authorizes. */
export type AwsService = 'sqs' | 'dynamodb' | 'cloudwatch' | 'cloudformation' | 'lambda';

/** SQS has no `*Batch` actions: "permission for SendMessageBatch is granted by sqs:SendMessage". */
const SQS_BATCH: Readonly<Record<string, string>> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

/**
 * The IAM action that authorizes `operation` (an API operation name, e.g. `SendMessageBatch`).
 *
 * @example
 * iamActionOf('sqs', 'SendMessageBatch'); // 'sqs:SendMessage'
 */
export function iamActionOf(service: AwsService, operation: string): string {
  return `${service}:${service === 'sqs' ? (SQS_BATCH[operation] ?? operation) : operation}`;
}

/** `@aws-sdk/lib-dynamodb` command names that differ from the operation they send. */
const DOCUMENT_COMMANDS: Readonly<Record<string, string>> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
};

/**
 * The API operation an SDK v3 command class sends: `SendMessageBatchCommand` → `SendMessageBatch`,
 * lib-dynamodb's `BatchWriteCommand` → `BatchWriteItem`.
 *
 * @example
 * operationOfCommand('@aws-sdk/lib-dynamodb', 'BatchWriteCommand'); // 'BatchWriteItem'
 */
export function operationOfCommand(sdkPackage: string, commandName: string): string {
  const base = commandName.replace(/Command$/, '');
  return sdkPackage === '@aws-sdk/lib-dynamodb' ? (DOCUMENT_COMMANDS[base] ?? base) : base;
}

/** The service an SDK v3 package talks to, or undefined for utility packages. */
export function serviceOfPackage(sdkPackage: string): AwsService | undefined {
  const known: Readonly<Record<string, AwsService>> = {
    '@aws-sdk/client-sqs': 'sqs',
    '@aws-sdk/client-dynamodb': 'dynamodb',
    '@aws-sdk/lib-dynamodb': 'dynamodb',
    '@aws-sdk/client-cloudwatch': 'cloudwatch',
    '@aws-sdk/client-cloudformation': 'cloudformation',
    '@aws-sdk/client-lambda': 'lambda',
  };
  return known[sdkPackage];
}

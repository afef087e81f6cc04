import { type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/**
 * Key administration for the account, listed action by action: the CDK default grants
 * `kms:*`, and tierq's rule is no wildcard actions anywhere.
 */
const KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:CreateGrant',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:RetireGrant',
  'kms:RevokeGrant',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
];

/**
 * The customer-managed key that encrypts the alarm topic. CloudWatch alarms cannot publish to a
 * topic encrypted with the AWS-managed SNS key, so the key policy lets CloudWatch (from this
 * account only) generate data keys.
 *
 * @example
 * new sns.Topic(this, 'Alarms', { masterKey: alarmTopicKey(this, RemovalPolicy.DESTROY) });
 */
export function alarmTopicKey(scope: Construct, removalPolicy: RemovalPolicy): kms.Key {
  const stack = Stack.of(scope);
  return new kms.Key(scope, 'AlarmTopicKey', {
    description: 'Encrypts the tierq alarm topic',
    enableKeyRotation: true,
    removalPolicy,
    policy: new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'AccountAdministersKey',
          principals: [new iam.AccountRootPrincipal()],
          actions: KEY_ADMIN_ACTIONS,
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'CloudWatchAlarmsPublish',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
      ],
    }),
  });
}

#!/usr/bin/env bash
# Deploys the CDK app with cdklocal to a running LocalStack and runs the end-to-end suite
# (test/integration/e2e.test.ts) against the deployed stack's outputs.
#
# Needs Docker and a LocalStack started with `localstack start` (or the Docker image); see the
# README's "LocalStack" section. Not run in this repository's CI (no Docker there).
#
# Environment: LOCALSTACK_ENDPOINT (default http://localhost:4566).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

endpoint="${LOCALSTACK_ENDPOINT:-http://localhost:4566}"
endpoint="${endpoint%/}"
outputs_file=.tierq/localstack-outputs.json
target_file=.tierq/localstack.json

if ! curl --silent --show-error --fail --max-time 5 "${endpoint}/_localstack/health" >/dev/null; then
  cat >&2 <<MSG
test:localstack: LocalStack is not reachable at ${endpoint} (GET ${endpoint}/_localstack/health failed).
Start it first (needs Docker):  localstack start -d   (or: docker run --rm -d -p 4566:4566 -v /var/run/docker.sock:/var/run/docker.sock localstack/localstack)
or point LOCALSTACK_ENDPOINT at a running one.
MSG
  exit 2
fi

# LocalStack accepts any credentials; these keep the CDK and the SDK away from real AWS ones.
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN
# cdklocal reads AWS_ENDPOINT_URL (default http://localhost:4566).
export AWS_ENDPOINT_URL="${endpoint}"
export CDK_DISABLE_CLI_TELEMETRY=1
export CDK_DISABLE_VERSION_CHECK=1
export npm_config_update_notifier=false

mkdir -p .tierq
rm -f "${outputs_file}" "${target_file}"

echo "test:localstack: bootstrapping the CDK environment in LocalStack at ${endpoint}"
npx --no-install cdklocal bootstrap --no-notices
echo "test:localstack: deploying the stack with cdklocal"
npx --no-install cdklocal deploy --require-approval never --no-notices --outputs-file "${outputs_file}"

# CloudFormation outputs ({ "<stack>": { Tiers, QueueUrl<PascalTier>, DeadLetterQueueUrl, TableName } })
# → the .tierq/local.json shape the e2e target reads.
node - "${outputs_file}" "${target_file}" "${endpoint}" "${AWS_REGION}" <<'NODE'
const { readFileSync, writeFileSync } = require('node:fs');
const [outputsFile, targetFile, endpoint, region] = process.argv.slice(2);
const stacks = JSON.parse(readFileSync(outputsFile, 'utf8'));
const found = Object.entries(stacks).filter(([, outputs]) => outputs && typeof outputs.Tiers === 'string');
if (found.length !== 1) {
  console.error(`${outputsFile}: expected one stack with a Tiers output, found ${found.length} (${Object.keys(stacks).join(', ') || 'none'})`);
  process.exit(1);
}
const [stackName, outputs] = found[0];
const need = (key) => {
  const value = outputs[key];
  if (typeof value !== 'string' || value === '') {
    console.error(`${outputsFile}: stack ${stackName} has no output ${key}`);
    process.exit(1);
  }
  return value;
};
const queues = {};
for (const tier of need('Tiers').split(',').map((t) => t.trim()).filter(Boolean)) {
  // Output ids are PascalCase tier names (bulk-email → QueueUrlBulkEmail): compare loosely.
  const wanted = `QueueUrl${tier}`.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
  const key = Object.keys(outputs).find((k) => k.toLowerCase() === wanted);
  queues[tier] = need(key ?? `QueueUrl<${tier}>`);
}
const target = {
  region,
  endpoints: { sqs: endpoint, dynamodb: endpoint },
  queues,
  dlq: need('DeadLetterQueueUrl'),
  table: need('TableName'),
};
writeFileSync(targetFile, `${JSON.stringify(target, null, 2)}\n`);
console.log(`test:localstack: wrote ${targetFile} for stack ${stackName} (tiers ${Object.keys(queues).join(', ')})`);
NODE

echo "test:localstack: running the e2e suite against the deployed stack"
TIERQ_TEST_ENDPOINT="${endpoint}" \
  TIERQ_E2E_TARGET=stack-outputs \
  TIERQ_E2E_OUTPUTS="${target_file}" \
  npx --no-install vitest run --project integration test/integration/e2e.test.ts

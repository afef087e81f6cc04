import { describe, expect, it } from 'vitest';
import { memoryFlags, sandboxEnvironment } from '../../../local/sandbox/environment.js';

const fn = {
  name: 'tierq-dev-Consumer',
  handler: 'index.handler',
  codeDir: '/tmp/asset',
  memorySize: 512,
  runtime: 'nodejs22.x',
  environment: { TIERQ_TABLE: 'table', AWS_REGION: 'eu-west-1', NODE_OPTIONS: '--enable-source-maps' },
  logGroupName: '/aws/lambda/tierq-dev-Consumer',
};
const access = {
  region: 'us-east-1',
  endpoints: { sqs: 'http://127.0.0.1:1', dynamodb: 'http://127.0.0.1:2' },
  credentials: { accessKeyId: 'AKIDROLE', secretAccessKey: 'role-secret' },
  logStreamName: '2026/11/27/[$LATEST]abc',
};

describe('sandboxEnvironment', () => {
  it("holds the function's variables, with Lambda's reserved ones and the endpoints over them", () => {
    const env = sandboxEnvironment(fn, access);

    expect(env).toMatchObject({
      TIERQ_TABLE: 'table',
      NODE_OPTIONS: '--enable-source-maps',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDROLE',
      AWS_SECRET_ACCESS_KEY: 'role-secret',
      AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:1',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:2',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/27/[$LATEST]abc',
      LAMBDA_TASK_ROOT: '/tmp/asset',
      _HANDLER: 'index.handler',
      TZ: ':UTC',
    });
    expect(env.NODE_PATH).toContain('node_modules');
  });

  it("inherits nothing else from this process's environment", () => {
    process.env.TIERQ_SANDBOX_TEST_SECRET = 'from the shell';
    try {
      expect(sandboxEnvironment(fn, access).TIERQ_SANDBOX_TEST_SECRET).toBeUndefined();
    } finally {
      delete process.env.TIERQ_SANDBOX_TEST_SECRET;
    }
  });
});

describe('memoryFlags', () => {
  it("splits the function's memory as the Lambda Node.js bootstrap does", () => {
    expect(memoryFlags(512)).toEqual(['--max-semi-space-size=25', '--max-old-space-size=461']);
    expect(memoryFlags(128)).toEqual(['--max-semi-space-size=6', '--max-old-space-size=116']);
  });
});

import { App } from 'aws-cdk-lib';
import { parseAppConfig } from './config.js';
import { TierqStack } from './tierq-stack.js';

const app = new App();
const config = parseAppConfig((key) => app.node.tryGetContext(key));
new TierqStack(app, config.stackName, {
  config,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: `tierq task queue (${config.stage})`,
});

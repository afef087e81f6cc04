/** The Emails queue's consumer: runs send-receipt, at most 20 a second across every consumer. */
import { createDefaultConsumer, defineTask, loadConsumerConfig, TaskRegistry } from 'tierq';
import { sendReceipt } from './contracts.js';

const sendReceiptTask = defineTask(sendReceipt, {
  rateLimit: { perSecond: 20, burst: 40 },
  handler: ({ orderId, to }) => ({ orderId, sentTo: to }),
});

export const handler = createDefaultConsumer({
  config: loadConsumerConfig(process.env),
  registry: new TaskRegistry([sendReceiptTask]),
});

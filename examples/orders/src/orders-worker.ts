/** The Orders queue's consumer: runs charge-order. */
import {
  createDefaultConsumer,
  defineTask,
  loadConsumerConfig,
  PermanentTaskError,
  TaskRegistry,
} from 'tierq';
import { chargeOrder } from './contracts.js';

const chargeOrderTask = defineTask(chargeOrder, {
  retry: { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 10_000 },
  handler: ({ orderId, cents }) => {
    if (cents > 1_000_000) throw new PermanentTaskError(`order ${orderId}: amount over the limit`);
    return { orderId, charged: cents };
  },
});

export const handler = createDefaultConsumer({
  config: loadConsumerConfig(process.env),
  registry: new TaskRegistry([chargeOrderTask]),
});

/**
 * What the producer and the workers agree on: each task's name and payload schema, with no
 * handler. The producer imports only this module, so its bundle carries no worker code.
 */
// From tierq/producer, which the producer already loads: a contract needs nothing of the consumer.
import { defineContract } from 'tierq/producer';
import * as v from 'valibot';

export const chargeOrder = defineContract({
  name: 'charge-order',
  schema: v.object({ orderId: v.string(), cents: v.pipe(v.number(), v.integer(), v.minValue(1)) }),
});

export const sendReceipt = defineContract({
  name: 'send-receipt',
  schema: v.object({ orderId: v.string(), to: v.pipe(v.string(), v.email()) }),
});

/**
 * A producer: enqueues one order charge on the Orders queue of the local stack (`tierq local`),
 * as the stack's producer, and prints its id. The payload is typed and checked by the contract.
 */
import { createProducer, loadLocalConfig } from 'tierq/producer';
import { chargeOrder } from './contracts.js';

const orderId = process.argv[2] ?? `order-${Date.now()}`;
const producer = createProducer(await loadLocalConfig('.tierq/local.json', 'producer', 'Orders'));
const { id } = await producer.enqueue(
  chargeOrder,
  { orderId, cents: 4_200 },
  { priority: 'high', id: orderId },
);
console.log(id);

// Preloaded with NODE_OPTIONS=--require: records (and refuses) every outbound connection or DNS
// lookup to a non-loopback host, in this process and every Node child it spawns.
const fs = require('node:fs');
const net = require('node:net');
const dns = require('node:dns');

const log = process.env.TIERQ_NETWORK_LOG;
const isLoopback = (host) =>
  host === undefined || host === 'localhost' || host === '::1' || /^127\./.test(String(host));

function record(kind, host, port) {
  if (log) fs.appendFileSync(log, `${process.pid} ${kind} ${host}:${port ?? ''}\n`);
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const opts = typeof args[0] === 'object' && args[0] !== null ? args[0] : { port: args[0], host: args[1] };
  if (!opts.path && !isLoopback(opts.host)) {
    record('connect', opts.host, opts.port);
    throw new Error(`network guard: outbound connection to ${opts.host}:${opts.port} refused`);
  }
  return connect.apply(this, args);
};

const lookup = dns.lookup;
dns.lookup = function guardedLookup(host, ...rest) {
  if (!isLoopback(host)) record('dns', host);
  return lookup.call(this, host, ...rest);
};
const promisesLookup = dns.promises.lookup;
dns.promises.lookup = function guardedPromisesLookup(host, ...rest) {
  if (!isLoopback(host)) record('dns', host);
  return promisesLookup.call(this, host, ...rest);
};

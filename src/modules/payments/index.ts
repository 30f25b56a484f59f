// The payments module's public entry: the gateway port, its adapters and the simulator's
// ledger. Other modules import from here, never from its files.
export * from './payment-gateway.js';
export * from './payment-health.js';
export * from './payment-ledger.js';
export * from './resilient-payment-gateway.js';
export * from './simulated-payment-gateway.js';
export * from './http-payment-gateway.js';

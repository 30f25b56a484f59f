/**
 * The bare-route ceiling: a Fastify app with nothing but two static JSON answers captured from
 * Evently in the same run (the 20,000-seat map and the event list), served from memory. What
 * Node + Fastify + loopback HTTP can do on this machine with the same load generator.
 *
 *   BARE_PORT=4100 BARE_SEATS_FILE=seats.json BARE_EVENTS_FILE=events.json \
 *     node --import tsx bench/flash-sale/bare-server.ts
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const seats = readFileSync(process.env.BARE_SEATS_FILE ?? '');
const events = readFileSync(process.env.BARE_EVENTS_FILE ?? '');
const event = readFileSync(process.env.BARE_EVENT_FILE ?? '');

const app = Fastify({ logger: false });
const json = 'application/json; charset=utf-8';
app.get('/seats', async (_request, reply) => reply.type(json).send(seats));
app.get('/events', async (_request, reply) => reply.type(json).send(events));
app.get('/event', async (_request, reply) => reply.type(json).send(event));

const address = await app.listen({
  port: Number(process.env.BARE_PORT ?? 4100),
  host: '127.0.0.1',
});
process.stdout.write(`bare server listening on ${address}\n`);
const close = () => void app.close().then(() => process.exit(0));
process.on('SIGTERM', close);
process.on('SIGINT', close);

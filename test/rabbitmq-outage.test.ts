import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdAndBook, inBatches } from './support/bookings.js';
import { createEvent } from './support/fixtures.js';
import { sleep, type SmtpSink } from './support/smtp-sink.js';
import { createMailingTestApp, type SignedIn, type TestApp } from './support/test-app.js';

const run = promisify(execFile);
const BOOKINGS = 200;
const CONCURRENCY = 20;
const SUBJECT = 'Your booking is confirmed';

// With AMQP_URL: a vhost of this file's own on the shared broker, whose connections (and only
// those) are cut while bookings flow. Without it: the same flow on the in-process bus.
const amqpBase = process.env.AMQP_URL;

async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', args, { timeout: 60_000 });
  return stdout;
}

/**
 * The pids of the connections open in `vhost`. list_connections ignores `-p` and lists every
 * connection of the node, so the vhost column is what filters (other vhosts are never touched).
 */
async function connectionsOf(vhost: string): Promise<string[]> {
  const out = await rabbitmqctl('-q', 'list_connections', 'vhost', 'pid');
  return out
    .split('\n')
    .map((line) => line.split('\t'))
    .filter(([name, pid]) => name === vhost && pid?.startsWith('<'))
    .map(([, pid]) => pid!.trim());
}

describe(
  amqpBase
    ? 'RabbitMQ connections cut while 200 bookings flow'
    : '200 bookings on the in-process bus (no broker to cut)',
  () => {
    let vhost: string | undefined;
    let smtp: SmtpSink;
    let t: TestApp;

    beforeAll(async () => {
      let amqpUrl: string | undefined;
      if (amqpBase) {
        vhost = `evently-outage-${randomBytes(5).toString('hex')}`;
        await rabbitmqctl('-q', 'add_vhost', vhost);
        await rabbitmqctl('-q', 'set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
        const url = new URL(amqpBase);
        url.pathname = `/${encodeURIComponent(vhost)}`;
        amqpUrl = url.toString();
      }
      ({ smtp, t } = await createMailingTestApp(amqpUrl ? { AMQP_URL: amqpUrl } : {}, {
        workers: true,
      }));
    });
    afterAll(async () => {
      await t?.close();
      await smtp?.close();
      if (vhost) await rabbitmqctl('-q', 'delete_vhost', vhost);
    });

    it('sends exactly one confirmation email per booking, none lost, none twice', async () => {
      const organizer = await t.signUp('organizer');
      const event = await createEvent(t, organizer, { capacity: BOOKINGS, name: 'Outage Gig' });
      const users: SignedIn[] = await inBatches(
        Array.from({ length: BOOKINGS }, (_, i) => i),
        CONCURRENCY,
        () => t.signUp(),
      );

      const confirmations = () => smtp.mails.filter((m) => m.subject === SUBJECT);
      const bookingIds: string[] = [];
      interface Cut {
        before: string[];
        closed: number;
        /** Bookings made and confirmation emails received when the connections were closed. */
        booked: number;
        emailed: number;
      }
      const cuts: Array<Promise<Cut>> = [];
      const cut = (target: string) =>
        (async (): Promise<Cut> => {
          const before = await connectionsOf(target);
          const out = await rabbitmqctl(
            'close_all_connections',
            '--vhost',
            target,
            'test cut: broker connection lost',
          );
          const closed = Number(/Closed (\d+) connections/.exec(out)?.[1] ?? 0);
          return { before, closed, booked: bookingIds.length, emailed: confirmations().length };
        })();

      const batches = BOOKINGS / CONCURRENCY;
      const owner = new Map<string, string>();
      for (let b = 0; b < batches; b++) {
        // Two cuts, each while bookings (and their messages) are in flight.
        if (vhost && (b === 2 || b === 6)) cuts.push(cut(vhost));
        if (vhost && b === 5) await cuts[0];
        const batch = users.slice(b * CONCURRENCY, (b + 1) * CONCURRENCY);
        const booked = await Promise.all(batch.map((user) => holdAndBook(t, user, event.id)));
        booked.forEach((booking, i) => {
          bookingIds.push(booking.id);
          owner.set(booking.id, batch[i]!.email);
        });
      }
      const cutResults = await Promise.all(cuts);
      expect(new Set(bookingIds).size).toBe(BOOKINGS);

      const countById = () => {
        const counts = new Map<string, number>();
        for (const mail of confirmations()) {
          const id = /Booking ([0-9a-f-]{36})/.exec(mail.text)?.[1] ?? 'unparsed';
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
        return counts;
      };
      await smtp.waitFor(
        () => bookingIds.every((id) => countById().has(id)),
        120_000,
        `${BOOKINGS} confirmation emails`,
      );
      // Let stragglers (a duplicate, a late sweep) arrive before counting.
      await sleep(3000);

      const counts = countById();
      const twice = [...counts].filter(([, n]) => n > 1);
      const missing = bookingIds.filter((id) => !counts.has(id));
      console.log(
        `${vhost ? `RabbitMQ, cuts closed ${cutResults.map((c) => `${c.closed} connection(s) at ${c.booked} bookings/${c.emailed} emails`).join(' and ')}` : 'in-process bus'}: ` +
          `${confirmations().length} confirmation emails for ${BOOKINGS} bookings, ` +
          `${twice.length} sent twice, ${missing.length} missing`,
      );
      expect(missing).toEqual([]);
      expect(twice).toEqual([]);
      expect(counts.has('unparsed')).toBe(false);
      expect(confirmations()).toHaveLength(BOOKINGS);
      for (const mail of confirmations()) {
        const id = /Booking ([0-9a-f-]{36})/.exec(mail.text)![1]!;
        expect(mail.to).toEqual([owner.get(id)]);
      }
      // Every booking.confirmed row went out and is marked.
      const unpublished = await t.deps.database.db
        .selectFrom('outbox')
        .select('id')
        .where('published_at', 'is', null)
        .execute();
      expect(unpublished).toEqual([]);

      if (vhost) {
        // The cuts really happened, and the bus came back by itself on new connections.
        for (const result of cutResults) {
          expect(result.before.length).toBeGreaterThan(0);
          expect(result.closed).toBe(result.before.length);
          // … while confirmations were still on their way.
          expect(result.emailed).toBeLessThan(BOOKINGS);
        }
        const now = await connectionsOf(vhost);
        expect(now.length).toBeGreaterThan(0);
        for (const result of cutResults)
          for (const pid of result.before) expect(now).not.toContain(pid);
      }
    }, 240_000);
  },
);

import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpMailer } from '../src/infra/smtp/smtp-mailer.js';
import type { Mailer } from '../src/platform/ports/mailer.js';
import { freePort } from './support/child-process.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';

// The Mailer port's contract, against a real SMTP server on loopback. One adapter today (the
// embedded mode sends no email: notifications stay in the app); a second one joins the table.
// What the email sender relies on: a message that `send` resolved for was accepted whole, and
// every refusal or unreachable server rejects, so the outbox message is retried, not lost.

/** An SMTP server that refuses every recipient, as a server with a full mailbox would. */
async function startRefusingServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      const refusal = Object.assign(new Error('mailbox unavailable'), { responseCode: 550 });
      callback(refusal);
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.each<[string, (url: string) => Mailer]>([
  ['smtp', (url) => new SmtpMailer(url, 'Evently <tickets@evently.test>')],
])('Mailer contract (%s)', (_name, make) => {
  let sink: SmtpSink;
  const mailers: Mailer[] = [];
  const mailer = (url: string) => {
    const made = make(url);
    mailers.push(made);
    return made;
  };
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await Promise.all(mailers.map((m) => m.close()));
    await sink?.close();
  });

  it('delivers a message whole: its recipient, subject and text, accents and emoji included', async () => {
    const to = `ana.${Date.now()}@example.test`;
    const message = {
      to,
      subject: 'Your tickets for Café Müller 🎭',
      text: 'Row C, seats 4–5.\nDoors open at 19:30.',
    };

    await mailer(sink.url).send(message);

    await sink.waitFor((mails) => mails.some((m) => m.to.includes(to)), 5_000, to);
    const received = sink.mails.filter((m) => m.to.includes(to));
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ to: [to], subject: message.subject });
    expect(received[0]!.text.trim()).toBe(message.text);
  });

  it('verifies a reachable server, and rejects verify and send when nothing listens', async () => {
    await expect(mailer(sink.url).verify()).resolves.toBeUndefined();
    const nowhere = mailer(`smtp://127.0.0.1:${await freePort()}`);
    await expect(nowhere.verify()).rejects.toThrow();
    await expect(
      nowhere.send({ to: 'lost@example.test', subject: 'lost', text: 'never sent' }),
    ).rejects.toThrow();
  });

  it('rejects send when the server refuses the recipient', async () => {
    const refusing = await startRefusingServer();
    try {
      await expect(
        mailer(refusing.url).send({ to: 'full@example.test', subject: 'hi', text: 'hello' }),
      ).rejects.toThrow(/mailbox unavailable|550/);
    } finally {
      await refusing.close();
    }
  });
});

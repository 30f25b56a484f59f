import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChildProcesses,
  exitWithin,
  freePort,
  waitForOutput,
  type Running,
} from './support/child-process.js';

const STARTUP_MS = 60_000;

/** The environment a newcomer has: no DATABASE_URL, no REDIS_URL, nothing from this runner. */
function newcomerEnv(dataDir: string, port?: number): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...(port !== undefined ? { PORT: String(port) } : {}),
  };
}

// A failed test must not leave a server behind.
const processes = new ChildProcesses();
afterEach(() => processes.killAll());
const start = (args: string[], env: NodeJS.ProcessEnv) => processes.start(args, env);

interface Credential {
  role: string;
  email: string;
  password: string;
}

function credentialsIn(banner: string): Credential[] {
  return [...banner.matchAll(/^\s+(admin|organizer|user)\s+(\S+@\S+)\s+password: (\S+)$/gm)].map(
    ([, role, email, password]) => ({ role: role!, email: email!, password: password! }),
  );
}

async function serve(dataDir: string) {
  const port = await freePort();
  const running = start(['serve'], newcomerEnv(dataDir, port));
  // The banner is one write; wait for its last line so every credential is in.
  const banner = await waitForOutput(
    running,
    /Evently is running[\s\S]*user@evently\.local\s+password: \S+/,
    STARTUP_MS,
  );
  return { running, banner, base: `http://127.0.0.1:${port}` };
}

async function stop(running: Running) {
  running.child.kill('SIGTERM');
  return exitWithin(running, 5_000);
}

describe('evently serve (the newcomer path, embedded database)', () => {
  it(
    'starts with demo data, serves it over HTTP, signs in a demo account and stops cleanly on SIGTERM',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'evently-e2e-'));
      const { running, banner, base } = await serve(dataDir);
      expect(banner).toContain('embedded PGlite database');
      expect(banner).toContain(`/api/v1/events`);

      const credentials = credentialsIn(banner);
      expect(credentials.map((c) => c.role).sort()).toEqual(['admin', 'organizer', 'user']);

      const events = await fetch(`${base}/api/v1/events`);
      expect(events.status).toBe(200);
      expect(events.headers.get('x-request-id')).toBeTruthy();
      const list = (await events.json()) as {
        items: Array<{ name: string; status: string }>;
        nextCursor: string | null;
      };
      expect(list.items.map((e) => e.name).sort()).toEqual(
        ['Harbour Open Air', 'New Year Gala', 'The Midnight Orchestra'].sort(),
      );
      for (const event of list.items) expect(event.status).toBe('published');
      expect(list.nextCursor).toBeNull();

      const attendee = credentials.find((c) => c.role === 'user')!;
      const login = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: attendee.email, password: attendee.password }),
      });
      expect(login.status).toBe(200);
      const { accessToken } = (await login.json()) as { accessToken: string };
      const me = await fetch(`${base}/api/v1/auth/me`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(await me.json()).toMatchObject({ email: 'user@evently.local', role: 'user' });

      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(200);

      expect(await stop(running)).toEqual({ code: 0, signal: null });
    },
    STARTUP_MS + 30_000,
  );

  it(
    'keeps the data, the demo passwords and the sessions across a restart on the same DATA_DIR',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'evently-e2e-'));
      const first = await serve(dataDir);
      const firstCredentials = credentialsIn(first.banner);
      const admin = firstCredentials.find((c) => c.role === 'admin')!;
      const login = await fetch(`${first.base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: admin.email, password: admin.password }),
      });
      const { accessToken } = (await login.json()) as { accessToken: string };
      expect(await stop(first.running)).toEqual({ code: 0, signal: null });

      const second = await serve(dataDir);
      expect(credentialsIn(second.banner)).toEqual(firstCredentials);
      const events = (await (await fetch(`${second.base}/api/v1/events`)).json()) as {
        items: unknown[];
      };
      expect(events.items).toHaveLength(3);
      // The development JWT secret lives under DATA_DIR, so a token survives the restart.
      const users = await fetch(`${second.base}/api/v1/admin/users`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(users.status).toBe(200);
      expect(await stop(second.running)).toEqual({ code: 0, signal: null });
    },
    2 * STARTUP_MS + 30_000,
  );
});

describe('evently migrate', () => {
  it(
    'applies the migrations on a fresh DATA_DIR, then reports up to date',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'evently-e2e-'));
      const first = start(['migrate'], newcomerEnv(dataDir));
      expect(await exitWithin(first, STARTUP_MS)).toEqual({ code: 0, signal: null });
      expect(first.output()).toMatch(/^Applied: 001_initial_schema\.sql/m);

      const second = start(['migrate'], newcomerEnv(dataDir));
      expect(await exitWithin(second, STARTUP_MS)).toEqual({ code: 0, signal: null });
      expect(second.output()).toMatch(/^Up to date \(\d+ migrations applied before\)/m);
      expect(second.output()).not.toContain('Applied:');
    },
    2 * STARTUP_MS + 10_000,
  );

  it(
    'stops with exit code 2 and names the variable when the configuration is bad',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'evently-e2e-'));
      const running = start(['migrate'], { ...newcomerEnv(dataDir), PORT: 'abc' });
      expect(await exitWithin(running, STARTUP_MS)).toEqual({ code: 2, signal: null });
      expect(running.output()).toContain('PORT');
      expect(running.output()).not.toMatch(/\n\s+at /);
    },
    STARTUP_MS + 10_000,
  );
});

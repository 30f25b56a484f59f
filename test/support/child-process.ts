import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/** The repository root and the CLI every end-to-end test runs (`node bin/evently.js`). */
export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'bin', 'evently.js');

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export interface Running {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output: () => string;
  exited: Promise<Exit>;
}

import { sleep } from './timing.js';

export { sleep };

/** A port nobody listens on right now: the OS picks one, and we release it. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/**
 * Starts and tracks `node bin/evently.js ...` processes, so a test's afterAll/afterEach can
 * kill whatever is still running, even when the test failed half-way.
 */
export class ChildProcesses {
  private readonly running: Running[] = [];

  start(args: string[], env: NodeJS.ProcessEnv, options: { stdin?: string } = {}): Running {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    if (options.stdin !== undefined) child.stdin!.end(options.stdin);
    const exited = new Promise<Exit>((done) =>
      child.once('exit', (code, signal) => done({ code, signal })),
    );
    const running = { child, output: () => text, exited };
    this.running.push(running);
    return running;
  }

  /** SIGKILLs every process still alive and waits for each to be gone. */
  async killAll(): Promise<void> {
    const all = this.running.splice(0);
    await Promise.all(
      all.map(async (running) => {
        if (isAlive(running)) running.child.kill('SIGKILL');
        await exitWithin(running, 5_000);
      }),
    );
  }
}

export function isAlive(running: Running): boolean {
  return running.child.exitCode === null && running.child.signalCode === null;
}

/** Resolves once `pattern` shows up in the output; fails early if the process dies. */
export async function waitForOutput(
  running: Running,
  pattern: RegExp,
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void running.exited.then(() => (exited = true));
  while (!pattern.test(running.output())) {
    if (exited) throw new Error(`process exited before ${pattern}:\n${running.output()}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} in time:\n${running.output()}`);
    await sleep(50);
  }
  return running.output();
}

/** The process's exit, or 'timeout' when it is still running after `ms`. */
export async function exitWithin(running: Running, ms: number): Promise<Exit | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((done) => {
    timer = setTimeout(() => done('timeout'), ms);
  });
  const result = await Promise.race([running.exited, timeout]);
  clearTimeout(timer);
  return result;
}

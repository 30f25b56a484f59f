/**
 * Another commit of Evently, runnable next to this tree, for `--compare`: a detached git
 * worktree in /tmp/evently-compare-<sha> with its own `npm ci`. The main working tree is never
 * touched (no checkout, no stash), so the comparison can run while someone edits it. An
 * installed worktree of the same commit is reused (an `npm ci` costs a minute on this
 * machine); `--keep` leaves it for the next run.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './processes.js';

const run = promisify(execFile);
const git = (...args: string[]) =>
  execFileSync('git', args, {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();

/** Written into node_modules once `npm ci` succeeded: a half-installed worktree is redone. */
const INSTALLED = '.evently-bench-installed';

export interface Worktree {
  ref: string;
  sha: string;
  dir: string;
  /** Whether an installed worktree was found and reused. */
  reused: boolean;
  remove(): void;
}

export async function prepareWorktree(ref: string, log: (line: string) => void): Promise<Worktree> {
  let sha: string;
  try {
    sha = git('rev-parse', '--verify', `${ref}^{commit}`);
  } catch {
    throw new Error(`--compare ${ref}: not a commit in ${ROOT}`);
  }
  const dir = `/tmp/evently-compare-${sha.slice(0, 12)}`;
  git('worktree', 'prune'); // forget worktrees whose directory was deleted by hand
  const registered = git('worktree', 'list', '--porcelain')
    .split('\n')
    .some((line) => line === `worktree ${dir}`);
  if (!registered) {
    if (existsSync(dir)) {
      throw new Error(`${dir} exists but is not a git worktree of ${ROOT}; remove it first`);
    }
    log(`git worktree add --detach ${dir} ${sha.slice(0, 12)}`);
    git('worktree', 'add', '--detach', dir, sha);
  } else if (git('-C', dir, 'rev-parse', 'HEAD') !== sha) {
    throw new Error(`${dir} is not at ${sha}; remove it (git worktree remove --force ${dir})`);
  }
  const marker = join(dir, 'node_modules', INSTALLED);
  const reused = registered && existsSync(marker);
  if (reused) {
    log(`reusing the installed worktree ${dir}`);
  } else {
    log(`npm ci in ${dir} ...`);
    const started = performance.now();
    try {
      await run('npm', ['ci', '--no-audit', '--no-fund'], {
        cwd: dir,
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`npm ci failed in ${dir}:\n${stdout ?? ''}${stderr ?? String(error)}`);
    }
    writeFileSync(marker, `${new Date().toISOString()}\n`);
    log(`npm ci done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  return {
    ref,
    sha,
    dir,
    reused,
    remove() {
      git('worktree', 'remove', '--force', dir);
    },
  };
}

/** What the server runs: its code, migrations, dependencies and start script. */
const SERVER_PATHS = ['src', 'migrations', 'bin', 'package.json', 'package-lock.json'];

/**
 * This tree's commit, whether the server's files differ from it, and a fingerprint of those
 * files as they are now (HEAD, the diff, the untracked files' contents): B is a live working
 * tree, and someone may change it between two of its runs.
 */
export function currentTree(): { sha: string; dirty: boolean; fingerprint: string } {
  const sha = git('rev-parse', 'HEAD');
  const changes = git('status', '--porcelain', '--', ...SERVER_PATHS);
  const hash = createHash('sha1')
    .update(sha)
    .update(git('diff', 'HEAD', '--', ...SERVER_PATHS));
  const untracked = git('ls-files', '--others', '--exclude-standard', '--', ...SERVER_PATHS);
  for (const file of untracked.split('\n').filter(Boolean)) {
    hash.update(file);
    try {
      hash.update(readFileSync(join(ROOT, file)));
    } catch {
      // deleted since the listing
    }
  }
  return { sha, dirty: changes.length > 0, fingerprint: hash.digest('hex').slice(0, 12) };
}

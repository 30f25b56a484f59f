import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/**
 * Counts the statements this process sends to the database, at the lowest level the app's
 * clients reach it in each mode: `pg.Client#query` (node-postgres: every pooled connection,
 * Kysely's BEGIN/COMMIT included, a named prepared statement counted once per execution) and
 * PGlite's `query`/`exec` (the embedded database; Kysely's PGlite dialect sends everything
 * through `query`). Each call is one round trip to the database.
 *
 * Install it BEFORE the app opens its database: the app's pooled connections bind
 * `client.query` when they connect (prepared statements, src/infra/postgres/prepared-statements.ts),
 * so a wrapper put on the prototype later would never see them.
 */
export interface CountedStatement {
  sql: string;
  /** Its parameters, as the client was given them. */
  params: unknown[];
  /** Labels set with mark() before this statement was sent (e.g. 'charge'). */
  after: string[];
}

type QueryFunction = (this: unknown, ...args: unknown[]) => unknown;

const sqlText = (first: unknown): string => {
  if (typeof first === 'string') return first;
  if (first && typeof first === 'object' && 'text' in first) return String(first.text);
  return String(first);
};

/** `query(text, values)` or node-postgres's `query({name, text, values})`. */
const paramsOf = (first: unknown, second: unknown): unknown[] => {
  if (Array.isArray(second)) return second as unknown[];
  if (first && typeof first === 'object' && 'values' in first && Array.isArray(first.values))
    return first.values as unknown[];
  return [];
};

/** One line of SQL: whitespace collapsed, so a failing assertion prints readably. */
export const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

export class StatementCounter {
  private recording: CountedStatement[] | undefined;
  private marks: string[] = [];
  private readonly restores: Array<() => void> = [];

  install(): void {
    if (this.restores.length > 0) return;
    this.wrap(pg.Client.prototype as unknown as Record<string, QueryFunction>, 'query');
    const pglite = PGlite.prototype as unknown as Record<string, QueryFunction>;
    this.wrap(pglite, 'query');
    this.wrap(pglite, 'exec');
  }

  restore(): void {
    for (const undo of this.restores.splice(0).reverse()) undo();
  }

  /** Runs `work` and returns the statements sent while it ran (and `settleMs` after it). */
  async during<T>(
    work: () => Promise<T>,
    settleMs = 50,
  ): Promise<{ result: T; statements: CountedStatement[] }> {
    if (this.recording) throw new Error('already recording');
    const statements: CountedStatement[] = [];
    this.recording = statements;
    this.marks = [];
    try {
      const result = await work();
      // Anything the request left running (it should leave nothing) is counted too.
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      return { result, statements };
    } finally {
      this.recording = undefined;
      this.marks = [];
    }
  }

  /** Labels the statements sent from now on (while recording). */
  mark(label: string): void {
    if (this.recording) this.marks.push(label);
  }

  private wrap(target: Record<string, QueryFunction>, method: string): void {
    const own = Object.prototype.hasOwnProperty.call(target, method);
    const original = target[method];
    if (typeof original !== 'function') throw new Error(`no ${method} to wrap`);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const counter = this;
    target[method] = function counted(this: unknown, ...args: unknown[]) {
      counter.recording?.push({
        sql: sqlText(args[0]),
        params: paramsOf(args[0], args[1]),
        after: [...counter.marks],
      });
      return original.apply(this, args);
    };
    this.restores.push(() => {
      if (own) target[method] = original;
      else delete target[method];
    });
  }
}

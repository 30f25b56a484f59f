/**
 * Reads by key where the callers that ask while a read of the same key is under way share the
 * next one. Every caller still gets a result read after it asked (never an older read), but a
 * burst of N callers costs about two reads instead of N: in a flash sale every hold and every
 * sale of one event asks for the same event's counters.
 */
export class CoalescedReads<T> {
  private readonly running = new Map<string, Promise<T>>();
  private readonly queued = new Map<string, Promise<T>>();

  constructor(private readonly load: (key: string) => Promise<T>) {}

  read(key: string): Promise<T> {
    const waiting = this.queued.get(key);
    if (waiting) return waiting;
    const before = this.running.get(key);
    const start = (): Promise<T> => {
      // From here on, newcomers queue behind this read instead of joining it.
      this.queued.delete(key);
      const run = this.load(key);
      this.running.set(key, run);
      const forget = () => {
        if (this.running.get(key) === run) this.running.delete(key);
      };
      run.then(forget, forget);
      return run;
    };
    const next = before ? before.then(start, start) : start();
    if (before) this.queued.set(key, next);
    return next;
  }
}

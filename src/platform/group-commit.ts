/**
 * Application-level group commit. Requests with the same key (an event) that arrive while a
 * batch for that key is in flight wait and go together in the next one: one statement, one
 * commit, one WAL flush for all of them. A batch is sent the moment the previous one for its
 * key returns, so an idle system adds no delay and a busy one sends bigger batches.
 *
 * `run` answers every request of a batch in order, each with its own result (a refusal is a
 * result, not an exception). If a batch fails as a whole (an unexpected database error), its
 * requests are retried one by one, so one bad request never fails the others.
 */
export interface GroupCommitOptions {
  /** The most requests one statement carries. */
  maxBatch: number;
}

interface Waiting<Req, Res> {
  request: Req;
  resolve: (result: Res) => void;
  reject: (error: unknown) => void;
}

interface Lane<Req, Res> {
  queue: Array<Waiting<Req, Res>>;
  busy: boolean;
}

export class GroupCommitter<Req, Res> {
  private readonly lanes = new Map<string, Lane<Req, Res>>();
  private queued = 0;

  constructor(
    private readonly run: (key: string, batch: Req[]) => Promise<Res[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  /** Requests waiting for a batch (not counting those in flight). */
  get waiting(): number {
    return this.queued;
  }

  submit(key: string, request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      let lane = this.lanes.get(key);
      if (!lane) {
        lane = { queue: [], busy: false };
        this.lanes.set(key, lane);
      }
      lane.queue.push({ request, resolve, reject });
      this.queued++;
      if (!lane.busy) void this.drain(key, lane);
    });
  }

  private async drain(key: string, lane: Lane<Req, Res>): Promise<void> {
    lane.busy = true;
    try {
      while (lane.queue.length > 0) {
        const batch = lane.queue.splice(0, this.options.maxBatch);
        this.queued -= batch.length;
        await this.send(key, batch);
      }
    } finally {
      lane.busy = false;
      if (lane.queue.length === 0) this.lanes.delete(key);
      else void this.drain(key, lane);
    }
  }

  private async send(key: string, batch: Array<Waiting<Req, Res>>): Promise<void> {
    let results: Res[];
    try {
      results = await this.run(
        key,
        batch.map((w) => w.request),
      );
      if (results.length !== batch.length) {
        throw new Error(`a batch of ${batch.length} was answered with ${results.length} rows`);
      }
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // Find out which request it was: each alone, so the others still succeed.
      for (const waiting of batch) await this.send(key, [waiting]);
      return;
    }
    batch.forEach((waiting, i) => waiting.resolve(results[i]!));
  }
}

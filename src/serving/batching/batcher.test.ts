import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ModelgateError } from '../../errors/modelgate-error.js';
import type { TensorMap } from '../../runtime/types.js';
import { DirectRunner, DynamicBatcher, type BatchInfo, type DynamicBatcherOptions } from './batcher.js';

/**
 * A model with input x [n, w] and outputs y = 2x [n, w], idx [n] (the row's position in the run) and,
 * when `reduce` is set, sum [1], which no batch can be split along.
 */
class FakeModel {
  readonly calls: { rows: number; ids: number[]; outputs: string[] | undefined }[] = [];
  gated = false;
  delayMs = 0;
  reduce = false;
  failWhen: ((ids: number[]) => unknown) | undefined;
  private waiters: (() => void)[] = [];

  readonly run = async (inputs: TensorMap, outputs?: string[]): Promise<TensorMap> => {
    const x = inputs.x!;
    const data = x.data as Float32Array;
    const rows = x.shape[0]!;
    const width = x.shape[1]!;
    const ids = Array.from({ length: rows }, (_, i) => data[i * width]!);
    this.calls.push({ rows, ids, outputs });
    if (this.gated) await new Promise<void>((r) => this.waiters.push(r));
    if (this.delayMs > 0) await sleep(this.delayMs);
    const err = this.failWhen?.(ids);
    if (err !== undefined) throw err;
    const want = (name: string) => outputs === undefined || outputs.includes(name);
    const out: TensorMap = {};
    if (want('y')) out.y = { datatype: 'FP32', shape: [rows, width], data: data.map((v) => v * 2) };
    if (want('idx')) out.idx = { datatype: 'INT32', shape: [rows], data: Int32Array.from({ length: rows }, (_, i) => i) };
    if (this.reduce && want('sum')) out.sum = { datatype: 'FP32', shape: [1], data: new Float32Array([data.reduce((a, b) => a + b, 0)]) };
    return out;
  };

  /** Lets every run waiting at the gate finish, and lets later runs through. */
  open(): void {
    this.gated = false;
    for (const w of this.waiters.splice(0)) w();
  }

  get batchRows(): number[] {
    return this.calls.map((c) => c.rows);
  }
}

/** Request `id` with `rows` rows: row i is [id * 100 + i, -(id * 100 + i)], so every row says whose it is. */
function input(id: number, rows: number, width = 2): TensorMap {
  const data = new Float32Array(rows * width);
  for (let i = 0; i < rows; i++) {
    data[i * width] = id * 100 + i;
    data[i * width + 1] = -(id * 100 + i);
  }
  return { x: { datatype: 'FP32', shape: [rows, width], data } };
}

function rowIds(rows: number, id: number): number[] {
  return Array.from({ length: rows }, (_, i) => id * 100 + i);
}

function assertOwnRows(result: TensorMap, id: number, rows: number): void {
  assert.deepEqual(result.y!.shape, [rows, 2]);
  const y = [...(result.y!.data as Float32Array)];
  assert.deepEqual(y, rowIds(rows, id).flatMap((v) => [v * 2, -v * 2]));
}

const soon = () => Date.now() + 10_000;

function batcher(model: FakeModel, options: Partial<DynamicBatcherOptions> = {}): DynamicBatcher {
  return new DynamicBatcher({ run: model.run, maxBatchSize: 16, maxQueueDelayMs: 5, maxQueueSize: 100, ...options });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const giveUp = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > giveUp) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

/** Submits a request that holds the only run slot until `model.open()`, so what follows must queue. */
async function occupy(b: DynamicBatcher | DirectRunner, model: FakeModel): Promise<{ blocker: Promise<TensorMap> }> {
  model.gated = true;
  const blocker = b.submit(input(99, 1), 1, { deadline: soon() });
  await until(() => b.stats().inFlightRuns === 1, 'the blocking run to start');
  // wrapped: an async function returning the promise itself would wait for it
  return { blocker };
}

function isCode(code: string) {
  return (e: unknown) => e instanceof ModelgateError && e.code === code;
}

describe('DynamicBatcher', () => {
  it('merges requests of mixed sizes and gives each caller exactly its own rows, in order', async () => {
    const model = new FakeModel();
    const b = batcher(model);
    const sizes = [1, 3, 2, 5];
    const results = await Promise.all(sizes.map((rows, id) => b.submit(input(id, rows), rows, { deadline: soon() })));
    assert.deepEqual(model.batchRows, [11]);
    assert.deepEqual(model.calls[0]!.ids, sizes.flatMap((rows, id) => rowIds(rows, id)));
    let offset = 0;
    for (const [id, rows] of sizes.entries()) {
      assertOwnRows(results[id]!, id, rows);
      // idx is the row's position in the merged run: the caller's slice starts where its rows went in
      assert.deepEqual([...(results[id]!.idx!.data as Int32Array)], Array.from({ length: rows }, (_, i) => offset + i));
      assert.deepEqual(results[id]!.idx!.shape, [rows]);
      offset += rows;
    }
  });

  it('respects maxBatchSize and runs a larger request alone', async () => {
    const model = new FakeModel();
    model.delayMs = 2;
    const b = batcher(model, { maxBatchSize: 4 });
    const sizes = [1, 1, 1, 2, 1, 6, 1, 3, 1, 1];
    const results = await Promise.all(sizes.map((rows, id) => b.submit(input(id, rows), rows, { deadline: soon() })));
    sizes.forEach((rows, id) => assertOwnRows(results[id]!, id, rows));
    for (const c of model.calls) assert.ok(c.rows <= 4 || (c.rows === 6 && c.ids.length === 6 && c.ids[0] === 500), `batch of ${c.rows}`);
    assert.ok(model.calls.some((c) => c.rows === 6), 'the 6-row request ran');
    // in arrival order within what fits: 1+1+1 then the 2 would overflow 4, so it starts the next batch
    assert.deepEqual(model.calls[0]!.ids, [0, 100, 200]);
    assert.deepEqual(model.calls.flatMap((c) => c.ids).sort((a, b) => a - b), sizes.flatMap((rows, id) => rowIds(rows, id)).sort((a, b) => a - b));
  });

  it('sends a preferred batch size at once instead of waiting for the delay', async () => {
    const model = new FakeModel();
    const b = batcher(model, { maxBatchSize: 8, preferredBatchSizes: [2, 4], maxQueueDelayMs: 60_000 });
    const { blocker } = await occupy(b, model);
    const first = [1, 2, 3, 4, 5].map((id) => b.submit(input(id, 1), 1, { deadline: soon() }));
    model.open();
    await blocker;
    // five queued rows can form 4 (not 8): sent at once; the fifth waits, far below its delay
    await Promise.all(first.slice(0, 4));
    assert.deepEqual(model.batchRows, [1, 4]);
    assert.equal(b.stats().queuedRequests, 1);
    // one more row makes a preferred 2
    const sixth = b.submit(input(6, 1), 1, { deadline: soon() });
    await Promise.all([first[4], sixth]);
    assert.deepEqual(model.batchRows, [1, 4, 2]);
    assert.deepEqual(model.calls[2]!.ids, [500, 600]);
  });

  it('holds a batch open for maxQueueDelayMs, then sends what it has', async () => {
    const model = new FakeModel();
    // long enough that a stalled event loop cannot make the test's own steps overtake it
    const b = batcher(model, { maxQueueDelayMs: 150 });
    const { blocker } = await occupy(b, model);
    const a = b.submit(input(1, 1), 1, { deadline: soon() });
    model.open();
    await blocker;
    await sleep(5);
    // a is still waiting for company, well inside its delay
    assert.equal(model.calls.length, 1);
    const c = b.submit(input(2, 2), 2, { deadline: soon() });
    const [ra, rc] = await Promise.all([a, c]);
    assertOwnRows(ra, 1, 1);
    assertOwnRows(rc, 2, 2);
    assert.deepEqual(model.batchRows, [1, 3]);
    // and a lone waiting request is sent once its delay is up
    const { blocker: blocker2 } = await occupy(b, model);
    const d = b.submit(input(3, 1), 1, { deadline: soon() });
    model.open();
    await blocker2;
    assertOwnRows(await d, 3, 1);
    assert.deepEqual(model.batchRows, [1, 3, 1, 1]);
  });

  it('with no delay, gathers requests behind a run of their kind in flight, even with run slots free', async () => {
    const model = new FakeModel();
    const b = batcher(model, { maxQueueDelayMs: 0, maxConcurrentRuns: 8, gatherBehindRuns: true });
    const { blocker } = await occupy(b, model);
    // one per turn, as requests reach a server: each finds seven slots free and still waits
    const waiting: Promise<TensorMap>[] = [];
    for (let id = 1; id <= 3; id++) {
      waiting.push(b.submit(input(id, id), id, { deadline: soon() }));
      await sleep(2);
    }
    assert.equal(model.calls.length, 1, 'nothing starts beside the run ahead');
    model.open();
    await blocker;
    const results = await Promise.all(waiting);
    results.forEach((r, i) => assertOwnRows(r, i + 1, i + 1));
    assert.deepEqual(model.batchRows, [1, 6]);
    // a request of another kind (other outputs) does not wait for it
    const { blocker: blocker2 } = await occupy(b, model);
    const other = b.submit(input(4, 1), 1, { deadline: soon(), outputs: ['y'] });
    await until(() => model.calls.length === 4, 'the other kind to start beside the blocker');
    model.open();
    await Promise.all([blocker2, other]);
  });

  it('with no delay and runs that may overlap, starts each request beside the run in flight', async () => {
    const model = new FakeModel();
    const b = batcher(model, { maxQueueDelayMs: 0, maxConcurrentRuns: 8 });
    const { blocker } = await occupy(b, model);
    const started: Promise<TensorMap>[] = [];
    for (let id = 1; id <= 3; id++) {
      started.push(b.submit(input(id, 1), 1, { deadline: soon() }));
      await until(() => model.calls.length === id + 1, `request ${id} to start`);
    }
    model.open();
    const results = await Promise.all([blocker, ...started]);
    results.slice(1).forEach((r, i) => assertOwnRows(r, i + 1, 1));
    assert.deepEqual(model.batchRows, [1, 1, 1, 1]);
  });

  it('runs a request arriving at an idle batcher at once, whatever the delay', async () => {
    const model = new FakeModel();
    const b = batcher(model, { maxQueueDelayMs: 10_000 });
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      assertOwnRows(await b.submit(input(i, 1), 1, { deadline: soon() }), i, 1);
      assert.ok(Date.now() - t0 < 2000, 'far less than the 10 s delay');
    }
    assert.deepEqual(model.batchRows, [1, 1, 1]);
  });

  it('refuses beyond maxQueueSize with QUEUE_FULL and retryAfterSeconds, without holding on to the refused', async () => {
    const model = new FakeModel();
    const b = batcher(model, { maxQueueSize: 3 });
    const { blocker } = await occupy(b, model);
    const queued = [1, 2, 3].map((id) => b.submit(input(id, 1), 1, { deadline: soon() }));
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timersBefore = timers();
    const refused = await Promise.allSettled(Array.from({ length: 1000 }, (_, i) => b.submit(input(10 + i, 1), 1, { deadline: soon() })));
    for (const r of refused) {
      assert.equal(r.status, 'rejected');
      const e = (r as PromiseRejectedResult).reason as ModelgateError;
      assert.equal(e.code, 'MG_ERR_INFER_QUEUE_FULL');
      assert.equal(e.status, 503);
      assert.ok(typeof e.details?.retryAfterSeconds === 'number' && (e.details.retryAfterSeconds as number) >= 1);
    }
    assert.deepEqual({ ...b.stats(), unsplittableOutputs: undefined }, { queuedRequests: 3, queuedRows: 3, inFlightRuns: 1, inFlightRequests: 1, draining: false, merging: true, unsplittableOutputs: undefined, mergeStopped: null });
    assert.equal(timers(), timersBefore);
    model.open();
    await blocker;
    const results = await Promise.all(queued);
    results.forEach((r, i) => assertOwnRows(r, i + 1, 1));
    assert.deepEqual(model.batchRows, [1, 3]);
  });

  it('drops a request whose deadline passes in the queue without running it', async () => {
    const model = new FakeModel();
    const b = batcher(model);
    const { blocker } = await occupy(b, model);
    const late = b.submit(input(1, 1), 1, { deadline: Date.now() + 15 });
    const kept = b.submit(input(2, 1), 1, { deadline: soon() });
    await assert.rejects(late, (e: unknown) => isCode('MG_ERR_INFER_DEADLINE_EXCEEDED')(e) && (e as ModelgateError).details?.phase === 'queued');
    assert.equal(b.stats().queuedRequests, 1);
    await assert.rejects(b.submit(input(3, 1), 1, { deadline: Date.now() - 1 }), isCode('MG_ERR_INFER_DEADLINE_EXCEEDED'));
    model.open();
    await blocker;
    assertOwnRows(await kept, 2, 1);
    assert.ok(!model.calls.some((c) => c.ids.includes(100)), 'the expired request never ran');
  });

  it('answers a running request at its deadline; the run still counts until it ends', async () => {
    const model = new FakeModel();
    const b = batcher(model);
    model.gated = true;
    // Long enough for the run to start on a loaded machine (at 15 ms CI once saw it expire still queued).
    const p = b.submit(input(1, 1), 1, { deadline: Date.now() + 150 });
    await assert.rejects(p, (e: unknown) => isCode('MG_ERR_INFER_DEADLINE_EXCEEDED')(e) && (e as ModelgateError).details?.phase === 'running');
    assert.equal(b.stats().inFlightRuns, 1);
    let drained = false;
    const d = b.drain().then(() => (drained = true));
    await sleep(5);
    assert.equal(drained, false);
    model.open();
    await d;
  });

  it('fails only the requests that fail alone when a merged run fails, and keeps merging', async () => {
    const model = new FakeModel();
    const stopped: string[] = [];
    const b = batcher(model, { onMergeStopped: (r) => stopped.push(r) });
    const boom = new Error('kernel exploded');
    model.failWhen = (ids) => (ids.includes(100) ? boom : undefined);
    const settled = await Promise.allSettled([0, 1, 2].map((id) => b.submit(input(id, 1), 1, { deadline: soon() })));
    // the merged run, then each request alone, in the slot the batch held
    assert.deepEqual(model.calls.map((c) => c.ids), [[0, 100, 200], [0], [100], [200]]);
    assert.equal(settled[0]!.status, 'fulfilled');
    assertOwnRows((settled[0] as PromiseFulfilledResult<TensorMap>).value, 0, 1);
    assert.equal(settled[2]!.status, 'fulfilled');
    assertOwnRows((settled[2] as PromiseFulfilledResult<TensorMap>).value, 2, 1);
    assert.equal(settled[1]!.status, 'rejected');
    const e = (settled[1] as PromiseRejectedResult).reason as ModelgateError;
    assert.equal(e.code, 'MG_ERR_INFER_RUNTIME_FAILED');
    assert.equal(e.cause, boom);
    assert.deepEqual(stopped, [], 'a request that fails alone is the request\'s fault, not merging\'s');
    assert.equal(b.stats().mergeStopped, null);
    assert.deepEqual(b.stats().inFlightRuns, 0);
    // a ModelgateError from the runtime passes through as it is
    const own = new ModelgateError('MG_ERR_RUNTIME_JS_TIMEOUT');
    model.failWhen = (ids) => (ids.includes(700) ? own : undefined);
    await assert.rejects(b.submit(input(7, 1), 1, { deadline: soon() }), (err: unknown) => err === own);
    model.failWhen = undefined;
    const after = await Promise.all([3, 4].map((id) => b.submit(input(id, 2), 2, { deadline: soon() })));
    assertOwnRows(after[0]!, 3, 2);
    assertOwnRows(after[1]!, 4, 2);
    assert.deepEqual(model.batchRows.slice(4), [1, 4]);
  });

  it('stops merging for good when a merged run fails and each of its requests succeeds alone', async () => {
    const model = new FakeModel();
    const stopped: string[] = [];
    const b = batcher(model, { onMergeStopped: (r) => stopped.push(r) });
    // a graph whose batch dimension is 1 inside, whatever its signature says
    model.failWhen = (ids) => (ids.length > 1 ? new Error('Reshape: input has 8 elements, shape asks for 4') : undefined);
    const first = await Promise.all([1, 2, 3].map((id) => b.submit(input(id, 1), 1, { deadline: soon() })));
    first.forEach((r, i) => assertOwnRows(r, i + 1, 1));
    assert.deepEqual(model.batchRows, [3, 1, 1, 1]);
    assert.equal(stopped.length, 1);
    assert.match(stopped[0]!, /3 merged requests failed \(.*Reshape.*\) and each of them succeeded alone/);
    assert.equal(b.stats().mergeStopped, stopped[0]);
    assert.equal(b.stats().merging, false);
    // from now on every request runs alone, and the model is never asked for a batch again
    const later = await Promise.all([4, 5].map((id) => b.submit(input(id, 1), 1, { deadline: soon() })));
    later.forEach((r, i) => assertOwnRows(r, i + 4, 1));
    assert.deepEqual(model.batchRows.slice(4), [1, 1]);
    assert.equal(stopped.length, 1);
  });

  it('falls back to one run per request when an output cannot be split, and stops merging for it', async () => {
    const model = new FakeModel();
    model.reduce = true;
    const b = batcher(model);
    const [r1, r2] = await Promise.all([b.submit(input(1, 1), 1, { deadline: soon() }), b.submit(input(2, 2), 2, { deadline: soon() })]);
    // merged once, then each alone
    assert.deepEqual(model.batchRows, [3, 1, 2]);
    assertOwnRows(r1!, 1, 1);
    assertOwnRows(r2!, 2, 2);
    assert.deepEqual([...(r1!.sum!.data as Float32Array)], [0]);
    assert.deepEqual([...(r2!.sum!.data as Float32Array)], [0]);
    assert.deepEqual(b.stats().unsplittableOutputs, ['sum']);

    // all outputs includes sum: no more merged attempts
    await Promise.all([b.submit(input(3, 1), 1, { deadline: soon() }), b.submit(input(4, 1), 1, { deadline: soon() })]);
    assert.deepEqual(model.batchRows.slice(3), [1, 1]);
    // outputs that can be split still batch
    const [r5, r6] = await Promise.all([5, 6].map((id) => b.submit(input(id, 1), 1, { deadline: soon(), outputs: ['y'] })));
    assert.deepEqual(model.batchRows.slice(5), [2]);
    assertOwnRows(r5!, 5, 1);
    assertOwnRows(r6!, 6, 1);
    assert.deepEqual(Object.keys(r5!), ['y']);
  });

  it('merges only requests asking for the same outputs, and with the same trailing dimensions', async () => {
    const model = new FakeModel();
    const b = batcher(model);
    const asks: (string[] | undefined)[] = [['y'], ['idx'], undefined, ['y'], ['idx', 'y'], [], ['y', 'idx']];
    const results = await Promise.all(asks.map((outputs, id) => b.submit(input(id, 1), 1, { deadline: soon(), outputs })));
    const groups = model.calls.map((c) => ({ ids: c.ids, outputs: c.outputs }));
    // oldest request's group first; [] means all outputs, like absent
    assert.deepEqual(groups, [
      { ids: [0, 300], outputs: ['y'] },
      { ids: [100], outputs: ['idx'] },
      { ids: [200, 500], outputs: undefined },
      { ids: [400, 600], outputs: ['idx', 'y'] },
    ]);
    assert.deepEqual(Object.keys(results[0]!), ['y']);
    assert.deepEqual(Object.keys(results[1]!), ['idx']);
    assert.deepEqual(Object.keys(results[2]!).sort(), ['idx', 'y']);
    assert.deepEqual(Object.keys(results[6]!).sort(), ['idx', 'y']);
    assert.deepEqual([...(results[6]!.idx!.data as Int32Array)], [1]);

    model.calls.length = 0;
    const wide = await Promise.all([b.submit(input(1, 1, 3), 1, { deadline: soon() }), b.submit(input(2, 1), 1, { deadline: soon() }), b.submit(input(3, 1, 3), 1, { deadline: soon() })]);
    assert.deepEqual(model.calls.map((c) => c.ids), [[100, 300], [200]]);
    assertOwnRows(wide[1]!, 2, 1);
  });

  it('runs a request whose tensors do not match its row count alone', async () => {
    const model = new FakeModel();
    const b = batcher(model);
    const odd = input(2, 2);
    await Promise.all([b.submit(input(1, 1), 1, { deadline: soon() }), b.submit(odd, 3, { deadline: soon() }), b.submit(input(3, 1), 1, { deadline: soon() })]);
    assert.deepEqual(model.calls.map((c) => c.ids), [[100, 300], [200, 201]]);
  });

  it('batches callers that resubmit as soon as they are answered', async () => {
    const model = new FakeModel();
    model.delayMs = 1;
    const batches: BatchInfo[] = [];
    const b = batcher(model, { maxBatchSize: 8, maxQueueDelayMs: 2, onBatch: (i) => batches.push(i) });
    await Promise.all(
      Array.from({ length: 8 }, async (_, caller) => {
        for (let i = 0; i < 20; i++) assertOwnRows(await b.submit(input(caller, 1), 1, { deadline: soon() }), caller, 1);
      }),
    );
    assert.equal(batches.reduce((a, x) => a + x.size, 0), 160);
    assert.ok(batches.every((x) => x.requests === x.size && x.queueMs >= 0));
    // all eight land together every time
    assert.ok(batches.length <= 25, `${batches.length} batches`);
  });

  it('drain runs what is queued without waiting for the delay, waits for it, then refuses', async () => {
    const model = new FakeModel();
    const b = batcher(model, { maxQueueDelayMs: 60_000 });
    const { blocker } = await occupy(b, model);
    const queued = [1, 2].map((id) => b.submit(input(id, 1), 1, { deadline: soon() }));
    const order: string[] = [];
    for (const [i, q] of queued.entries()) void q.then(() => order.push(`request ${i}`));
    const drained = b.drain().then(() => order.push('drained'));
    assert.equal(b.drain(), b.drain());
    await assert.rejects(b.submit(input(3, 1), 1, { deadline: soon() }), isCode('MG_ERR_INFER_SHUTTING_DOWN'));
    await sleep(5);
    assert.deepEqual(order, []);
    model.open();
    await blocker;
    await drained;
    assert.deepEqual(order, ['request 0', 'request 1', 'drained']);
    assert.deepEqual(model.batchRows, [1, 2]);
    assert.equal(b.stats().draining, true);
    await assert.rejects(b.submit(input(4, 1), 1, { deadline: soon() }), isCode('MG_ERR_INFER_SHUTTING_DOWN'));
  });

  it('drain resolves at once when idle', async () => {
    await batcher(new FakeModel()).drain();
  });

  it('reports batches to onBatch and survives a throwing callback', async () => {
    const model = new FakeModel();
    const seen: BatchInfo[] = [];
    const b = batcher(model, {
      onBatch: (i) => {
        seen.push(i);
        throw new Error('metrics down');
      },
    });
    await Promise.all([b.submit(input(1, 2), 2, { deadline: soon() }), b.submit(input(2, 3), 3, { deadline: soon() })]);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.size, 5);
    assert.equal(seen[0]!.requests, 2);
  });

  it('tells each request when its run starts and how long it queued, surviving a throwing callback', async () => {
    const model = new FakeModel();
    model.gated = true;
    const b = batcher(model, { maxBatchSize: 2, maxQueueDelayMs: 0 });
    const events: string[] = [];
    const waits: number[] = [];
    const first = b.submit(input(1, 2), 2, { deadline: soon(), onStart: () => events.push('start 1') });
    const second = b.submit(input(2, 2), 2, {
      deadline: soon(),
      onStart: (ms) => {
        events.push('start 2');
        waits.push(ms);
        throw new Error('tracing down');
      },
    });
    await sleep(20);
    assert.deepEqual(events, ['start 1'], 'the second request waits while the only run slot is busy');
    model.open();
    await Promise.all([first.then(() => events.push('done 1')), second.then(() => events.push('done 2'))]);
    assert.deepEqual(events.slice(0, 2), ['start 1', 'done 1']);
    assert.ok(events.indexOf('start 2') < events.indexOf('done 2'));
    assert.ok(waits[0]! >= 15, `queued about 20 ms, reported ${waits[0]}`);
  });

  it('rejects nonsense configuration', () => {
    const run = new FakeModel().run;
    assert.throws(() => new DynamicBatcher({ run, maxBatchSize: 0, maxQueueDelayMs: 1, maxQueueSize: 1 }), RangeError);
    assert.throws(() => new DynamicBatcher({ run, maxBatchSize: 4, maxQueueDelayMs: -1, maxQueueSize: 1 }), RangeError);
    assert.throws(() => new DynamicBatcher({ run, maxBatchSize: 4, maxQueueDelayMs: 1, maxQueueSize: 0 }), RangeError);
    assert.throws(() => new DynamicBatcher({ run, maxBatchSize: 4, maxQueueDelayMs: 1, maxQueueSize: 1, preferredBatchSizes: [2.5] }), RangeError);
  });
});

describe('DirectRunner', () => {
  it('runs each request alone, in order, at most maxConcurrentRuns at a time', async () => {
    const model = new FakeModel();
    model.delayMs = 3;
    let running = 0;
    let peak = 0;
    const run = async (inputs: TensorMap, outputs?: string[]) => {
      peak = Math.max(peak, ++running);
      try {
        return await model.run(inputs, outputs);
      } finally {
        running--;
      }
    };
    const r = new DirectRunner({ run, maxQueueSize: 100, maxConcurrentRuns: 2 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((id) => r.submit(input(id, id), id, { deadline: soon(), outputs: ['y'] })));
    results.forEach((res, i) => assertOwnRows(res, i + 1, i + 1));
    assert.deepEqual(model.batchRows, [1, 2, 3, 4, 5]);
    assert.equal(peak, 2);
    assert.deepEqual(model.calls[0]!.outputs, ['y']);
  });

  it('starts a run synchronously when a slot is free', () => {
    const model = new FakeModel();
    const r = new DirectRunner({ run: model.run, maxQueueSize: 1 });
    void r.submit(input(1, 1), 1, { deadline: soon() });
    assert.equal(model.calls.length, 1);
  });

  it('bounds the queue, drops expired requests, wraps failures and drains', async () => {
    const model = new FakeModel();
    const infos: BatchInfo[] = [];
    const r = new DirectRunner({ run: model.run, maxQueueSize: 2, onBatch: (i) => infos.push(i) });
    const { blocker } = await occupy(r, model);
    const late = r.submit(input(1, 1), 1, { deadline: Date.now() + 10 });
    const kept = r.submit(input(2, 1), 1, { deadline: soon() });
    const full = (await r.submit(input(3, 1), 1, { deadline: soon() }).catch((e: unknown) => e)) as ModelgateError;
    assert.equal(full.code, 'MG_ERR_INFER_QUEUE_FULL');
    assert.ok((full.details!.retryAfterSeconds as number) >= 1);
    await assert.rejects(late, isCode('MG_ERR_INFER_DEADLINE_EXCEEDED'));
    assert.deepEqual(r.stats(), { queuedRequests: 1, queuedRows: 1, inFlightRuns: 1, inFlightRequests: 1, draining: false, merging: false });
    model.failWhen = (ids) => (ids.includes(200) ? new TypeError('bad feed') : undefined);
    const drained = r.drain();
    await assert.rejects(r.submit(input(4, 1), 1, { deadline: soon() }), isCode('MG_ERR_INFER_SHUTTING_DOWN'));
    model.open();
    await blocker;
    await assert.rejects(kept, (e: unknown) => isCode('MG_ERR_INFER_RUNTIME_FAILED')(e) && (e as Error).cause instanceof TypeError);
    await drained;
    assert.deepEqual(model.batchRows, [1, 1]);
    assert.deepEqual(infos.map((i) => [i.size, i.requests]), [[1, 1], [1, 1]]);
  });

  it('estimates Retry-After from the throughput it has seen', async () => {
    const model = new FakeModel();
    model.delayMs = 100;
    const r = new DirectRunner({ run: model.run, maxQueueSize: 30 });
    // two runs of ≥ 100 ms each: at most 10 requests/s, so 30 waiting take ≥ 3 s
    await r.submit(input(1, 1), 1, { deadline: soon() });
    await r.submit(input(2, 1), 1, { deadline: soon() });
    model.gated = true;
    const queued = Array.from({ length: 31 }, (_, i) => r.submit(input(10 + i, 1), 1, { deadline: soon() }));
    const full = (await r.submit(input(99, 1), 1, { deadline: soon() }).catch((e: unknown) => e)) as ModelgateError;
    assert.equal(full.code, 'MG_ERR_INFER_QUEUE_FULL');
    const s = full.details!.retryAfterSeconds as number;
    assert.ok(s >= 3 && s <= 60, `retryAfterSeconds ${s}`);
    model.delayMs = 0;
    model.open();
    await Promise.all(queued);
  });
});

/**
 * Worker-thread side of WorkerShardStore (worker-shard-store.ts): owns a ShardStore and runs its
 * calls one after another, in the order they were posted, so chunks stream into the shard's table
 * in order. Each reply carries the call's id and its value, or the error's kind and message: input
 * and environment errors keep their kind (and so their one-line report and exit status).
 */
import { InputError, environmentErrorOf } from '../errors.ts';
import { ShardStore } from './sweep-store.ts';

interface Call {
  id: number;
  op: 'open' | 'prepare' | 'begin' | 'storedRanges' | 'storeChunk' | 'finish' | 'close';
  args: unknown[];
}

let store: ShardStore | undefined;
let queue: Promise<void> = Promise.resolve();

async function handle({ op, args }: Call): Promise<unknown> {
  if (op === 'open') {
    const [outDir, shard, identity, options] = args as ConstructorParameters<typeof ShardStore>;
    store = new ShardStore(outDir, shard, identity, options);
    return undefined;
  }
  if (op === 'close') {
    store?.close();
    return undefined;
  }
  if (!store) throw new Error(`shard store worker: '${op}' before 'open'`);
  const method = store[op] as (...a: unknown[]) => Promise<unknown>;
  return await method.apply(store, args);
}

self.onmessage = (event: MessageEvent<Call>) => {
  const call = event.data;
  queue = queue.then(async () => {
    try {
      self.postMessage({ id: call.id, ok: true, value: await handle(call) });
    } catch (error) {
      const e = (error instanceof InputError ? error : environmentErrorOf(error) ?? error) as Error;
      self.postMessage({ id: call.id, ok: false, name: e?.name ?? 'Error', message: e?.message ?? String(error), stack: e?.stack });
    }
  });
};

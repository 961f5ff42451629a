// BullMQ peer of Floodgate's benchmark harness, started by bench/Floodgate.Bench (Peers/BullMqPeer.cs) against a
// redis-server the harness runs on a free port. One run per invocation; prints one JSON line with the result.
//
//   node run.mjs --redis 127.0.0.1:6390 --jobs 100000 --concurrency 256 --global 256 --mode e2e|processing [--sleep-ms 0]
//
// e2e: the clock starts before the first job is added (jobs are added in bulks of 1,000 while the worker runs) and stops
// when the worker has completed the last one. processing: every job is added first, then the worker starts; the clock
// runs from the worker's start to the last completion. A job waits --sleep-ms (0: returns at once, a no-op).
// Completed jobs are kept in Redis (BullMQ's default), as Floodgate keeps every outcome.
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []));
const [host, port] = (args.redis ?? '127.0.0.1:6379').split(':');
const jobs = Number(args.jobs ?? 100000);
const concurrency = Number(args.concurrency ?? 256);
const globalConcurrency = Number(args.global ?? concurrency);
const mode = args.mode ?? 'e2e';
const sleepMs = Number(args['sleep-ms'] ?? 0);
if (!Number.isInteger(jobs) || jobs < 1 || !['e2e', 'processing'].includes(mode)) {
  console.error('usage: node run.mjs --redis host:port --jobs N --concurrency C --global G --mode e2e|processing [--sleep-ms MS]');
  process.exit(2);
}

const connection = () => new IORedis({ host, port: Number(port), maxRetriesPerRequest: null });
const name = `bench-${mode}-${process.pid}-${Date.now()}`;
const queue = new Queue(name, { connection: connection() });
await queue.setGlobalConcurrency(globalConcurrency);

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
let done = 0;
let finished;
const allDone = new Promise(resolve => { finished = resolve; });
const startWorker = () => {
  const worker = new Worker(name, async () => (sleepMs > 0 ? sleep(sleepMs) : undefined), { connection: connection(), concurrency });
  worker.on('completed', () => { if (++done === jobs) finished(); });
  worker.on('failed', (_, error) => { console.error(`job failed: ${error?.message}`); process.exit(1); });
  return worker;
};
const addAll = async () => {
  for (let first = 0; first < jobs; first += 1000) {
    const count = Math.min(1000, jobs - first);
    await queue.addBulk(Array.from({ length: count }, (_, i) => ({ name: 'noop', data: { i: first + i } })));
  }
};

let worker;
let started;
if (mode === 'e2e') {
  started = performance.now();
  worker = startWorker();
  await addAll();
} else {
  await addAll();
  started = performance.now();
  worker = startWorker();
}

await allDone;
const seconds = (performance.now() - started) / 1000;
await worker.close();
await queue.obliterate({ force: true });
await queue.close();
console.log(JSON.stringify({ mode, jobs, concurrency, globalConcurrency, sleepMs, seconds, bullmq: (await import('bullmq/package.json', { with: { type: 'json' } })).default.version }));
process.exit(0);

// A training worker thread: one replica on its own tfjs backend, answering the coordinator's requests.
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../backend.js';
import { SharedCollective } from './collective.js';
import type { WorkerReply, WorkerRequest, WorkerSetup } from './messages.js';
import { Replica } from './replica.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const send = (reply: WorkerReply) => port.postMessage(reply);

const backend = await selectBackend(setup.backend, { threads: setup.threads, precision: setup.precision });
const replica = new Replica(setup.init, new SharedCollective(setup.memory, setup.rank));
send({ id: -1, kind: 'ready', backend });

port.on('message', async (request: WorkerRequest) => {
  try {
    let value: unknown;
    if (request.kind === 'step') value = await replica.step(request.shard, request.settings, request.globalBatch);
    else if (request.kind === 'evaluate') value = await replica.evaluate(request.shard, request.survivalProbs);
    else value = await replica.state();
    send({ id: request.id, kind: 'result', value });
  } catch (error) {
    send({ id: request.id, kind: 'error', message: error instanceof Error ? error.message : String(error) });
  }
});

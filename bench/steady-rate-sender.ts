/**
 * Sends prepared deliveries open-loop at a steady rate (one every 1000/rate ms, whatever the answers do), as
 * GitHub does, and notes when each left and when it was acknowledged.
 *
 * The sending runs on a thread of its own: the benchmark's main thread also hosts the fake Discord, which
 * takes hundreds of posts a second while the server catches up, and a send or an answer waiting behind that
 * work would be counted as the server's latency. Times come back in the caller's `performance.now()` clock
 * (the one the fake Discord's receipts are recorded on), through the absolute time both threads share.
 * The thread's script is inline CommonJS so that it needs no TypeScript loader.
 */
import { Worker } from "node:worker_threads";
import type { SignedDelivery } from "../src/sources/signed-delivery.js";

export interface SentDelivery {
  sentAt: number;
  ackedAt?: number;
  status?: number;
  error?: string;
}

const THREAD_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { Agent, request } = require("node:http");
const { url, deliveries, perSecond } = workerData;
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const interval = 1000 / perSecond;
const now = () => performance.timeOrigin + performance.now();
const sent = [];
const answers = [];
const start = performance.now();
let next = 0;
function send(delivery, record) {
  return new Promise((resolve) => {
    const outgoing = request(
      new URL(delivery.path, url),
      { method: "POST", agent, headers: { ...delivery.headers, "content-length": Buffer.byteLength(delivery.body) } },
      (response) => {
        response.resume();
        response.on("end", () => {
          record.ackedAt = now();
          record.status = response.statusCode;
          resolve();
        });
      },
    );
    outgoing.on("error", (error) => {
      record.error = error.message;
      resolve();
    });
    outgoing.end(delivery.body);
  });
}
function tick() {
  // Catch up on every send that fell due while the timer slept, so the rate holds on a busy machine.
  while (next < deliveries.length && start + next * interval <= performance.now()) {
    answers.push(send(deliveries[next], (sent[next] = { sentAt: now() })));
    next++;
  }
  if (next < deliveries.length) setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
  else Promise.all(answers).then(() => { agent.destroy(); parentPort.postMessage(sent); });
}
tick();
`;

export async function sendAtSteadyRate(options: {
  url: string;
  deliveries: readonly SignedDelivery[];
  perSecond: number;
}): Promise<SentDelivery[]> {
  const worker = new Worker(THREAD_SOURCE, {
    eval: true,
    workerData: {
      url: options.url,
      perSecond: options.perSecond,
      deliveries: options.deliveries.map(({ path, headers, body }) => ({ path, headers, body })),
    },
  });
  const sent = await new Promise<SentDelivery[]>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`the sending thread exited with code ${code}`)));
  });
  await worker.terminate();
  // From the absolute time both threads share to this thread's performance.now().
  const local = (at: number) => at - performance.timeOrigin;
  return sent.map((record) => ({
    ...record,
    sentAt: local(record.sentAt),
    ...(record.ackedAt !== undefined ? { ackedAt: local(record.ackedAt) } : {}),
  }));
}

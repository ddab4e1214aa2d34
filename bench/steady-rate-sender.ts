/**
 * Sends prepared deliveries open-loop at a steady rate (one every 1000/rate ms, whatever the answers do), as
 * GitHub does, and notes when each left and when it was acknowledged. Times are `performance.now()` in this
 * process, the clock the fake Discord's receipts are recorded on.
 */
import { Agent, request } from "node:http";
import type { SignedDelivery } from "../src/sources/signed-delivery.js";

export interface SentDelivery {
  sentAt: number;
  ackedAt?: number;
  status?: number;
  error?: string;
}

export async function sendAtSteadyRate(options: {
  url: string;
  deliveries: readonly SignedDelivery[];
  perSecond: number;
}): Promise<SentDelivery[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const interval = 1000 / options.perSecond;
  const sent: SentDelivery[] = [];
  const answers: Array<Promise<void>> = [];
  const start = performance.now();
  let next = 0;

  await new Promise<void>((resolve) => {
    const tick = () => {
      // Catch up on every send that fell due while the timer slept, so the rate holds on a busy machine.
      while (next < options.deliveries.length && start + next * interval <= performance.now()) {
        answers.push(send(options.deliveries[next]!, (sent[next] = { sentAt: performance.now() })));
        next++;
      }
      if (next === options.deliveries.length) resolve();
      else setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
    };
    tick();
  });
  await Promise.all(answers);
  agent.destroy();
  return sent;

  function send(delivery: SignedDelivery, record: SentDelivery): Promise<void> {
    return new Promise((resolve) => {
      const outgoing = request(
        new URL(delivery.path, options.url),
        {
          method: "POST",
          agent,
          headers: { ...delivery.headers, "content-length": Buffer.byteLength(delivery.body) },
        },
        (response) => {
          response.resume();
          response.on("end", () => {
            record.ackedAt = performance.now();
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
}

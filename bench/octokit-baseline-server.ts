/**
 * The benchmark's baseline: the smallest correct GitHub webhook receiver, `@octokit/webhooks`'s own Node
 * middleware with a no-op handler. It verifies the signature and answers, and stores nothing, so the ratio
 * to it shows what Switchboard's durability (and everything else it does per delivery) costs.
 *
 * Run as a child of the benchmark: `node --import tsx bench/octokit-baseline-server.ts` with BASELINE_PORT and
 * GITHUB_WEBHOOK_SECRET set; it sends "ready" over IPC once listening and stops on SIGTERM.
 */
import { createServer } from "node:http";
import { Webhooks, createNodeMiddleware } from "@octokit/webhooks";

const secret = process.env.GITHUB_WEBHOOK_SECRET;
const port = Number(process.env.BASELINE_PORT);
if (!secret || !Number.isInteger(port)) {
  console.error("Set GITHUB_WEBHOOK_SECRET and BASELINE_PORT.");
  process.exit(2);
}

const webhooks = new Webhooks({ secret });
webhooks.onAny(() => {});
const middleware = createNodeMiddleware(webhooks, { path: "/webhooks/github" });
const server = createServer((request, response) => {
  void middleware(request, response, () => {
    response.writeHead(404).end();
  });
});
// Same as Switchboard's listener: keep-alive connections outlive the sender's idle timeout.
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => process.send?.("ready"));
process.once("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});

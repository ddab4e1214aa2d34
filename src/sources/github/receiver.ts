/**
 * POST /webhooks/github, framework-free. Checks in the order octokit/webhooks.js does: content type, required
 * headers, then the signature over the raw bytes, and only then parses JSON.
 */
import { Webhooks } from "@octokit/webhooks";
import type { PersistDelivery, WebhookRequest, WebhookResponse } from "../webhook-receiver.js";
import { header, isJsonContentType, persistAndAnswer, reject } from "../webhook-receiver.js";

/** GitHub caps webhook payloads at 25 MB and drops larger ones. */
export const GITHUB_BODY_LIMIT_BYTES = 25 * 1024 * 1024;

export interface GitHubReceiver {
  receive(request: WebhookRequest): Promise<WebhookResponse>;
}

export function createGitHubReceiver(options: {
  secret: string;
  persist: PersistDelivery;
  clock?: () => number;
}): GitHubReceiver {
  const webhooks = new Webhooks({ secret: options.secret });
  const clock = options.clock ?? Date.now;
  return {
    async receive(request) {
      if (!isJsonContentType(request.contentType)) {
        return reject(
          400,
          "malformed",
          "Content-Type must be application/json: set it in the webhook settings.",
        );
      }
      const event = header(request, "x-github-event");
      const deliveryId = header(request, "x-github-delivery");
      if (!event || !deliveryId) {
        return reject(400, "malformed", "Missing X-GitHub-Event or X-GitHub-Delivery header.", event);
      }
      const signature = header(request, "x-hub-signature-256");
      if (!signature) return reject(401, "bad_signature", "Missing X-Hub-Signature-256 header.", event);
      const body = request.body.toString("utf8");
      const valid = await webhooks.verify(body, signature).catch(() => false);
      if (!valid)
        return reject(401, "bad_signature", "Signature does not match: check GITHUB_WEBHOOK_SECRET.", event);
      try {
        JSON.parse(body);
      } catch {
        return reject(400, "malformed", "Body is not valid JSON.", event);
      }
      return persistAndAnswer(options.persist, {
        source: "github",
        deliveryId,
        event,
        body,
        receivedAt: clock(),
      });
    },
  };
}

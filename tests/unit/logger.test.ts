import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/observability/logger.js";

function collectingLogger(secrets: string[]) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString("utf8"));
      callback();
    },
  });
  return { logger: createLogger({ level: "info", format: "json", secrets, destination }), lines };
}

describe("log scrubbing", () => {
  it("replaces every configured secret wherever it appears in a line", () => {
    const { logger, lines } = collectingLogger(["gh-webhook-secret-example-123"]);
    logger.error(
      { detail: "signed with gh-webhook-secret-example-123" },
      "boom gh-webhook-secret-example-123",
    );
    expect(lines.join("")).not.toContain("gh-webhook-secret-example-123");
    expect(lines.join("")).toContain("[REDACTED]");
  });

  it("hides the token of a webhook or interaction URL that is not a configured secret", () => {
    const { logger, lines } = collectingLogger([]);
    logger.warn(
      {
        url: "https://discord.com/api/v10/webhooks/100000000000000001/aW50ZXJhY3Rpb24tdG9rZW4tZXhhbXBsZQ/messages/@original",
      },
      "Follow-up failed",
    );
    const line = lines.join("");
    expect(line).not.toContain("aW50ZXJhY3Rpb24tdG9rZW4tZXhhbXBsZQ");
    expect(line).toContain("/webhooks/100000000000000001/[REDACTED]");
  });
});

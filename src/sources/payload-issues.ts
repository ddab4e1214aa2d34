import type { z } from "zod";

const MAX_ISSUES_IN_REASON = 3;

/** `pull_request.number: expected number, got string; …` for an ignore reason: short, with the paths at fault. */
export function describePayloadIssues(error: z.ZodError, prefix?: string): string {
  const shown = error.issues.slice(0, MAX_ISSUES_IN_REASON).map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join(".");
    return `${path || "payload"}: ${issue.message}`;
  });
  const more = error.issues.length - shown.length;
  return `${shown.join("; ")}${more > 0 ? ` (and ${more} more)` : ""}`;
}

import type { z } from "zod";

/** A configuration problem the operator must fix; the message names the variable or file and key. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** One line per issue: `  routes.0.channel: expected a Discord channel id`. */
export function describeZodIssues(error: z.ZodError, prefix: string): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join(".");
      const where = [prefix, path].filter(Boolean).join(path && prefix ? ": " : "");
      return `  ${where || "(root)"}: ${issue.message}`;
    })
    .join("\n");
}

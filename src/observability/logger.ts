/**
 * pino, with secrets scrubbed from every line on its way out. Redaction sits in the output stream rather
 * than in each call site, so an error message that happens to quote a token is caught too.
 */
import { Writable } from "node:stream";
import pino from "pino";
import pinoPretty from "pino-pretty";

export type Logger = pino.Logger;

export interface LoggerOptions {
  level: string;
  format: "json" | "pretty";
  /** Values that must never be written: tokens, webhook secrets, API keys. */
  secrets: readonly string[];
  /** Where lines go; stdout by default. Tests pass a collector. */
  destination?: NodeJS.WritableStream;
}

export const REDACTED = "[REDACTED]";

export function createLogger(options: LoggerOptions): Logger {
  const output = scrubbingStream(options.destination ?? process.stdout, options.secrets);
  const stream =
    options.format === "pretty"
      ? pinoPretty({ destination: output, colorize: false, translateTime: "SYS:HH:MM:ss.l", sync: true })
      : output;
  return pino(
    {
      level: options.level,
      base: { service: "switchboard" },
      // Header names that carry credentials, wherever a caller puts them.
      redact: {
        paths: [
          "*.authorization",
          "*.Authorization",
          "headers.authorization",
          "headers['x-hub-signature-256']",
          "headers['linear-signature']",
          "*.token",
        ],
        censor: REDACTED,
      },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    stream,
  );
}

/** Replaces every occurrence of each secret (longest first, so one that contains another goes whole). */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && out.includes(secret)) out = out.split(secret).join(REDACTED);
    // JSON-escaped form: a PEM key's newlines appear as \n inside a log line.
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret && out.includes(escaped)) out = out.split(escaped).join(REDACTED);
  }
  return out;
}

/**
 * A Discord webhook URL's last path segment is its token, and that includes the per-interaction tokens that
 * @discordjs/rest puts in a DiscordAPIError's `url` when a follow-up fails: no configured secret to match,
 * so the shape is matched instead.
 */
const WEBHOOK_TOKEN = /(\/webhooks\/\d+\/)[\w.-]+/g;

export function scrubWebhookTokens(text: string): string {
  return text.includes("/webhooks/") ? text.replace(WEBHOOK_TOKEN, `$1${REDACTED}`) : text;
}

function scrubbingStream(destination: NodeJS.WritableStream, secrets: readonly string[]): Writable {
  const ordered = [...new Set(secrets.filter((secret) => secret.length > 0))].sort(
    (a, b) => b.length - a.length,
  );
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      const line = typeof chunk === "string" ? chunk : chunk.toString("utf8");
      destination.write(scrubWebhookTokens(ordered.length > 0 ? scrubSecrets(line, ordered) : line));
      callback();
    },
  });
}

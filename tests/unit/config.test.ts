import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/config-error.js";
import { loadConfigFile, parseConfigFile } from "../../src/config/config-file.js";
import { SECRET_VARIABLES, loadEnvironment, secretValues } from "../../src/config/environment.js";

let directory: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "switchboard-config-"));
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

function writeTemp(name: string, content: string): string {
  const path = join(directory, name);
  writeFileSync(path, content);
  return path;
}

/** The ConfigError message `load` throws; fails the test when it does not throw one. */
function configErrorOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError, but nothing was thrown");
}

describe("environment", () => {
  it("starts with the documented defaults when nothing is set", () => {
    const env = loadEnvironment({});
    expect(env).toMatchObject({
      PORT: 3000,
      HOST: "127.0.0.1",
      DATABASE_URL: "sqlite:./data/switchboard.db",
      DISCORD_API_URL: "https://discord.com/api",
      GITHUB_API_URL: "https://api.github.com",
      LINEAR_API_URL: "https://api.linear.app/graphql",
      LOG_LEVEL: "info",
      LOG_FORMAT: "json",
    });
    for (const name of [
      "CONFIG_FILE",
      "DISCORD_TOKEN",
      "DISCORD_WEBHOOK_URL",
      "DISCORD_DEFAULT_CHANNEL_ID",
      "GITHUB_WEBHOOK_SECRET",
      "LINEAR_WEBHOOK_SECRET",
    ] as const) {
      expect(env[name], name).toBeUndefined();
    }
  });

  it("treats an empty or undefined variable as unset, so `FOO=` in a .env file means the default", () => {
    const env = loadEnvironment({ PORT: "", GITHUB_WEBHOOK_SECRET: "", LINEAR_WEBHOOK_SECRET: undefined });
    expect(env.PORT).toBe(3000);
    expect(env.GITHUB_WEBHOOK_SECRET).toBeUndefined();
    expect(env.LINEAR_WEBHOOK_SECRET).toBeUndefined();
  });

  it("parses numbers and keeps explicit values", () => {
    const env = loadEnvironment({
      PORT: "8080",
      HOST: "0.0.0.0",
      DATABASE_URL: "postgres://switchboard@db:5432/switchboard",
      DISCORD_DEFAULT_CHANNEL_ID: "123456789012345678",
      LOG_FORMAT: "pretty",
    });
    expect(env.PORT).toBe(8080);
    expect(env.HOST).toBe("0.0.0.0");
    expect(env.DATABASE_URL).toBe("postgres://switchboard@db:5432/switchboard");
    expect(env.DISCORD_DEFAULT_CHANNEL_ID).toBe("123456789012345678");
    expect(env.LOG_FORMAT).toBe("pretty");
  });

  it("accepts every secret as <NAME>_FILE", () => {
    expect(SECRET_VARIABLES).toEqual(
      expect.arrayContaining(["DISCORD_TOKEN", "GITHUB_WEBHOOK_SECRET", "LINEAR_WEBHOOK_SECRET"]),
    );
    const env = loadEnvironment({
      GITHUB_WEBHOOK_SECRET_FILE: writeTemp("github-secret", "from-a-docker-secret\n"),
      DISCORD_TOKEN_FILE: writeTemp("discord-token", "token-from-vault"),
    });
    // The trailing newline an editor or `echo` adds is not part of the secret.
    expect(env.GITHUB_WEBHOOK_SECRET).toBe("from-a-docker-secret");
    expect(env.DISCORD_TOKEN).toBe("token-from-vault");
  });

  it("refuses a secret given both as NAME and as NAME_FILE", () => {
    const message = configErrorOf(() =>
      loadEnvironment({
        LINEAR_WEBHOOK_SECRET: "inline",
        LINEAR_WEBHOOK_SECRET_FILE: writeTemp("linear-secret", "from-file"),
      }),
    );
    expect(message).toContain("LINEAR_WEBHOOK_SECRET");
    expect(message).toContain("LINEAR_WEBHOOK_SECRET_FILE");
  });

  it("names the variable and the path when a _FILE cannot be read", () => {
    const missing = join(directory, "no-such-secret");
    const message = configErrorOf(() => loadEnvironment({ GITHUB_WEBHOOK_SECRET_FILE: missing }));
    expect(message).toContain("GITHUB_WEBHOOK_SECRET_FILE");
    expect(message).toContain(missing);
  });

  it.each([
    ["abc", "expected number"],
    ["70000", "65535"],
    ["-1", ">=0"],
  ])("refuses PORT=%s, naming PORT and what is expected", (value, expected) => {
    const message = configErrorOf(() => loadEnvironment({ PORT: value }));
    expect(message).toContain("PORT");
    expect(message).toContain(expected);
  });

  it("refuses a DISCORD_DEFAULT_CHANNEL_ID that is not a Discord id", () => {
    const message = configErrorOf(() => loadEnvironment({ DISCORD_DEFAULT_CHANNEL_ID: "#general" }));
    expect(message).toContain("DISCORD_DEFAULT_CHANNEL_ID");
    expect(message).toContain("a Discord id (17 to 20 digits)");
  });

  it.each(["discord.com/api", "ftp://discord.com/api"])(
    "refuses DISCORD_API_URL=%s, asking for an http(s) URL",
    (value) => {
      const message = configErrorOf(() => loadEnvironment({ DISCORD_API_URL: value }));
      expect(message).toContain("DISCORD_API_URL");
      expect(message).toContain("an http(s) URL");
    },
  );

  it("refuses an incomplete GitHub App trio, naming all three variables", () => {
    const message = configErrorOf(() =>
      loadEnvironment({ GITHUB_APP_ID: "12345", GITHUB_APP_INSTALLATION_ID: "678" }),
    );
    for (const name of ["GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_INSTALLATION_ID"]) {
      expect(message).toContain(name);
    }
  });

  it("accepts the complete GitHub App trio, the private key from a file", () => {
    const env = loadEnvironment({
      GITHUB_APP_ID: "12345",
      GITHUB_APP_INSTALLATION_ID: "678",
      GITHUB_APP_PRIVATE_KEY_FILE: writeTemp("app.pem", "-----BEGIN RSA PRIVATE KEY-----\nabc\n"),
    });
    expect(env.GITHUB_APP_PRIVATE_KEY).toBe("-----BEGIN RSA PRIVATE KEY-----\nabc");
  });

  it("lists the secrets in force for the logger, and only the password of a DATABASE_URL", () => {
    const env = loadEnvironment({
      DISCORD_TOKEN: "discord-token-value",
      GITHUB_WEBHOOK_SECRET: "github-webhook-secret",
      LINEAR_API_KEY: "lin_api_key_value",
      DISCORD_WEBHOOK_URL: "https://discord.com/api/webhooks/1/webhook-token-value",
      DATABASE_URL: "postgres://switchboard:hunter2-password@db.internal:5432/switchboard",
      HOST: "0.0.0.0",
    });
    const secrets = secretValues(env);
    expect(secrets).toEqual(
      expect.arrayContaining([
        "discord-token-value",
        "github-webhook-secret",
        "lin_api_key_value",
        "https://discord.com/api/webhooks/1/webhook-token-value",
        "webhook-token-value",
        "hunter2-password",
      ]),
    );
    expect(secrets).not.toContain(env.DATABASE_URL);
    expect(secrets.some((secret) => secret.includes("db.internal"))).toBe(false);
    expect(secrets).not.toContain("0.0.0.0");
  });

  it("has nothing secret in the default SQLite DATABASE_URL", () => {
    expect(secretValues(loadEnvironment({}))).toEqual([]);
  });
});

describe("config file", () => {
  const EVERY_ROUTE_KEY = `
routes:
  - name: api-prs
    source: github
    match:
      repos: ["acme/api", "acme/*"]
      events: ["pull_request.*", "release.published"]
      branches: ["main"]
      labels: { any: ["bug"], all: ["backend"], none: ["wip"] }
      authors: { include: [], exclude: ["dependabot[bot]", "bots"] }
      drafts: false
    channel: "123456789012345678"
    style: compact
    threads: none
  - name: eng-issues
    source: linear
    match:
      teams: ["ENG"]
      projects: ["Mobile *"]
      events: ["Issue.create", "Issue.update"]
    channel: "223456789012345678"
`;

  it("reads a route with every key, and fills the defaults of a minimal one", () => {
    const config = parseConfigFile(EVERY_ROUTE_KEY, "switchboard.yaml");
    expect(config.routes).toEqual([
      {
        name: "api-prs",
        source: "github",
        match: {
          repos: ["acme/api", "acme/*"],
          events: ["pull_request.*", "release.published"],
          branches: ["main"],
          labels: { any: ["bug"], all: ["backend"], none: ["wip"] },
          authors: { include: [], exclude: ["dependabot[bot]", "bots"] },
          drafts: false,
        },
        channel: "123456789012345678",
        style: "compact",
        threads: "none",
      },
      {
        name: "eng-issues",
        source: "linear",
        match: { teams: ["ENG"], projects: ["Mobile *"], events: ["Issue.create", "Issue.update"] },
        channel: "223456789012345678",
        style: "full",
        threads: "per-item",
      },
    ]);
  });

  it("reads an empty file as no routes", () => {
    expect(parseConfigFile("", "switchboard.yaml").routes).toEqual([]);
  });

  it("refuses an unknown key, naming the file and the path to it", () => {
    const message = configErrorOf(() =>
      parseConfigFile(
        `routes:\n  - name: a\n    source: github\n    channel: "123456789012345678"\n    match:\n      repo: ["acme/api"]\n`,
        "/etc/switchboard.yaml",
      ),
    );
    expect(message).toContain("/etc/switchboard.yaml");
    expect(message).toContain("routes.0.match");
    expect(message).toContain('"repo"');
  });

  it("refuses an unknown top-level key", () => {
    const message = configErrorOf(() => parseConfigFile("route: []\n", "switchboard.yaml"));
    expect(message).toContain('"route"');
  });

  it.each([
    ["a channel name", `"#general"`],
    ["a number too short", `"12345"`],
    // Unquoted, YAML reads the id as a number and loses its last digits: it must be a quoted string.
    ["an unquoted id", "123456789012345678"],
  ])("refuses %s as a channel, naming routes.0.channel and how to write one", (_case, channel) => {
    const message = configErrorOf(() =>
      parseConfigFile(`routes:\n  - name: a\n    source: github\n    channel: ${channel}\n`, "sb.yaml"),
    );
    expect(message).toContain("sb.yaml");
    expect(message).toContain("routes.0.channel");
    expect(message).toContain("a Discord channel id (17 to 20 digits, quoted in YAML)");
  });

  it("refuses two routes with the same name", () => {
    const message = configErrorOf(() =>
      parseConfigFile(
        [
          "routes:",
          "  - { name: prs, source: github, channel: '123456789012345678' }",
          "  - { name: prs, source: linear, channel: '223456789012345678' }",
        ].join("\n"),
        "sb.yaml",
      ),
    );
    expect(message).toContain("routes.1.name");
    expect(message).toContain('duplicate route name "prs"');
  });

  it("refuses a source other than github or linear", () => {
    const message = configErrorOf(() =>
      parseConfigFile("routes:\n  - { name: a, source: gitlab, channel: '123456789012345678' }\n", "sb.yaml"),
    );
    expect(message).toContain("routes.0.source");
  });

  it("refuses a file that is not YAML, naming the file", () => {
    const path = writeTemp("broken.yaml", "routes: [\n  - name: a\n");
    const message = configErrorOf(() => loadConfigFile(path));
    expect(message).toContain(path);
    expect(message).toContain("not valid YAML");
  });

  it("loads a named file from disk", () => {
    const path = writeTemp("routes.yaml", EVERY_ROUTE_KEY);
    const loaded = loadConfigFile(path);
    expect(loaded.path).toBe(path);
    expect(loaded.config.routes.map((route) => route.name)).toEqual(["api-prs", "eng-issues"]);
  });

  it("refuses an explicitly named CONFIG_FILE that does not exist", () => {
    const path = join(directory, "missing.yaml");
    const message = configErrorOf(() => loadConfigFile(path));
    expect(message).toContain("CONFIG_FILE");
    expect(message).toContain(path);
  });

  it("refuses a CONFIG_FILE it cannot read", () => {
    // A directory stands in for an unreadable file: chmod does not stop root, which CI containers often are.
    const message = configErrorOf(() => loadConfigFile(directory));
    expect(message).toContain("CONFIG_FILE");
    expect(message).toContain(directory);
  });

  it("without CONFIG_FILE, uses ./switchboard.yaml when present and no routes otherwise", () => {
    const previous = process.cwd();
    const workdir = mkdtempSync(join(directory, "cwd-"));
    try {
      process.chdir(workdir);
      const none = loadConfigFile(undefined);
      expect(none.path).toBeUndefined();
      expect(none.config.routes).toEqual([]);
      writeFileSync(join(workdir, "switchboard.yaml"), EVERY_ROUTE_KEY);
      const loaded = loadConfigFile(undefined);
      expect(loaded.path).toBe("./switchboard.yaml");
      expect(loaded.config.routes).toHaveLength(2);
    } finally {
      process.chdir(previous);
    }
  });
});

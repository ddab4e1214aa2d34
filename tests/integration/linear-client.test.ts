import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuthError, NotFoundError, RateLimitedError, UserError } from "../../src/errors.js";
import type { LinearApi } from "../../src/sources/linear/linear-api.js";
import { createLinearApi, createLinearClient } from "../../src/sources/linear/linear-client.js";
import { startFakeLinear, type FakeLinear } from "../fakes/linear-server.js";

let linear: FakeLinear;
let client: LinearApi;

beforeAll(async () => {
  linear = await startFakeLinear();
  client = createLinearClient({ apiKey: linear.apiKey, apiUrl: linear.url });
});
afterAll(() => linear.close());
beforeEach(() => linear.clearFaults());

describe("Linear client against the fake Linear API", () => {
  it("is not created without LINEAR_API_KEY", () => {
    expect(createLinearApi({ LINEAR_API_KEY: undefined, LINEAR_API_URL: linear.url })).toBeUndefined();
    expect(createLinearApi({ LINEAR_API_KEY: linear.apiKey, LINEAR_API_URL: linear.url })).toBeDefined();
  });

  it("finds teams by key without regard to case, and lists them", async () => {
    expect(await client.findTeam("eng")).toMatchObject({ key: "ENG", name: "Engineering" });
    expect(await client.findTeam("NOPE")).toBeUndefined();
    expect((await client.listTeams()).map((team) => team.key)).toEqual(["ENG", "DES"]);
  });

  it("creates an issue with a caller-chosen id, reads it back by identifier and by id, and comments on it", async () => {
    const team = (await client.findTeam("ENG"))!;
    const id = "3f1c2b9e-8a7d-4c6b-9e5f-0a1b2c3d4e5f";
    const issue = await client.createIssue({
      teamId: team.id,
      title: "Login fails",
      description: "Steps",
      priority: 2,
      id,
    });
    expect(issue).toMatchObject({
      id,
      title: "Login fails",
      priority: 2,
      priorityLabel: "High",
      team: { key: "ENG" },
    });
    expect(issue.identifier).toMatch(/^ENG-\d+$/);
    expect(issue.url).toContain(`/issue/${issue.identifier}/`);
    expect(await client.getIssue(issue.identifier.toLowerCase())).toMatchObject({ id });
    expect(await client.getIssue(id)).toMatchObject({ identifier: issue.identifier });

    const comment = await client.createComment(issue.identifier, "Seen on staging too");
    expect(comment.body).toBe("Seen on staging too");
    expect(linear.comments.at(-1)).toMatchObject({ issueId: id, body: "Seen on staging too" });
  });

  it("answers undefined for an issue that does not exist", async () => {
    expect(await client.getIssue("ENG-9999")).toBeUndefined();
  });

  it("lists only open issues assigned to the user, most recently updated first", async () => {
    const ada = (await client.findUserByEmail("ADA@example.com"))!;
    expect(ada).toMatchObject({ name: "Ada Lovelace", email: "ada@example.com" });
    linear.addIssue({ teamKey: "ENG", title: "Old open", assigneeEmail: "ada@example.com" });
    linear.addIssue({
      teamKey: "ENG",
      title: "Finished",
      assigneeEmail: "ada@example.com",
      stateType: "completed",
    });
    linear.addIssue({
      teamKey: "DES",
      title: "New open",
      assigneeEmail: "ada@example.com",
      stateType: "started",
    });
    const open = await client.listOpenIssuesAssignedTo(ada.id);
    expect(open.map((issue) => issue.title)).toEqual(["New open", "Old open"]);
    expect(await client.findUserByEmail("nobody@example.com")).toBeUndefined();
  });

  it("reports who the key belongs to", async () => {
    expect(await client.getViewer()).toMatchObject({ email: "bot@example.com" });
  });

  it("turns a refused key into an AuthError naming LINEAR_API_KEY", async () => {
    const wrong = createLinearClient({ apiKey: "lin_api_wrong", apiUrl: linear.url });
    await expect(wrong.listTeams()).rejects.toThrow(AuthError);
    await expect(wrong.listTeams()).rejects.toThrow(/LINEAR_API_KEY/);
    linear.failWith({ kind: "unauthenticated" }, { times: 1 });
    await expect(client.listTeams()).rejects.toThrow(AuthError);
  });

  it("turns RATELIMITED (HTTP 400) into a RateLimitedError with the reset time", async () => {
    linear.failWith({ kind: "ratelimited", retryAfterSeconds: 120 }, { times: 1 });
    const error = await client.listTeams().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(100_000);
  });

  it("recognises RATELIMITED by extensions.code alone, as Linear documents it", async () => {
    linear.failWith(
      {
        kind: "answer",
        status: 400,
        errors: [{ message: "Rate limit exceeded", extensions: { code: "RATELIMITED", statusCode: 429 } }],
      },
      { times: 1 },
    );
    await expect(client.listTeams()).rejects.toThrow(RateLimitedError);
  });

  it("turns Linear's input errors into UserErrors with Linear's own words", async () => {
    const team = (await client.findTeam("ENG"))!;
    await expect(client.createIssue({ teamId: team.id, title: "x".repeat(300) })).rejects.toThrow(UserError);
    await expect(client.createIssue({ teamId: team.id, title: "x".repeat(300) })).rejects.toThrow(/too long/);
  });

  it("names LINEAR_API_URL when the URL does not answer GraphQL", async () => {
    const wrongPath = createLinearClient({
      apiKey: linear.apiKey,
      apiUrl: linear.url.replace("/graphql", "/nope"),
    });
    const error = await wrongPath.listTeams().catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(AuthError);
    expect(String(error)).toMatch(/LINEAR_API_URL .*HTTP 404/);
    const closedPort = createLinearClient({ apiKey: linear.apiKey, apiUrl: "http://127.0.0.1:9/graphql" });
    await expect(closedPort.listTeams()).rejects.toThrow(/Could not reach the Linear API at LINEAR_API_URL/);
  });

  it("stops waiting after the timeout and says so", async () => {
    const slow = createLinearClient({ apiKey: linear.apiKey, apiUrl: linear.url, timeoutMs: 50 });
    linear.setLatency(300);
    try {
      await expect(slow.listTeams()).rejects.toThrow(/did not answer ListTeams within 50 ms/);
    } finally {
      linear.setLatency(0);
    }
  });

  it("is a NotFoundError, not a crash, when commenting on a missing issue", async () => {
    await expect(client.createComment("ENG-9999", "hello")).rejects.toThrow(NotFoundError);
  });
});

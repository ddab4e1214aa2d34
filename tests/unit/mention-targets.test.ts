import { describe, expect, it } from "vitest";
import type { DomainEvent, NormalizeResult } from "../../src/events/domain-event.js";
import { mentionTargets } from "../../src/pipeline/mention-targets.js";
import { withMentions } from "../../src/pipeline/plan-messages.js";
import { NO_MENTIONS } from "../../src/discord/render/message.js";
import { loadGitHubFixture } from "../../src/sources/github/fixtures.js";
import { normalizeGitHub } from "../../src/sources/github/normalize.js";
import { loadLinearFixture } from "../../src/sources/linear/fixtures.js";
import { normalizeLinear } from "../../src/sources/linear/normalize.js";

const ADA_ID = "2c9f4b1e-8d7a-4f3c-b6e5-1a0d9c8b7f6e";
const NOBODY = { githubLogins: [], linearUserIds: [], linearEmails: [] };

function eventOf(result: NormalizeResult): DomainEvent {
  if (result.outcome !== "event") throw new Error(`ignored: ${result.reason}`);
  return result.event;
}

function github(name: string, change: (payload: Record<string, unknown>) => void = () => {}): DomainEvent {
  const fixture = loadGitHubFixture(name);
  const payload = structuredClone(fixture.payload) as Record<string, unknown>;
  change(payload);
  return eventOf(
    normalizeGitHub({ event: fixture.event, deliveryId: "d-1", payload, receivedAt: new Date(0) }),
  );
}

function linear(name: string, change: (payload: Record<string, unknown>) => void = () => {}): DomainEvent {
  const payload = structuredClone(loadLinearFixture(name).payload) as Record<string, unknown>;
  change(payload);
  return eventOf(normalizeLinear({ deliveryId: "d-1", payload, receivedAt: new Date(0) }));
}

describe("mentionTargets", () => {
  it("names the requested reviewer's login for pull_request.review_requested", () => {
    expect(mentionTargets(github("pull_request.review_requested"))).toEqual({
      ...NOBODY,
      githubLogins: ["octocat"],
    });
  });

  it("names nobody when a team was requested, or when the requester asked themselves", () => {
    const team = github("pull_request.review_requested", (payload) => {
      delete payload.requested_reviewer;
      payload.requested_team = { slug: "octocat" };
    });
    expect(mentionTargets(team)).toEqual(NOBODY);
    const self = github("pull_request.review_requested", (payload) => {
      (payload.sender as Record<string, unknown>).login = "OctoCat";
    });
    expect(mentionTargets(self)).toEqual(NOBODY);
  });

  it.each(["pull_request.opened", "pull_request_review.submitted.approved", "issues.opened", "push.branch"])(
    "names nobody for %s",
    (name) => {
      expect(mentionTargets(github(name))).toEqual(NOBODY);
    },
  );

  it("names the new assignee by Linear id and email when an update changes the assignee", () => {
    expect(mentionTargets(linear("Issue.update.assignee"))).toEqual({
      githubLogins: [],
      linearUserIds: [ADA_ID],
      linearEmails: ["ada@acme.dev"],
    });
  });

  it("names nobody when the assignee was removed or did not change", () => {
    const unassigned = linear("Issue.update.assignee", (payload) => {
      const data = payload.data as Record<string, unknown>;
      delete data.assignee;
      data.assigneeId = null;
      payload.updatedFrom = { assigneeId: ADA_ID };
    });
    expect(mentionTargets(unassigned)).toEqual(NOBODY);
    expect(mentionTargets(linear("Issue.update.state"))).toEqual(NOBODY);
  });

  it("names the assignee of a new issue, unless they filed and assigned it themselves", () => {
    const assign = (actor: string) => (payload: Record<string, unknown>) => {
      const data = payload.data as Record<string, unknown>;
      data.assigneeId = ADA_ID;
      data.assignee = { id: ADA_ID, name: "Ada Lovelace", email: "ada@acme.dev" };
      payload.actor = { id: "x", name: actor, type: "user" };
    };
    expect(mentionTargets(linear("Issue.create", assign("Grace Hopper"))).linearUserIds).toEqual([ADA_ID]);
    expect(mentionTargets(linear("Issue.create", assign("Ada Lovelace")))).toEqual(NOBODY);
    expect(mentionTargets(linear("Issue.create"))).toEqual(NOBODY);
  });
});

describe("withMentions", () => {
  const message = {
    content: "acme/api PR #1: hi <@123456789012345678> @everyone",
    allowed_mentions: NO_MENTIONS,
  };

  it("puts the mentions first and allows exactly those users, parsing nothing", () => {
    expect(withMentions(message, ["200000000000000042", "200000000000000042"])).toEqual({
      content: "<@200000000000000042> acme/api PR #1: hi <@123456789012345678> @everyone",
      allowed_mentions: { parse: [], users: ["200000000000000042"] },
    });
  });

  it("mentions in content beside an embed, and leaves a message without mentions untouched", () => {
    const embed = { embeds: [{ title: "t" }], allowed_mentions: NO_MENTIONS };
    expect(withMentions(embed, ["200000000000000042"])).toMatchObject({
      content: "<@200000000000000042>",
      embeds: [{ title: "t" }],
    });
    expect(withMentions(message, [])).toBe(message);
  });

  it("ignores anything that is not a Discord user id", () => {
    expect(withMentions(message, ["everyone", "<@1>", "12"])).toBe(message);
  });

  it("keeps the mention when the content is cut to Discord's 2,000 characters", () => {
    const long = withMentions({ content: "x".repeat(3000), allowed_mentions: NO_MENTIONS }, [
      "200000000000000042",
    ]);
    expect(long.content!.length).toBe(2000);
    expect(long.content!.startsWith("<@200000000000000042> ")).toBe(true);
  });
});

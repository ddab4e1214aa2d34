/**
 * Pure: who an event asks something of, so their linked Discord member can be mentioned. Only two events
 * do: a review requested from a person, and a Linear issue assigned to someone (on create or when the
 * assignee changes). Nobody is mentioned for what they did themselves.
 *
 * Only identities from the event's structured fields count, never text from titles or bodies; the inbox
 * worker resolves them through identity_links, and only those Discord ids ever reach `allowed_mentions`.
 */
import type { DomainEvent } from "../events/domain-event.js";
import type { IdentityReferences } from "../store/identity-repository.js";

const NOBODY: IdentityReferences = Object.freeze({
  githubLogins: [],
  linearUserIds: [],
  linearEmails: [],
}) as IdentityReferences;

export function mentionTargets(event: DomainEvent): IdentityReferences {
  if (
    event.kind === "github.pull_request" &&
    event.action === "review_requested" &&
    event.requestedReviewer &&
    !event.requestedReviewerIsTeam &&
    event.requestedReviewer.toLowerCase() !== event.actor.name.toLowerCase()
  ) {
    return { ...NOBODY, githubLogins: [event.requestedReviewer] };
  }
  if (event.kind === "linear.issue") {
    const assigned =
      event.action === "create" ||
      (event.action === "update" && event.changes.some((change) => change.field === "assignee"));
    const { assigneeId, assigneeEmail, assignee } = event.issue;
    // Linear actors carry a display name only; assigning yourself is not news to you.
    if (!assigned || (!assigneeId && !assigneeEmail) || assignee === event.actor.name) return NOBODY;
    return {
      githubLogins: [],
      linearUserIds: assigneeId ? [assigneeId] : [],
      linearEmails: assigneeEmail ? [assigneeEmail] : [],
    };
  }
  return NOBODY;
}

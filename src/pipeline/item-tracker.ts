/**
 * Keeps one snapshot per PR, GitHub issue or Linear issue, so its card can show the current state even when
 * an event only tells part of it (a comment carries no state; a label event does not repeat a review).
 */
import type { ItemSnapshot } from "../events/domain-event.js";

/** Review outcomes survive later events that still report the PR as merely "open" (labels, comments). */
const REVIEW_STATUSES = new Set(["approved", "changes_requested"]);

export function mergeItemSnapshot(
  previous: ItemSnapshot | undefined,
  next: ItemSnapshot,
  eventName: string,
): ItemSnapshot {
  if (!previous) return next;
  const keepReview =
    next.status === "open" &&
    REVIEW_STATUSES.has(previous.status) &&
    !/\.(reopened|ready_for_review|synchronize)$/.test(eventName);
  // Only a snapshot without a status (a Linear comment) leaves labels and assignee unknown. Every other one
  // lists them in full, so an empty list or a missing assignee means they were removed.
  const complete = next.status !== "";
  const merged: ItemSnapshot = {
    ...previous,
    ...definedFields(next),
    status: keepReview ? previous.status : next.status || previous.status,
    labels: complete ? next.labels : previous.labels,
  };
  if (complete && next.assignee === undefined) delete merged.assignee;
  return merged;
}

function definedFields(item: ItemSnapshot): Partial<ItemSnapshot> {
  return Object.fromEntries(
    Object.entries(item).filter(([, value]) => value !== undefined && value !== ""),
  ) as Partial<ItemSnapshot>;
}

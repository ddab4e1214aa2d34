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
  return {
    ...previous,
    ...definedFields(next),
    status: keepReview ? previous.status : next.status || previous.status,
    labels: next.labels.length > 0 || /labeled$/.test(eventName) ? next.labels : previous.labels,
  };
}

function definedFields(item: ItemSnapshot): Partial<ItemSnapshot> {
  return Object.fromEntries(
    Object.entries(item).filter(([, value]) => value !== undefined && value !== ""),
  ) as Partial<ItemSnapshot>;
}

/** Item snapshots for unit tests of what tracks and renders items. */
import type { ItemSnapshot } from "../../src/events/domain-event.js";

/** An open pull request, acme/api#12, with `overrides` applied. */
export function pullRequestSnapshot(overrides: Partial<ItemSnapshot> = {}): ItemSnapshot {
  return {
    key: "github:pr:acme/api#12",
    kind: "pull_request",
    reference: "#12",
    title: "Fix the flux capacitor",
    url: "https://github.com/acme/api/pull/12",
    author: "octocat",
    status: "open",
    labels: [],
    container: "acme/api",
    ...overrides,
  };
}

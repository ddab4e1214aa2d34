import type { DomainEvent } from "../../events/domain-event.js";
import { summarizeGitHubEvent } from "./github.js";
import { summarizeLinearEvent } from "./linear.js";
import type { EventSummary } from "./message.js";

export function summarizeEvent(event: DomainEvent): EventSummary {
  return event.source === "github" ? summarizeGitHubEvent(event) : summarizeLinearEvent(event);
}

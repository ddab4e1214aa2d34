/**
 * Decides which channels hear an event. Pure: the rules (config-file routes and chat subscriptions) and
 * the event in, one delivery per channel out.
 */
import type { RouteConfig } from "../config/config-file.js";
import type { DomainEvent } from "../events/domain-event.js";
import { matchesAnyGlob } from "./glob.js";

/** A route from the config file or a subscription made in chat; both match the same way. */
export interface RouteRule extends RouteConfig {
  origin: "config" | "subscription";
}

export interface RouteDelivery {
  route: string;
  channel: string;
  style: RouteConfig["style"];
  threads: RouteConfig["threads"];
}

/** Author filters may name `bots` to mean any bot sender (dependabot, renovate, GitHub Actions...). */
export const BOTS_KEYWORD = "bots";

/**
 * Every channel whose rule matches gets the event once, with the first matching rule's style. With no rules
 * at all, everything goes to the default channel (when there is one).
 */
export function routeEvent(
  event: DomainEvent,
  rules: readonly RouteRule[],
  defaultChannel: string | undefined,
): RouteDelivery[] {
  if (rules.length === 0) {
    return defaultChannel
      ? [{ route: "default", channel: defaultChannel, style: "full", threads: "per-item" }]
      : [];
  }
  const byChannel = new Map<string, RouteDelivery>();
  for (const rule of rules) {
    if (byChannel.has(rule.channel) || !ruleMatches(rule, event)) continue;
    byChannel.set(rule.channel, {
      route: rule.name,
      channel: rule.channel,
      style: rule.style,
      threads: rule.threads,
    });
  }
  return [...byChannel.values()];
}

export function ruleMatches(rule: RouteConfig, event: DomainEvent): boolean {
  if (rule.source !== event.source) return false;
  const match = rule.match;
  if (match.repos?.length && !(event.repo && matchesAnyGlob(event.repo, match.repos))) return false;
  if (match.teams?.length && !(event.team && matchesAnyGlob(event.team, match.teams))) return false;
  if (match.projects?.length && !(event.project && matchesAnyGlob(event.project, match.projects)))
    return false;
  if (match.events?.length && !matchesEventName(event.name, match.events)) return false;
  if (match.branches?.length && !branchMatches(event, match.branches)) return false;
  if (match.drafts === false && event.draft === true) return false;
  if (match.labels && !labelsMatch(event.labels, match.labels)) return false;
  if (match.authors && !authorAllowed(event, match.authors)) return false;
  return true;
}

/**
 * Events about no branch at all (issues, releases) pass a branch list; pushes and ref events about a tag do
 * not, since a route limited to `main` does not want every tag.
 */
function branchMatches(event: DomainEvent, branches: readonly string[]): boolean {
  if (event.branch !== undefined) return matchesAnyGlob(event.branch, branches);
  return event.kind !== "github.push" && event.kind !== "github.ref";
}

/**
 * `pull_request` alone means every pull_request action; otherwise the glob sees `event.action`. Events with
 * no action (push, create, delete) are named bare, and `push.*` must still mean every push.
 */
function matchesEventName(name: string, globs: readonly string[]): boolean {
  const base = name.split(".", 1)[0] ?? name;
  return globs.some((glob) => {
    if (!glob.includes(".")) return matchesAnyGlob(base, [glob]);
    if (!name.includes(".") && glob.endsWith(".*")) return matchesAnyGlob(name, [glob.slice(0, -2)]);
    return matchesAnyGlob(name, [glob]);
  });
}

function labelsMatch(
  labels: readonly string[],
  filter: { any: string[]; all: string[]; none: string[] },
): boolean {
  const has = (wanted: string) => labels.some((label) => label.toLowerCase() === wanted.toLowerCase());
  if (filter.any.length > 0 && !filter.any.some(has)) return false;
  if (!filter.all.every(has)) return false;
  return !filter.none.some(has);
}

function authorAllowed(event: DomainEvent, filter: { include: string[]; exclude: string[] }): boolean {
  const matches = (names: string[]) =>
    names.some((name) =>
      name === BOTS_KEYWORD ? event.actor.isBot : matchesAnyGlob(event.actor.name, [name]),
    );
  if (filter.include.length > 0 && !matches(filter.include)) return false;
  return !matches(filter.exclude);
}

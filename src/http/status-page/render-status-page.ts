/**
 * The status page as HTML. Pure: a snapshot in, a document out. No scripts and no external assets: one
 * inline style sheet, allowed by its hash in STATUS_PAGE_CSP, and a meta refresh to stay current. Every value
 * goes through the `html` tag, which escapes it.
 */
import { createHash } from "node:crypto";
import { describeState, isFinished } from "../../deploy/deployment-state.js";
import { formatDuration } from "../../events/text.js";
import { SafeHtml, html, safeHref } from "./html-template.js";
import type { DeploymentView, EnvironmentStatus, ReleaseView, StatusSnapshot } from "./status-snapshot.js";

export const STATUS_PAGE_REFRESH_SECONDS = 15;

const STYLE = `
:root { color-scheme: light dark; --fg: #1f2328; --muted: #656d76; --bg: #ffffff; --card: #f6f8fa;
  --line: #d0d7de; --ok: #1a7f37; --bad: #cf222e; --busy: #0969da; --wait: #9a6700; --off: #6e7781; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #8d96a0; --bg: #0d1117; --card: #161b22;
  --line: #30363d; --ok: #3fb950; --bad: #f85149; --busy: #4493f8; --wait: #d29922; --off: #8d96a0; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 1.5rem; font: 15px/1.5 system-ui, -apple-system, "Segoe UI",
  Roboto, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 1.6rem; margin: 0; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.75rem; border-bottom: 1px solid var(--line); padding-bottom: 0.3rem; }
h3 { font-size: 1.05rem; margin: 0; }
a { color: var(--busy); }
code { font: 0.9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.meta, .repo, .empty { color: var(--muted); }
.meta { margin: 0.25rem 0 0; }
.environments { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(20rem, 1fr)); }
.environment { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; }
.environment header { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; }
.environment .repo { margin: 0.25rem 0 0.5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.state, .tag { display: inline-block; padding: 0 0.5rem; border-radius: 1rem; font-size: 0.85rem;
  border: 1px solid currentColor; white-space: nowrap; }
.state-success { color: var(--ok); }
.state-failure, .state-error { color: var(--bad); }
.state-requested, .state-queued, .state-in_progress { color: var(--busy); }
.state-awaiting_approval { color: var(--wait); }
.state-inactive, .state-rejected, .state-none, .tag { color: var(--off); }
.notice { margin: 0.75rem 0 0; padding: 0.4rem 0.6rem; border-left: 3px solid var(--wait); }
.notice.warn { border-color: var(--bad); }
.table { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
`;

/** Built outside the `html` templates so that formatting them never changes the hashed text. */
const STYLE_ELEMENT = new SafeHtml(`<style>${STYLE}</style>`);

/**
 * Content-Security-Policy for the page: nothing may load, run or frame it; only our own style sheet applies.
 * A hash rather than 'unsafe-inline', so an injected style attribute or element would not apply either.
 */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export function renderStatusPage(
  snapshot: StatusSnapshot,
  refreshSeconds: number = STATUS_PAGE_REFRESH_SECONDS,
): string {
  const now = Date.parse(snapshot.generatedAt);
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta http-equiv="refresh" content="${refreshSeconds}" />
        <meta name="referrer" content="no-referrer" />
        <title>Switchboard status</title>
        ${STYLE_ELEMENT}
      </head>
      <body>
        <header>
          <h1>Switchboard status</h1>
          <p class="meta">
            Switchboard ${snapshot.version} · updated ${timeAt(snapshot.generatedAt)} · refreshes every
            ${refreshSeconds} s · <a href="/api/deployments">JSON</a>
          </p>
        </header>
        <main>
          <section id="environments" aria-labelledby="environments-title">
            <h2 id="environments-title">Environments</h2>
            ${
              snapshot.environments.length === 0
                ? html`<p class="empty">
                    No environments configured: list them under <code>environments</code> in switchboard.yaml.
                  </p>`
                : html`<div class="environments">
                    ${snapshot.environments.map((environment) => environmentCard(environment, now))}
                  </div>`
            }
          </section>
          <section id="deployments" aria-labelledby="deployments-title">
            <h2 id="deployments-title">Recent deployments</h2>
            ${deploymentsTable(snapshot.deployments, now)}
          </section>
          <section id="releases" aria-labelledby="releases-title">
            <h2 id="releases-title">Recent releases</h2>
            ${releasesTable(snapshot.releases, now)}
          </section>
          <section id="health" aria-labelledby="health-title">
            <h2 id="health-title">Delivery health</h2>
            ${healthList(snapshot.health, now)}
          </section>
        </main>
      </body>
    </html> `.value;
}

function environmentCard(environment: EnvironmentStatus, now: number): SafeHtml {
  const { latest, running } = environment;
  return html`<article class="environment" data-environment="${environment.name}">
    <header>
      <h3>${environment.name}</h3>
      ${environment.production && html` <span class="tag">production</span>`} ${stateBadge(latest)}
    </header>
    <p class="repo">
      ${environment.repo}${environment.approvals > 0 && html` · ${approvalsNeeded(environment.approvals)}`}
    </p>
    ${
      latest
        ? html`<dl>
            <dt>Version</dt>
            <dd>${latest.version ?? latest.ref}</dd>
            <dt>Commit</dt>
            <dd>${commit(latest.sha)}</dd>
            <dt>Deployed by</dt>
            <dd>${latest.requestedBy ?? "unknown"}</dd>
            <dt>When</dt>
            <dd>${timeAt(latest.startedAt ?? latest.createdAt, now)}</dd>
            <dt>Duration</dt>
            <dd>${duration(latest)}</dd>
            ${
              latest.description !== null &&
              html`<dt>Status</dt>
                <dd>${statusNote(latest)}</dd>`
            }
            ${
              running &&
              running.id !== latest.id &&
              html`<dt>Running</dt>
                <dd>
                  ${running.version ?? running.ref} (${commit(running.sha)}) since
                  ${timeAt(running.finishedAt ?? running.createdAt, now)}
                </dd>`
            }
          </dl>`
        : html`<p class="empty">No deployment recorded yet.</p>`
    }
    ${
      environment.lock &&
      html`<p class="notice lock">
        Locked by ${environment.lock.by} ${timeAt(environment.lock.since, now)}: ${environment.lock.reason}
      </p>`
    }
    ${environment.freeze && html`<p class="notice warn freeze">Frozen: ${environment.freeze.description}</p>`}
  </article>`;
}

function deploymentsTable(deployments: DeploymentView[], now: number): SafeHtml {
  if (deployments.length === 0) return html`<p class="empty">No deployments yet.</p>`;
  return html`<div class="table">
    <table>
      <thead>
        <tr>
          <th>Environment</th>
          <th>Version</th>
          <th>Commit</th>
          <th>State</th>
          <th>By</th>
          <th>When</th>
          <th>Duration</th>
          <th>Notes</th>
        </tr>
      </thead>
      <tbody>
        ${deployments.map(
          (deployment) =>
            html` <tr data-deployment="${deployment.id}">
              <td>${deployment.environment}</td>
              <td>${deployment.version ?? deployment.ref}</td>
              <td>${commit(deployment.sha)}</td>
              <td>${stateBadge(deployment)}</td>
              <td>${deployment.requestedBy ?? "unknown"}</td>
              <td>${timeAt(deployment.startedAt ?? deployment.createdAt, now)}</td>
              <td>${duration(deployment)}</td>
              <td>
                ${deployment.reason}${deployment.reason !== null && deployment.description !== null && html`<br />`}${deployment.description !== null && statusNote(deployment)}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function releasesTable(releases: ReleaseView[], now: number): SafeHtml {
  if (releases.length === 0) return html`<p class="empty">No releases yet.</p>`;
  return html`<div class="table">
    <table>
      <thead>
        <tr>
          <th>Release</th>
          <th>Version</th>
          <th>Commit</th>
          <th>By</th>
          <th>When</th>
        </tr>
      </thead>
      <tbody>
        ${releases.map((release) => {
          const href = safeHref(release.url);
          const tag = href
            ? html`<a href="${href}" rel="noopener noreferrer">${release.tag}</a>`
            : release.tag;
          return html` <tr>
            <td>${release.name}</td>
            <td>${tag}${release.prerelease && html` <span class="tag">prerelease</span>`}</td>
            <td>${commit(release.sha)}</td>
            <td>${release.createdBy ?? "unknown"}</td>
            <td>${timeAt(release.createdAt, now)}</td>
          </tr>`;
        })}
      </tbody>
    </table>
  </div>`;
}

function healthList(health: StatusSnapshot["health"], now: number): SafeHtml {
  const last = (at: string | null) => (at === null ? "none yet" : timeAt(at, now));
  return html`<dl>
      <dt>Webhook inbox</dt>
      <dd>${health.inbox.pending} waiting, ${health.inbox.failed} failed</dd>
      <dt>Discord outbox</dt>
      <dd>${health.outbox.pending} waiting, ${plural(health.outbox.dead, "dead letter")}</dd>
      <dt>Last GitHub delivery</dt>
      <dd>${last(health.lastDelivery.github)}</dd>
      <dt>Last Linear delivery</dt>
      <dd>${last(health.lastDelivery.linear)}</dd>
    </dl>
    ${
      health.outbox.dead > 0 &&
      html`<p class="notice warn">
          Messages that could not be posted: fix the cause, then run <code>switchboard outbox retry</code>.
        </p>
        <ul>
          ${health.deadLetters.map(
            (letter) =>
              html`<li>
                #${letter.id} to channel <code>${letter.channel}</code>:
                ${letter.error ?? "no error recorded"}
              </li>`,
          )}
        </ul>`
    }`;
}

function stateBadge(deployment: DeploymentView | null): SafeHtml {
  if (!deployment) return html`<span class="state state-none">never deployed</span>`;
  return html`<span class="state state-${deployment.state}">${describeState(deployment.state)}</span>`;
}

/** The latest status's description, linked to its log when GitHub gave an http(s) one. */
function statusNote(deployment: DeploymentView): SafeHtml {
  const href = safeHref(deployment.logUrl);
  return html`${deployment.description}${href && html` (<a href="${href}" rel="noopener noreferrer">log</a>)`}`;
}

function duration(deployment: DeploymentView): string {
  if (deployment.durationSeconds === null) return "not started";
  const text = formatDuration(deployment.durationSeconds);
  return isFinished(deployment.state) ? text : `${text} so far`;
}

function commit(sha: string): SafeHtml {
  return html`<code title="${sha}">${sha.slice(0, 7)}</code>`;
}

/** `3 min ago`, with the exact UTC time on hover and in `datetime`. */
function timeAt(isoTime: string, now?: number): SafeHtml {
  const exact = `${isoTime.slice(0, 16).replace("T", " ")} UTC`;
  if (now === undefined) return html`<time datetime="${isoTime}">${exact}</time>`;
  const seconds = Math.round((now - Date.parse(isoTime)) / 1000);
  const relative = seconds < 5 ? "just now" : `${formatDuration(seconds)} ago`;
  return html`<time datetime="${isoTime}" title="${exact}">${relative}</time>`;
}

function approvalsNeeded(count: number): string {
  return `needs ${plural(count, "approval")}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

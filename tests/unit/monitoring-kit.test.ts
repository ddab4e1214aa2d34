/**
 * The monitoring kit follows the code: the Grafana dashboard has a panel for every metric Switchboard
 * defines, and every alert and panel queries a metric that exists (a renamed metric would otherwise leave
 * an alert that can never fire).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createMetrics } from "../../src/observability/metrics.js";
import { REPO_ROOT } from "../support/child-switchboard.js";

const metricsSource = readFileSync(join(REPO_ROOT, "src/observability/metrics.ts"), "utf8");
const dashboard = JSON.parse(
  readFileSync(join(REPO_ROOT, "integration/grafana/switchboard.json"), "utf8"),
) as {
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
};
const alerts = parse(readFileSync(join(REPO_ROOT, "integration/prometheus/alerts.yml"), "utf8")) as {
  groups: Array<{
    rules: Array<{
      alert: string;
      expr: string;
      for?: string;
      labels?: { severity?: string };
      annotations?: { runbook?: string };
    }>;
  }>;
};
const rules = alerts.groups.flatMap((group) => group.rules);

/** The metrics Switchboard defines itself (not the process defaults). */
const definedMetrics = [...metricsSource.matchAll(/name: "(switchboard_[a-z0-9_]+)"/g)].map(
  (match) => match[1]!,
);

/** Every series name a scrape can show, defaults included, with histogram suffixes. */
function exposedSeries(): Set<string> {
  const names = new Set<string>();
  for (const metric of createMetrics().registry.getMetricsAsArray()) {
    const name = metric.name;
    names.add(name);
    for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${name}${suffix}`);
  }
  return names;
}

const referenced = (expr: string) =>
  [...expr.matchAll(/\b(switchboard_[a-z0-9_]+)/g)].map((match) => match[1]!);

describe("monitoring kit", () => {
  it("finds the metric definitions it checks against", () => {
    expect(definedMetrics).toContain("switchboard_webhook_deliveries_total");
    expect(definedMetrics.length).toBeGreaterThanOrEqual(8);
  });

  it("has a dashboard panel for every switchboard_* metric defined in metrics.ts", () => {
    const queried = new Set(
      dashboard.panels.flatMap((panel) => panel.targets.flatMap((t) => referenced(t.expr))),
    );
    const withoutPanel = definedMetrics.filter(
      (name) =>
        ![name, `${name}_bucket`, `${name}_sum`, `${name}_count`].some((series) => queried.has(series)),
    );
    expect(withoutPanel).toEqual([]);
  });

  it("queries only metrics that exist, in panels and alerts", () => {
    const exposed = exposedSeries();
    const unknown = [
      ...dashboard.panels.flatMap((panel) => panel.targets.flatMap((t) => referenced(t.expr))),
      ...rules.flatMap((rule) => referenced(rule.expr)),
    ].filter((name) => !exposed.has(name));
    expect(unknown).toEqual([]);
  });

  it("alerts on every condition the runbook covers, with numeric thresholds", () => {
    const byName = new Map(rules.map((rule) => [rule.alert, rule]));
    expect(byName.get("SwitchboardDeadLetters")).toMatchObject({ for: "5m" });
    expect(byName.get("SwitchboardDeadLetters")?.expr).toMatch(/status="dead"\}\) > 0/);
    expect(byName.get("SwitchboardNotificationLatencyHigh")).toMatchObject({ for: "10m" });
    expect(byName.get("SwitchboardNotificationLatencyHigh")?.expr).toMatch(
      /histogram_quantile\(0\.99,.*> 30$/,
    );
    expect(byName.get("SwitchboardWebhookSignatureFailures")?.expr).toMatch(
      /outcome="bad_signature".*\* 60 > 1$/,
    );
    expect(byName.get("SwitchboardGatewayDisconnected")).toMatchObject({ for: "2m" });
    expect(byName.get("SwitchboardJobFailingRepeatedly")?.expr).toMatch(/outcome="error".*>= 2/s);
    expect(byName.get("SwitchboardMemoryHigh")?.expr).toMatch(
      /resident_memory_bytes\) > 400 \* 1024 \* 1024/,
    );
    expect(byName.get("SwitchboardNoDeliveries")?.expr).toContain("== 0");
    expect(byName.get("SwitchboardStoreUnavailable")).toMatchObject({ labels: { severity: "critical" } });
    expect(byName.get("SwitchboardStoreUnavailable")?.expr).toMatch(/outcome="store_unavailable".*> 0$/);
  });

  it("links every alert to a section of the runbook that exists", () => {
    const runbook = readFileSync(join(REPO_ROOT, "integration/runbook.md"), "utf8");
    // GitHub's anchors: lower case, punctuation dropped, spaces to hyphens.
    const anchors = new Set(
      [...runbook.matchAll(/^#{2,3} (.+)$/gm)].map((match) =>
        match[1]!
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, "")
          .replace(/ /g, "-"),
      ),
    );
    const broken = rules
      .map((rule) => ({ alert: rule.alert, link: String(rule.annotations?.runbook ?? "") }))
      .filter(({ link }) => !anchors.has(link.split("#")[1] ?? ""));
    expect(broken).toEqual([]);
    expect(rules.length).toBeGreaterThanOrEqual(9);
  });
});

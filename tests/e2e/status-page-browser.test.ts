/**
 * The status page as a person sees it, in headless Chromium (Debian's `chromium`, driven by playwright-core):
 * after GitHub's `deployment` and `deployment_status` webhooks, the environment shows the new state, the page
 * loads nothing from anywhere else, and text from the webhook stays text.
 *
 * CHROMIUM_PATH names the browser (default /usr/bin/chromium; `.ci/run` installs it). A missing browser fails
 * this test: set SKIP_BROWSER_TESTS=1 to skip it on purpose.
 */
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signGitHubDelivery } from "../../src/sources/signed-delivery.js";
import { loadGitHubFixture } from "../fixtures/github/index.js";
import { TEST_GITHUB_SECRET, startTestSwitchboard } from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";
import { waitUntil } from "../support/wait-until.js";

const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const SKIP = process.env.SKIP_BROWSER_TESTS === "1";
if (SKIP) console.warn("SKIP_BROWSER_TESTS=1: skipping the status page browser test.");

const ENVIRONMENT = "production";
const REPO = "Codertocat/Hello-World";
/** Markup in a status description (GitHub takes any text): it must show as text, run nothing, load nothing. */
const HOSTILE_DESCRIPTION = `Deploying <img src="/pwned.png" onerror="window.pwned = true">`;

/** The page's globals this test reads (the project compiles without the DOM library). */
interface InPage {
  pwned?: boolean;
  getComputedStyle(element: unknown): { borderTopStyle: string };
}

/** The fixture deployment (id 145988746) moved to our environment, with a status of `state` made now. */
async function deploymentDelivery(kind: "created" | "in_progress" | "success") {
  const name = kind === "created" ? "deployment.created" : `deployment_status.created.${kind}`;
  const { event, payload } = loadGitHubFixture(name);
  const body = structuredClone(payload) as {
    deployment: { environment: string };
    deployment_status?: { environment: string; description: string; created_at: string; updated_at: string };
  };
  body.deployment.environment = ENVIRONMENT;
  if (body.deployment_status) {
    const now = new Date().toISOString();
    Object.assign(body.deployment_status, { environment: ENVIRONMENT, created_at: now, updated_at: now });
    if (kind === "in_progress") body.deployment_status.description = HOSTILE_DESCRIPTION;
  }
  return signGitHubDelivery({ secret: TEST_GITHUB_SECRET, event, payload: body });
}

describe.skipIf(SKIP)("status page in a browser", () => {
  let browser: Browser;
  let switchboard: TestSwitchboard;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(
        `Chromium is not installed at ${CHROMIUM_PATH}: install Debian's chromium (apt-get install chromium; ` +
          `.ci/run does) or point CHROMIUM_PATH at a Chromium binary. SKIP_BROWSER_TESTS=1 skips this test.`,
      );
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      // Chromium's sandbox refuses to run as root (containers, CI images); elsewhere it stays on.
      args: [...(process.getuid?.() === 0 ? ["--no-sandbox"] : []), "--disable-dev-shm-usage"],
    });
    switchboard = await startTestSwitchboard({
      config: ["environments:", `  - name: ${ENVIRONMENT}`, `    repo: ${REPO}`, ""].join("\n"),
    });
  });

  afterAll(async () => {
    await browser?.close();
    await switchboard?.close();
  });

  /** Reloads /status until the environment's state reads `state`. */
  async function waitForState(page: Page, state: string): Promise<void> {
    const badge = page.locator(`[data-environment="${ENVIRONMENT}"] .state`);
    await waitUntil(
      async () => {
        await page.goto(`${switchboard.url}/status`);
        return (await badge.textContent()) === state;
      },
      10_000,
      100,
    );
  }

  it("shows a deployment's new state after each deployment_status webhook, loading nothing from elsewhere", async () => {
    const page = await browser.newPage();
    const requested: string[] = [];
    const problems: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));

    const first = await page.goto(`${switchboard.url}/status`);
    expect(first?.status()).toBe(200);
    expect(first?.headers()["content-security-policy"]).toMatch(/^default-src 'none'; style-src 'sha256-/);
    await expect(page.title()).resolves.toBe("Switchboard status");
    expect(await page.locator(`[data-environment="${ENVIRONMENT}"] .state`).textContent()).toBe(
      "never deployed",
    );

    for (const delivery of [await deploymentDelivery("created"), await deploymentDelivery("in_progress")]) {
      expect((await switchboard.post(delivery)).status).toBe(202);
    }
    await waitForState(page, "in progress");
    const card = page.locator(`[data-environment="${ENVIRONMENT}"]`);
    const cardText = (await card.innerText()).replace(/\s+/g, " ");
    expect(cardText).toContain("Commit f95f852");
    expect(cardText).toContain("Deployed by Codertocat");
    expect(cardText).toMatch(/Duration \d+ s so far/);
    // The webhook's markup is shown as text and never ran.
    expect(cardText).toContain(`Status ${HOSTILE_DESCRIPTION}`);
    expect(await page.evaluate(() => (globalThis as unknown as InPage).pwned)).toBeUndefined();
    // The inline style sheet applies (its hash is in the CSP): the badge has its border.
    const badgeBorder = await card
      .locator(".state")
      .evaluate((element) => (globalThis as unknown as InPage).getComputedStyle(element).borderTopStyle);
    expect(badgeBorder).toBe("solid");

    expect((await switchboard.post(await deploymentDelivery("success"))).status).toBe(202);
    await waitForState(page, "success");
    expect((await card.innerText()).replace(/\s+/g, " ")).toMatch(/Duration \d+ s(?! so far)/);
    const row = page.locator("#deployments tbody tr").first();
    expect((await row.innerText()).replace(/\s+/g, " ")).toMatch(
      /^production master f95f852 success Codertocat/,
    );

    const origin = new URL(switchboard.url).origin;
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(requested.filter((url) => !/\/status$/.test(url))).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("serves the same state as JSON at /api/deployments", async () => {
    const response = await fetch(`${switchboard.url}/api/deployments`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      environments: { name: string; latest: { state: string; sha: string; requestedBy: string } | null }[];
      deployments: { environment: string; state: string }[];
      releases: unknown[];
      health: { inbox: { pending: number }; outbox: { dead: number } };
    };
    expect(body.environments).toMatchObject([
      {
        name: ENVIRONMENT,
        latest: {
          state: "success",
          sha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
          requestedBy: "Codertocat",
        },
      },
    ]);
    expect(body.deployments).toMatchObject([{ environment: ENVIRONMENT, state: "success" }]);
    expect(body.releases).toEqual([]);
    expect(body.health.outbox.dead).toBe(0);
  });
});

/**
 * `GET /status` (HTML) and `GET /api/deployments` (the same snapshot as JSON). Read-only and free of secrets;
 * operators who want it private put it behind their proxy's authentication, or turn it off (STATUS_PAGE=off).
 */
import { Router } from "express";
import type { Response } from "express";
import { STATUS_PAGE_CSP, renderStatusPage } from "./render-status-page.js";
import type { StatusSnapshot } from "./status-snapshot.js";

export const STATUS_PAGE_PATHS = ["/status", "/api/deployments"];

export function createStatusPageRouter(readSnapshot: () => Promise<StatusSnapshot>): Router {
  const router = Router();
  // Errors (the store is down) go to the app's error handler, which logs them and answers a bare 500.
  router.get("/status", async (_req, res) => {
    const page = renderStatusPage(await readSnapshot());
    noStore(res)
      .set({
        "Content-Security-Policy": STATUS_PAGE_CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
      })
      .type("html")
      .send(page);
  });
  router.get("/api/deployments", async (_req, res) => {
    noStore(res)
      .set("X-Content-Type-Options", "nosniff")
      .json(await readSnapshot());
  });
  return router;
}

/** The page is live state: a cache (the browser's or a proxy's) must not show an old one. */
function noStore(res: Response): Response {
  return res.set("Cache-Control", "no-store");
}

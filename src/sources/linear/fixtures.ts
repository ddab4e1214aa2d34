/**
 * Sample Linear deliveries from `tests/fixtures/linear/`, for tests and `switchboard simulate linear`.
 */
import { listFixtureNames, readFixtureFile } from "../fixture-files.js";

export interface LinearFixture {
  /** The `Linear-Event` header Linear sends with this body: the payload's `type` ("Issue", "Comment", ...). */
  event: string;
  payload: unknown;
}

/** Load `tests/fixtures/linear/<name>.json`, e.g. `Issue.update.state`. Throws with the path when absent. */
export function loadLinearFixture(name: string): LinearFixture {
  const payload = readFixtureFile("linear", name);
  const type =
    typeof payload === "object" && payload !== null ? (payload as { type?: unknown }).type : undefined;
  if (typeof type !== "string") {
    throw new Error(
      `The Linear fixture "${name}" has no string "type" field, so its Linear-Event is unknown`,
    );
  }
  return { event: type, payload };
}

/** Every Linear fixture name, sorted, without `.json`. */
export function linearFixtureNames(): string[] {
  return listFixtureNames("linear");
}

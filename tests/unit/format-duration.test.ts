import { describe, expect, it } from "vitest";
import { formatDuration } from "../../src/events/text.js";

// One format for every duration people read: deployment cards, the board, /status and the status page.
describe("formatDuration", () => {
  it("shows the two largest units, seconds alone under a minute, never negative", () => {
    expect(formatDuration(45)).toBe("45 s");
    expect(formatDuration(125)).toBe("2 min 5 s");
    expect(formatDuration(3720)).toBe("1 h 2 min");
    expect(formatDuration(90_061)).toBe("1 d 1 h");
    expect(formatDuration(0.4)).toBe("0 s");
    expect(formatDuration(-5)).toBe("0 s");
  });
});

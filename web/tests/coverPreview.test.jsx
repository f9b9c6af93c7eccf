import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import CoverPreview from "../src/components/cover/CoverPreview.jsx";
import { byteRange, pcmToChannels } from "../src/lib/progressivePlayer.js";
import { I18nProvider } from "../src/lib/i18n.jsx";
import { mockApi } from "./helpers.jsx";

const inEnglish = ({ children }) => <I18nProvider initialLang="en">{children}</I18nProvider>;
const show = (ui) => render(ui, { wrapper: inEnglish });

// jsdom has no Web Audio: a fake context that records what the player schedules.
class FakeContext {
  constructor({ sampleRate }) {
    this.sampleRate = sampleRate;
    this.currentTime = 0;
    this.started = [];
  }
  createBuffer(channels, length, rate) {
    const data = Array.from({ length: channels }, () => new Float32Array(length));
    return { length, sampleRate: rate, copyToChannel: (src, ch) => data[ch].set(src), data };
  }
  createBufferSource() {
    const ctx = this;
    return {
      connect() {},
      disconnect() {},
      stop() {},
      start(when, offset) {
        ctx.started.push({ when, offset, length: this.buffer.length });
      },
    };
  }
  resume() {
    return Promise.resolve();
  }
  close() {}
}

function pcm(frames) {
  const a = new Int16Array(frames * 2);
  for (let i = 0; i < a.length; i++) a[i] = (i % 200) * 100;
  return a.buffer;
}

let contexts;
beforeEach(() => {
  contexts = [];
  globalThis.AudioContext = class extends FakeContext {
    constructor(opts) {
      super(opts);
      contexts.push(this);
    }
  };
});
afterEach(() => {
  delete globalThis.AudioContext;
});

describe("progressive player helpers", () => {
  it("asks for frames by byte range after the 44-byte header", () => {
    expect(byteRange(0, 10)).toBe("bytes=44-83");
    expect(byteRange(16000, 24000)).toBe(`bytes=${44 + 64000}-${44 + 96000 - 1}`);
  });

  it("turns interleaved 16-bit PCM into two channels", () => {
    const [l, r] = pcmToChannels(new Int16Array([16384, -32768, 0, 32767]).buffer);
    expect(Array.from(l)).toEqual([0.5, 0]);
    expect(r[0]).toBe(-1);
    expect(r[1]).toBeCloseTo(1, 4);
  });
});

describe("CoverPreview", () => {
  it("fetches each new piece by range, shows how far the ready part reaches and plays it", async () => {
    const calls = mockApi({
      "GET /jobs/j1/audio": (config) => {
        const [a, b] = config.headers.Range.replace("bytes=", "").split("-").map(Number);
        return [206, pcm((b + 1 - a) / 4), { "x-persona-preview": "s16le" }];
      },
    });
    const metrics = { ready_frames: 16000, ready_rate: 8000, ready_s: 2, song_s: 10 };
    const { rerender } = show(<CoverPreview jobId="j1" metrics={metrics} />);
    await waitFor(() => expect(screen.getByTestId("cover-preview-status")).toHaveTextContent("ready 0:02 of 0:10"));
    expect(contexts[0].sampleRate).toBe(8000);
    expect(screen.getByTestId("cover-preview-ready").style.width).toBe("20%");
    rerender(<CoverPreview jobId="j1" metrics={{ ...metrics, ready_frames: 40000, ready_s: 5 }} />);
    await waitFor(() => expect(screen.getByTestId("cover-preview-status")).toHaveTextContent("ready 0:05 of 0:10"));
    const ranges = calls.filter((c) => c.key === "GET /jobs/j1/audio").map((c) => c.config.headers.Range);
    expect(ranges).toEqual([byteRange(0, 16000), byteRange(16000, 40000)]);
    await userEvent.click(screen.getByRole("button", { name: "Play" }));
    // both pieces scheduled back to back on one clock
    const [first, second] = contexts[0].started;
    expect(second.when - first.when).toBeCloseTo(16000 / 8000, 9);
    expect(screen.getByRole("button", { name: "Pause" })).toBeInTheDocument();
  });

  it("ignores the finished file (no preview header) and shows nothing before the first piece", async () => {
    mockApi({ "GET /jobs/j2/audio": () => [200, pcm(100)] });
    const { container, rerender } = show(<CoverPreview jobId="j2" metrics={{}} />);
    expect(container).toBeEmptyDOMElement();
    rerender(<CoverPreview jobId="j2" metrics={{ ready_frames: 100, ready_rate: 8000, song_s: 1 }} />);
    await waitFor(() => expect(screen.getByTestId("cover-preview-status")).toHaveTextContent("ready 0:00"));
    expect(screen.getByRole("button", { name: "Play" })).toBeDisabled();
  });
});

// The training's honest clock and its queue, as the progress card shows them (issue 25 items 3-4).
import { afterEach, describe, expect, it, vi } from "vitest";
import { act, render, screen } from "@testing-library/react";
import { I18nProvider } from "../src/lib/i18n.jsx";
import { formatEta } from "../src/lib/format.js";
import { countDown } from "../src/lib/timeLeft.js";
import JobProgress from "../src/components/JobProgress.jsx";

function show(job) {
  return render(
    <I18nProvider initialLang="ko">
      <JobProgress job={job} title="학습 진행 상황" onStop={() => {}} />
    </I18nProvider>,
  );
}

describe("the time left", () => {
  it("is a range while uncertain and one value once narrow", () => {
    expect(formatEta(600, 480, 780)).toBe("8:00 – 13:00");
    expect(formatEta(600, 590, 610)).toBe("10:00");
    expect(formatEta(null)).toBe("");
  });

  it("says 계산 중 while the training cannot tell yet", () => {
    show({ kind: "train", status: "running", stage: "features", stages: ["preprocess", "features"], eta_s: null, metrics: { eta_low_s: null, eta_high_s: null } });
    expect(screen.getByTestId("job-eta")).toHaveTextContent("계산 중");
  });

  it("shows the measured range", () => {
    show({ kind: "train", status: "running", stage: "train", stages: ["train"], eta_s: 600, metrics: { eta_low_s: 480, eta_high_s: 780 } });
    expect(screen.getByTestId("job-eta")).toHaveTextContent("8:00 – 13:00");
  });
});

describe("between reports", () => {
  afterEach(() => vi.useRealTimers());

  it("every bound counts down; once even the longest ran out it cannot tell", () => {
    expect(countDown(600, 480, 780, 0)).toEqual({ mid: 600, low: 480, high: 780 });
    expect(countDown(600, 480, 780, 100)).toEqual({ mid: 500, low: 380, high: 680 });
    expect(countDown(600, 480, 780, 700)).toEqual({ mid: 0, low: 0, high: 80 });
    expect(countDown(600, 480, 780, 780)).toBeNull();
    expect(countDown(125, null, null, 25)).toEqual({ mid: 100, low: null, high: null });
    expect(countDown(125, null, null, 125)).toBeNull();
    expect(countDown(null, null, null, 0)).toBeNull();
  });

  it("the card counts down while a save reports nothing, and a new report starts again from it", () => {
    vi.useFakeTimers();
    const job = { kind: "train", status: "running", stage: "train", stages: ["train"], eta_s: 600, metrics: { eta_low_s: 590, eta_high_s: 610 } };
    const view = show(job);
    expect(screen.getByTestId("job-eta")).toHaveTextContent("10:00");
    act(() => vi.advanceTimersByTime(30_000));
    expect(screen.getByTestId("job-eta")).toHaveTextContent("9:30");
    view.rerender(
      <I18nProvider initialLang="ko">
        <JobProgress job={{ ...job, eta_s: 620, metrics: { eta_low_s: 500, eta_high_s: 900 } }} title="학습 진행 상황" onStop={() => {}} />
      </I18nProvider>,
    );
    expect(screen.getByTestId("job-eta")).toHaveTextContent("8:20 – 15:00");
    act(() => vi.advanceTimersByTime(901_000));
    expect(screen.getByTestId("job-eta")).toHaveTextContent("계산 중");
  });
});

describe("a stopped training's checklist", () => {
  it("does not mark 학습 done, though its last save was exported", () => {
    show({
      kind: "train",
      status: "cancelled",
      stages: ["preprocess", "features", "train", "export"],
      result: { saved: true, stopped: true },
      metrics: {},
    });
    expect(screen.getByTestId("stage-features").dataset.done).toBe("true");
    expect(screen.getByTestId("stage-train").dataset.done).toBe("false");
  });
});

describe("a training waiting for the device", () => {
  it("says it is queued, with its place and wait, like a queued cover", () => {
    show({
      kind: "train",
      status: "running",
      stage: "waiting",
      stages: ["waiting"],
      queue: { position: 1, wait_s: 95 },
      message_code: "waiting_device",
      message_params: { device: "CPU" },
      metrics: {},
    });
    expect(screen.getByTestId("job-status")).toHaveTextContent("대기 중");
    expect(screen.getByTestId("job-queue")).toHaveTextContent("대기열 1번째");
    expect(screen.getByTestId("job-queue")).toHaveTextContent("1:35");
    expect(screen.queryByText("대기", { selector: "li" })).toBeNull(); // "waiting" is not a step of the work
  });
});

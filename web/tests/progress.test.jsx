import { describe, expect, it, vi } from "vitest";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import JobProgress, { epochOf, lossEntries } from "../src/components/JobProgress.jsx";
import { renderWithProviders } from "./helpers.jsx";

const running = {
  id: "j1",
  kind: "train",
  status: "running",
  stage: "train",
  stages: ["preprocess", "features", "train"],
  progress: 0.42,
  eta_s: 125,
  message: "epoch 21",
  metrics: { epoch: 21, epochs: 50, loss_g: 31.234567, loss_d: 3.5, lr: 0.0001 },
};

describe("JobProgress", () => {
  it("shows stages, percent, epoch, losses and ETA", () => {
    renderWithProviders(<JobProgress job={running} title="Training" onStop={() => {}} />, { lang: "en" });
    expect(screen.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "42");
    expect(screen.getByText("42%")).toBeInTheDocument();
    expect(screen.getByTestId("job-epoch")).toHaveTextContent("21 / 50");
    expect(screen.getByText("loss g")).toBeInTheDocument(); // unknown loss names shown as they are
    expect(screen.getByText("31.235")).toBeInTheDocument();
    expect(screen.getByTestId("job-eta")).toHaveTextContent("2:05");
    expect(screen.getByText("Preprocess")).toBeInTheDocument();
    expect(screen.getByText("Train").closest("li")).toHaveAttribute("aria-current", "step");
    expect(screen.getByTestId("job-status")).toHaveTextContent("Running");
    expect(screen.queryByText("lr")).toBeNull();
  });

  it("offers Stop while running and calls back", async () => {
    const onStop = vi.fn();
    renderWithProviders(<JobProgress job={running} title="Training" onStop={onStop} />, { lang: "en" });
    await userEvent.click(screen.getByRole("button", { name: "Stop" }));
    expect(onStop).toHaveBeenCalledOnce();
  });

  it("shows a failed job's reason from its code, in the user's language, and no Stop", () => {
    const error = { code: "audio_silent", message: "02.wav is silent (-90 dBFS)", params: { file: "내녹음.m4a" } };
    const job = { ...running, status: "failed", error };
    renderWithProviders(<JobProgress job={job} title="Training" onStop={() => {}} />, { lang: "ko" });
    expect(screen.getByRole("alert")).toHaveTextContent("‘내녹음.m4a’ — 소리가 거의 없는 파일입니다");
    expect(screen.getByRole("alert")).not.toHaveTextContent("02.wav");
    expect(screen.getByRole("alert")).toHaveTextContent("audio_silent");
    expect(screen.queryByRole("button", { name: "Stop" })).toBeNull();
    expect(screen.queryByTestId("job-eta")).toBeNull();
  });

  it("renders progress codes from the catalogue and never an uncoded internal message", () => {
    const coded = { ...running, message: "preparing recording 1 of 2", message_code: "preprocess_recording", message_params: { n: 1, total: 2 } };
    const { unmount } = renderWithProviders(<JobProgress job={coded} title="T" />, { lang: "ko" });
    expect(screen.getByTestId("job-message")).toHaveTextContent("녹음 1/2 준비 중");
    unmount();
    renderWithProviders(<JobProgress job={{ ...running, message: "window 1/1", message_code: "" }} title="T" />, { lang: "ko" });
    expect(screen.queryByTestId("job-message")).toBeNull();
    expect(document.body).not.toHaveTextContent("window 1/1");
  });

  it("shows a queued job's place and wait, and a stop that kept nothing", () => {
    const queued = { id: "q", kind: "train", status: "queued", stage: "queued", progress: 0, queue: { position: 2, wait_s: 95 } };
    const { unmount } = renderWithProviders(<JobProgress job={queued} title="T" />, { lang: "en" });
    expect(screen.getByTestId("job-queue")).toHaveTextContent("Number 2 in the queue · about 1:35 to wait");
    unmount();
    const stopped = { id: "s", kind: "train", status: "cancelled", stage: "features", progress: 0.3, result: { saved: false } };
    renderWithProviders(<JobProgress job={stopped} title="T" />, { lang: "en" });
    expect(screen.getByTestId("job-cancelled")).toHaveTextContent("no model was kept");
    expect(screen.queryByRole("progressbar")).toBeNull(); // a stopped job never reads as 100 %
  });

  it("says when the connection dropped", () => {
    renderWithProviders(<JobProgress job={running} title="T" connected={false} />, { lang: "en" });
    expect(screen.getByRole("status")).toHaveTextContent("Reconnecting");
  });

  it("translates stage names and keeps unknown ones as they are", () => {
    const job = { ...running, stages: ["separate", "mystery_step"], stage: "mystery_step" };
    renderWithProviders(<JobProgress job={job} title="T" />, { lang: "ko" });
    expect(screen.getByText("보컬 분리")).toBeInTheDocument();
    expect(screen.getByText("mystery_step")).toBeInTheDocument();
  });

  it("reads epochs and losses from metrics", () => {
    expect(epochOf({ epoch: 3, total_epochs: 9 })).toEqual({ epoch: 3, total: 9 });
    expect(epochOf({})).toBeNull();
    expect(epochOf({ epoch: 2 }, 5)).toEqual({ epoch: 2, total: 5 });
    expect(lossEntries({ loss_mel: 1, loss_d: 2, step: 5 }).map(([k]) => k)).toEqual(["loss_d", "loss_mel"]);
  });
});

describe("JobProgress with the trainer's metrics", () => {
  it("names the trainer's losses in words", () => {
    const job = { id: "j", status: "running", stage: "train", progress: 0.1, metrics: { epoch: 1, epochs: 4, loss_mel: 20.5, loss_disc: 3.1 } };
    renderWithProviders(<JobProgress job={job} title="T" />, { lang: "ko" });
    expect(screen.getByText("멜 손실")).toBeInTheDocument();
    expect(screen.getByText("판별자 손실")).toBeInTheDocument();
    expect(screen.getByTestId("job-epoch")).toHaveTextContent("1 / 4");
  });
});

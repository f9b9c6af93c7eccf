import { describe, expect, it, vi } from "vitest";
import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { health, mockApi, renderApp } from "./helpers.jsx";
import * as fake from "./fakeSocket.js";

vi.mock("../src/lib/socket.js", () => import("./fakeSocket.js"));

const models = [
  { name: "alpha", version: "v2", sample_rate: 40000, size_bytes: 1000, created_at: "2026-11-24T10:00:00Z" },
  { name: "beta", version: "v1", sample_rate: 48000, size_bytes: 2000, created_at: "2026-11-25T10:00:00Z" },
];
const covers = [
  { id: "c1", model: "alpha", song_name: "Song One", pitch: 12, duration_s: 200, created_at: "2026-11-25T11:00:00Z", audio_url: "/api/covers/c1/audio", download_url: "/api/covers/c1/download" },
];

describe("library", () => {
  it("shows the pitch a cover was made with, marked when the server chose it", async () => {
    const auto = { ...covers[0], pitch: -5, pitch_auto: true, duration_s: 60 };
    mockApi({ "GET /health": health, "GET /models": () => [200, models], "GET /covers": () => [200, [auto]] });
    renderApp("/library", "en");
    expect(await screen.findByText(/-5 semitones \(auto\) · 1:00/)).toBeInTheDocument();
  });

  it("lists models (newest first) and covers", async () => {
    mockApi({ "GET /health": health, "GET /models": () => [200, models], "GET /covers": () => [200, covers] });
    renderApp("/library", "en");
    const list = await screen.findByTestId("model-list");
    const names = within(list).getAllByRole("link", { name: /alpha|beta/ }).map((a) => a.textContent);
    expect(names).toEqual(["beta", "alpha"]);
    const coverList = screen.getByTestId("cover-list");
    expect(within(coverList).getByText("Song One")).toBeInTheDocument();
    expect(within(coverList).getByText(/\+12 semitones · 3:20/)).toBeInTheDocument();
    expect(within(coverList).getByRole("link", { name: /Download/ })).toHaveAttribute("href", "/api/covers/c1/download");
  });

  it("deletes a model only after confirmation", async () => {
    const calls = mockApi({
      "GET /health": health,
      "GET /models": () => [200, models],
      "GET /covers": () => [200, []],
      "DELETE /models/alpha": () => [204, ""],
    });
    const user = userEvent.setup();
    renderApp("/library", "en");
    await screen.findByTestId("model-list");
    await user.click(screen.getByRole("button", { name: "Delete model alpha" }));
    let dialog = screen.getByRole("dialog", { name: "Delete this model?" });
    expect(within(dialog).getByRole("button", { name: "Cancel" })).toHaveFocus();
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(calls.some((c) => c.key.startsWith("DELETE"))).toBe(false);

    await user.click(screen.getByRole("button", { name: "Delete model alpha" }));
    dialog = screen.getByRole("dialog");
    // focus stays inside the dialog
    await user.tab();
    expect(within(dialog).getByRole("button", { name: "Delete" })).toHaveFocus();
    await user.tab();
    expect(within(dialog).getByRole("button", { name: "Cancel" })).toHaveFocus();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();

    await user.click(screen.getByRole("button", { name: "Delete model alpha" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(screen.queryByRole("link", { name: "alpha" })).toBeNull());
    expect(calls.filter((c) => c.key === "DELETE /models/alpha")).toHaveLength(1);
    expect(screen.getByRole("link", { name: "beta" })).toBeInTheDocument();
  });

  it("deletes a cover, and shows why when the server refuses", async () => {
    mockApi({
      "GET /health": health,
      "GET /models": () => [200, []],
      "GET /covers": () => [200, covers],
      "DELETE /covers/c1": () => [409, { error: { code: "cover_busy", message: "the cover is still being written" } }],
    });
    const user = userEvent.setup();
    renderApp("/library", "en");
    await screen.findByTestId("cover-list");
    expect(screen.getByText(/No models yet/)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Delete cover Song One" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Delete" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("the cover is still being written");
    expect(screen.getByText("Song One")).toBeInTheDocument();
  });

  it("says so when the server cannot be reached", async () => {
    mockApi({
      "GET /health": health,
      "GET /models": () => {
        const error = new Error("Network Error");
        error.code = "ERR_NETWORK";
        error.isAxiosError = true;
        error.request = {};
        throw error;
      },
      "GET /covers": () => [200, []],
    });
    renderApp("/library", "en");
    expect(await screen.findByRole("alert")).toHaveTextContent("Cannot reach the server");
  });
});

describe("library: jobs in progress", () => {
  it("lists running jobs and opens one to watch it", async () => {
    mockApi({
      "GET /health": health,
      "GET /models": () => [200, models],
      "GET /covers": () => [200, []],
      "GET /jobs": (config) => {
        expect(config.params).toEqual({ status: "queued,running" });
        return [200, [{ id: "j9", kind: "train", status: "running", progress: 0.4, model: "gamma", params: { epochs: 20 } }]];
      },
      "GET /jobs/j9": () => [200, { id: "j9", kind: "train", status: "running", progress: 0.4, stage: "train" }],
    });
    const user = userEvent.setup();
    renderApp("/library", "en");
    const list = await screen.findByTestId("job-list");
    expect(within(list).getByText("Training ‘gamma’")).toBeInTheDocument();
    await user.click(within(list).getByRole("button", { name: "Watch progress" }));
    expect(screen.getByTestId("location")).toHaveTextContent("/train");
    expect(JSON.parse(window.sessionStorage.getItem("persona.trainJob"))).toEqual({ job_id: "j9", model_name: "gamma", epochs: 20 });
    expect(await screen.findByText("Training ‘gamma’")).toBeInTheDocument();
  });

  it("follows listed jobs live: place in the queue, then progress, from any tab", async () => {
    mockApi({
      "GET /health": health,
      "GET /models": () => [200, models],
      "GET /covers": () => [200, []],
      "GET /jobs": () => [200, [{ id: "q1", kind: "cover", status: "queued", progress: 0, model: "gamma", params: { song_name: "노래.wav" } }]],
      "GET /jobs/q1": () => [200, { id: "q1", kind: "cover", status: "queued", progress: 0, queue: { position: 2, wait_s: 120 } }],
    });
    renderApp("/library", "en");
    const list = await screen.findByTestId("job-list");
    expect(await within(list).findByText(/Number 2 in the queue · about 2:00 to wait/)).toBeInTheDocument();
    act(() =>
      fake.serverEmit("job_progress", {
        job_id: "q1", kind: "cover", status: "running", stage: "separate", progress: 0.5,
        message_code: "separate_vocals", message_params: {}, metrics: {},
      }),
    );
    expect(await within(list).findByText("Separating the vocals from the music")).toBeInTheDocument();
    expect(within(list).getByRole("progressbar")).toHaveAttribute("aria-valuenow", "50");
  });
});

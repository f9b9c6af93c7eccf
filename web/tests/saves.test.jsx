// The saves panel: chart data, a player per save, the choice and why, previews off, plateau + Stop,
// exporting another kept save; the cover page's quality.
import { describe, expect, it, vi } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { health, mockApi, renderApp, renderWithProviders } from "./helpers.jsx";
import SavesPanel, { choiceText } from "../src/components/train/SavesPanel.jsx";
import { chartData } from "../src/components/train/EpochChart.jsx";
import { translate } from "../src/lib/i18n.jsx";

vi.mock("../src/lib/socket.js", () => import("./fakeSocket.js"));

const ledger = (over = {}) => ({
  epochs: [
    { epoch: 1, loss_mel: 30, eval_mel: 31 },
    { epoch: 2, loss_mel: 25, eval_mel: 26 },
  ],
  saves: [
    { epoch: 1, preview: true, kept: true, preview_url: "/api/jobs/j1/previews/1", metrics: { speaker_similarity: 0.61, f0_corr: 0.9, f0_rmse_cents: 40, unavailable: {} } },
    { epoch: 2, preview: true, kept: true, preview_url: "/api/jobs/j1/previews/2", metrics: { speaker_similarity: 0.72, f0_corr: null, unavailable: { f0_corr: "the pitch does not move" } } },
  ],
  previews: { enabled: true, reason: null, seconds: 9 },
  choice: { epoch: 2, code: "best_similarity", message: "epoch 2 sounds most like you", params: { epoch: 2, similarity: 0.72, saves: 2 } },
  plateau: false,
  exported_epoch: 2,
  source_url: "/api/jobs/j1/previews/source",
  ...over,
});

describe("saves panel", () => {
  it("lines losses and save metrics up by epoch for the chart", () => {
    const [xs, mel, evalMel, sim, corr] = chartData(ledger().epochs, ledger().saves);
    expect(xs).toEqual([1, 2]);
    expect(mel).toEqual([30, 25]);
    expect(evalMel).toEqual([31, 26]);
    expect(sim).toEqual([0.61, 0.72]);
    expect(corr).toEqual([0.9, null]);
  });

  it("plays each save's preview, says which round was chosen and why, and shows unavailable reasons", async () => {
    mockApi({ "GET /jobs/j1/training": () => [200, ledger()] });
    renderWithProviders(<SavesPanel url="/jobs/j1/training" refreshKey="1" />, { lang: "en" });
    expect(await screen.findByTestId("preview-2")).toHaveAttribute("src", "/api/jobs/j1/previews/2");
    expect(screen.getByTestId("preview-1")).toHaveAttribute("src", "/api/jobs/j1/previews/1");
    expect(screen.getByTestId("preview-source")).toHaveAttribute("src", "/api/jobs/j1/previews/source");
    expect(screen.getByTestId("choice")).toHaveTextContent("Round 2 was exported.");
    expect(screen.getByTestId("choice")).toHaveTextContent("most like you of 2 saves (0.720)");
    expect(screen.getByTestId("metrics-2-f0_corr")).toHaveTextContent("unavailable (the pitch does not move)");
    expect(screen.getByTestId("metrics-1-f0_rmse_cents")).toHaveTextContent("40");
    expect(screen.getByTestId("epoch-chart")).toHaveAttribute("data-points", "2");
    expect(screen.queryByTestId("plateau")).toBeNull();
  });

  it("says previews are off and why", async () => {
    const off = ledger({ saves: [], previews: { enabled: false, reason: "previews are off: too little voice" }, choice: null, source_url: null });
    mockApi({ "GET /jobs/j1/training": () => [200, off] });
    renderWithProviders(<SavesPanel url="/jobs/j1/training" />, { lang: "en" });
    expect(await screen.findByTestId("previews-off")).toHaveTextContent("too little voice");
  });

  it("offers Stop when similarity stopped improving", async () => {
    const onStop = vi.fn();
    mockApi({ "GET /jobs/j1/training": () => [200, ledger({ plateau: true })] });
    renderWithProviders(<SavesPanel url="/jobs/j1/training" onStop={onStop} />, { lang: "en" });
    expect(await screen.findByTestId("plateau")).toHaveTextContent("more rounds are unlikely to help");
    await userEvent.click(screen.getByRole("button", { name: "Stop now" }));
    expect(onStop).toHaveBeenCalledTimes(1);
  });

  it("exports another kept save", async () => {
    const calls = mockApi({
      "GET /models/v/saves": () => [200, ledger()],
      "POST /models/v/saves/1/export": () => [200, { name: "v", training: { exported_epoch: 1 } }],
    });
    const onExported = vi.fn();
    renderWithProviders(<SavesPanel url="/models/v/saves" exportModel="v" onExported={onExported} />, { lang: "en" });
    await userEvent.selectOptions(await screen.findByTestId("export-pick"), "1");
    await userEvent.click(screen.getByTestId("export-save"));
    await waitFor(() => expect(onExported).toHaveBeenCalled());
    expect(calls.map((c) => c.key)).toContain("POST /models/v/saves/1/export");
    expect(screen.getByTestId("choice")).toHaveTextContent("Round 1 was exported. You chose this save.");
  });

  it("words a guarded choice from the catalogue, in Korean too", () => {
    const choice = { epoch: 10, code: "best_guarded", message: "x", params: { similarity: 0.74, other_epoch: 15, other_similarity: 0.8 } };
    const t = (k, v) => translate("ko", k, v);
    expect(choiceText(choice, t)).toContain("15회차");
    expect(choiceText({ ...choice, code: "new_code" }, t)).toBe("x");
  });
});

describe("cover page quality", () => {
  it("shows the converted vocal's similarity and melody match", async () => {
    const cover = {
      id: "abc123abc123",
      model: "v",
      song_name: "song",
      audio_url: "/api/covers/abc123abc123/audio",
      quality: { speaker_similarity: 0.81, f0_corr: 0.97, f0_rmse_cents: 22.4, unavailable: {} },
    };
    mockApi({ "GET /health": health, "GET /covers/abc123abc123": () => [200, cover] });
    renderApp("/covers/abc123abc123", "en");
    expect(await screen.findByTestId("cover-quality-speaker_similarity")).toHaveTextContent("0.81");
    expect(screen.getByTestId("cover-quality-f0_rmse_cents")).toHaveTextContent("22");
  });
});

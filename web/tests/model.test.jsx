import { beforeEach, describe, expect, it, vi } from "vitest";
import { act, fireEvent, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { audioFile, health, mockApi, renderApp, SERVER_OPTIONS } from "./helpers.jsx";
import * as fake from "./fakeSocket.js";

vi.mock("../src/lib/socket.js", () => import("./fakeSocket.js"));

beforeEach(() => fake.resetFakeSocket());

const model = {
  name: "my voice",
  version: "v2",
  sample_rate: 40000,
  f0: true,
  has_index: true,
  source: "trained",
  created_at: "2026-11-25T10:00:00Z",
  size_bytes: 55 * 1024 * 1024,
  epochs: 200,
  f0_unvoiced: "zero",
  voice_profile: { median_hz: 220.4, p5_hz: 146.9, p95_hz: 329.2 },
};

describe("model page", () => {
  it("shows the model's facts, voice profile as notes, and a download link", async () => {
    mockApi({ "GET /health": health, "GET /models/my voice": () => [200, model] });
    renderApp(`/models/${encodeURIComponent("my voice")}?pitch=5`, "en");
    expect(await screen.findByText("v2")).toBeInTheDocument();
    expect(screen.getByTestId("model-name")).toHaveTextContent("my voice");
    expect(screen.getByText("40 kHz")).toBeInTheDocument();
    expect(screen.getByText("55 MB")).toBeInTheDocument();
    expect(screen.getByText("Trained here")).toBeInTheDocument();
    expect(screen.getByTestId("profile-center")).toHaveTextContent("A3 · 220 Hz");
    expect(screen.getByTestId("profile-range")).toHaveTextContent("D3 – E4 · 147–329 Hz");
    expect(screen.getByText("200")).toBeInTheDocument();
    // the model's f0 convention (issue 9), and the override in the advanced options, "auto" first
    expect(screen.getAllByText("Kept at 0 (RVC / Applio classic)")).toHaveLength(2); // the fact and its option
    const unvoiced = screen.getByLabelText("Pitch in unvoiced frames");
    expect(unvoiced).toHaveValue("auto");
    expect(screen.getByRole("option", { name: "Interpolated (RVC 2026)" })).toBeInTheDocument();
    // a pitch suggested by a previous cover arrives in the address
    expect(screen.getByRole("button", { name: /\+5 suggested/ })).toHaveAttribute("aria-pressed", "true");
    expect(screen.getByRole("spinbutton", { name: "Pitch value" })).toHaveValue(5);
    const link = screen.getByRole("link", { name: /Save the model/ });
    expect(link).toHaveAttribute("href", "/api/models/my%20voice/download");
    expect(window.sessionStorage.getItem("persona.modelName")).toBe("my voice");
  });

  it("shows a missing model's error in words", async () => {
    mockApi({
      "GET /health": health,
      "GET /models/ghost": () => [404, { error: { code: "model_not_found", message: "no model named 'ghost'" } }],
    });
    renderApp("/models/ghost", "en");
    expect(await screen.findByRole("alert")).toHaveTextContent("The model was not found.");
  });

  it("sends song, model, pitch and only the options the user changed; follows stages to the cover", async () => {
    let sent;
    mockApi({
      "GET /health": health,
      "GET /models/my voice": () => [200, model],
      "POST /covers": (config) => {
        sent = config.data;
        return [202, { job_id: "c-1" }];
      },
      "GET /jobs/c-1": () => [200, { id: "c-1", kind: "cover", status: "queued", progress: 0 }],
    });
    const user = userEvent.setup();
    renderApp(`/models/${encodeURIComponent("my voice")}`, "en");
    await screen.findByText("v2");
    fireEvent.change(document.querySelector('input[name="song"]'), { target: { files: [audioFile("song.mp3", 500, "audio/mpeg")] } });
    await user.click(screen.getByRole("button", { name: /−12/ }));
    await user.click(screen.getByText("Advanced conversion"));
    fireEvent.change(screen.getByLabelText(/Index rate/), { target: { value: "0.5" } });
    await user.click(screen.getByLabelText(/Split lead and backing vocals/));
    await user.selectOptions(screen.getByLabelText("Backing vocals"), "off");
    await user.click(screen.getByText("Mix"));
    await user.selectOptions(screen.getByLabelText("File format"), "mp3");
    await user.click(screen.getByRole("button", { name: "Make cover" }));

    expect(await screen.findByTestId("job-heading")).toBeInTheDocument();
    expect(sent.get("song").name).toBe("song.mp3");
    expect(sent.get("model")).toBe("my voice");
    expect(sent.get("pitch")).toBe("-12");
    expect(sent.get("index_rate")).toBe("0.5");
    expect(sent.get("format")).toBe("mp3");
    expect(sent.has("protect")).toBe(false);
    expect(sent.has("vocal_gain")).toBe(false);
    expect(sent.get("lead_backing")).toBe("true");
    expect(sent.get("backing")).toBe("off");
    expect(sent.has("pitch_auto")).toBe(false);
    expect(sent.has("dereverb")).toBe(false);

    act(() => fake.serverEmit("job_progress", { job_id: "c-1", kind: "cover", stage: "separate", progress: 0.2 }));
    act(() => fake.serverEmit("job_progress", { job_id: "c-1", kind: "cover", stage: "convert", progress: 0.6 }));
    expect(screen.getByText("Separate vocals").closest("li")).toHaveClass("stage-done");
    expect(screen.getByText("Convert voice").closest("li")).toHaveAttribute("aria-current", "step");
    expect(screen.getByText("60%")).toBeInTheDocument();

    act(() =>
      fake.serverEmit("job_done", {
        job_id: "c-1",
        kind: "cover",
        result: { cover_id: "cv9", filename: "song.wav", audio_url: "/api/covers/cv9/audio", download_url: "/api/covers/cv9/download" },
      }),
    );
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/covers/cv9"));
    expect(JSON.parse(window.sessionStorage.getItem("persona.cover"))).toMatchObject({ id: "cv9", audio_url: "/api/covers/cv9/audio" });
  });

  it("lets the server choose the pitch, which disables the manual control", async () => {
    let sent;
    mockApi({
      "GET /health": health,
      "GET /models/my voice": () => [200, model],
      "POST /covers": (config) => {
        sent = config.data;
        return [202, { job_id: "c-3" }];
      },
      "GET /jobs/c-3": () => [200, { id: "c-3", kind: "cover", status: "queued", progress: 0 }],
    });
    const user = userEvent.setup();
    renderApp(`/models/${encodeURIComponent("my voice")}`, "en");
    await screen.findByText("v2");
    fireEvent.change(document.querySelector('input[name="song"]'), { target: { files: [audioFile("song.wav")] } });
    await user.click(screen.getByLabelText(/Match the song automatically/));
    expect(screen.getByRole("slider", { name: "Pitch shift" })).toBeDisabled();
    await user.click(screen.getByRole("button", { name: "Make cover" }));
    await screen.findByTestId("job-heading");
    expect(sent.get("pitch_auto")).toBe("true");
  });

  it("shows a failed cover's reason and lets the user try again", async () => {
    window.sessionStorage.setItem("persona.coverJob", JSON.stringify({ job_id: "c-2", model: "my voice", song_name: "x.wav" }));
    mockApi({
      "GET /health": health,
      "GET /models/my voice": () => [200, model],
      "GET /jobs/c-2": () => [200, { id: "c-2", kind: "cover", status: "running", stage: "separate", progress: 0.1 }],
    });
    renderApp(`/models/${encodeURIComponent("my voice")}`, "en");
    expect(await screen.findByText("Separate vocals")).toBeInTheDocument();
    act(() =>
      fake.serverEmit("job_failed", { job_id: "c-2", kind: "cover", error: { code: "audio_too_long", message: "the song is longer than 20 minutes" } }),
    );
    expect(screen.getByRole("alert")).toHaveTextContent("The audio is too long.");
    await userEvent.click(screen.getByRole("button", { name: "Make another" }));
    expect(screen.getByRole("button", { name: "Make cover" })).toBeInTheDocument();
  });

  it("starts the options at the server's defaults and sends only what differs from them", async () => {
    let sent;
    const cover = {
      ...SERVER_OPTIONS.cover,
      pitch: { type: "number", min: -12, max: 12, default: 0 },
      index_rate: { type: "number", min: 0, max: 1, default: 0.5 },
      format: { type: "string", choices: ["wav", "mp3", "flac"], default: "mp3" },
      separation_model: { type: "string", choices: ["auto", "htdemucs", "mdx_new"], default: "auto" },
    };
    mockApi({
      "GET /health": () => [200, { status: "ok", assets: {}, options: { ...SERVER_OPTIONS, cover } }],
      "GET /models/my voice": () => [200, model],
      "POST /covers": (config) => {
        sent = config.data;
        return [202, { job_id: "c-4" }];
      },
      "GET /jobs/c-4": () => [200, { id: "c-4", kind: "cover", status: "queued", progress: 0 }],
    });
    const user = userEvent.setup();
    renderApp(`/models/${encodeURIComponent("my voice")}`, "en");
    await screen.findByText("v2");
    await user.click(await screen.findByText("Advanced conversion"));
    expect(screen.getByRole("slider", { name: "Pitch shift" })).toHaveAttribute("max", "12");
    fireEvent.change(screen.getByRole("spinbutton", { name: "Pitch value" }), { target: { value: "20" } });
    expect(screen.getByRole("spinbutton", { name: "Pitch value" })).toHaveValue(12);
    expect(screen.getByLabelText(/Index rate/)).toHaveValue("0.5");
    await user.click(screen.getByText("Mix"));
    expect(screen.getByLabelText("File format")).toHaveValue("mp3");
    expect([...screen.getByLabelText("File format").options].map((o) => o.textContent)).toEqual(["WAV", "MP3", "FLAC"]);
    expect([...screen.getByLabelText("Vocal separation model").options].map((o) => o.value)).toEqual(["auto", "htdemucs", "mdx_new"]);
    // the page's old default (0.75) is a change against this server's
    fireEvent.change(screen.getByLabelText(/Index rate/), { target: { value: "0.75" } });
    fireEvent.change(document.querySelector('input[name="song"]'), { target: { files: [audioFile("song.wav")] } });
    await user.click(screen.getByRole("button", { name: "Make cover" }));
    await screen.findByTestId("job-heading");
    expect(Object.fromEntries([...sent.entries()].filter(([k]) => k !== "song"))).toEqual({ model: "my voice", pitch: "12", index_rate: "0.75" });
  });

  it("offers no advanced options of its own when the server describes none", async () => {
    let sent;
    mockApi({
      "GET /health": () => [200, { status: "ok", assets: {} }],
      "GET /models/my voice": () => [200, model],
      "POST /covers": (config) => {
        sent = config.data;
        return [202, { job_id: "c-5" }];
      },
      "GET /jobs/c-5": () => [200, { id: "c-5", kind: "cover", status: "queued", progress: 0 }],
    });
    const user = userEvent.setup();
    renderApp(`/models/${encodeURIComponent("my voice")}`, "en");
    await screen.findByText("v2");
    expect(screen.queryByText("Advanced conversion")).toBeNull();
    expect(screen.queryByText("Mix")).toBeNull();
    fireEvent.change(document.querySelector('input[name="song"]'), { target: { files: [audioFile("song.wav")] } });
    await user.click(screen.getByRole("button", { name: "Make cover" }));
    await screen.findByTestId("job-heading");
    expect([...sent.keys()].sort()).toEqual(["model", "pitch", "song"]);
  });
});

// Ecosystem breadth in the page: voice controls, several songs at once, A/B, merge.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { audioFile, health, mockApi, renderApp } from "./helpers.jsx";
import * as fake from "./fakeSocket.js";
import { withHybrids } from "../src/components/cover/ConversionOptions.jsx";
import { addSongs, SONG_LIMITS } from "../src/lib/files.js";

vi.mock("../src/lib/socket.js", () => import("./fakeSocket.js"));
beforeEach(() => fake.resetFakeSocket());

const model = { name: "v", version: "v2", sample_rate: 40000, f0: true, has_index: false, source: "merged", embedder: "korean-hubert-base", merged_from: { a: "x", b: "y", weight: 0.3 } };

describe("voice controls", () => {
  it("offers hybrids, autotune with a key, formant and the content encoder, and sends what changed", async () => {
    let sent;
    mockApi({
      "GET /health": health,
      "GET /models/v": () => [200, model],
      "POST /covers": (config) => {
        sent = config.data;
        return [202, { job_id: "c-1" }];
      },
      "GET /jobs/c-1": () => [200, { id: "c-1", kind: "cover", status: "queued", progress: 0 }],
    });
    const user = userEvent.setup();
    renderApp("/models/v", "en");
    const facts = await screen.findByRole("complementary");
    await within(facts).findByText("korean-hubert-base"); // the model's encoder
    expect(within(facts).getByText("x × 0.3 + y")).toBeInTheDocument();
    fireEvent.change(document.querySelector('input[name="song"]'), { target: { files: [audioFile("song.wav")] } });
    await user.click(screen.getByText("Advanced conversion"));
    expect(screen.queryByLabelText("Autotune key")).toBeNull(); // only with autotune on
    await user.selectOptions(screen.getByLabelText("Pitch extraction"), "hybrid[rmvpe+fcpe+swiftf0]");
    fireEvent.change(screen.getByLabelText(/Autotune strength/), { target: { value: "0.8" } });
    await user.selectOptions(screen.getByLabelText("Autotune key"), "f# minor");
    expect(screen.getByRole("option", { name: "F# minor" })).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText(/Formant/), { target: { value: "-2" } });
    await user.selectOptions(screen.getByLabelText("Content encoder"), "contentvec");
    await user.click(screen.getByRole("button", { name: "Make cover" }));
    await screen.findByText("Making the cover");
    expect(sent.get("f0_method")).toBe("hybrid[rmvpe+fcpe+swiftf0]");
    expect(sent.get("autotune")).toBe("0.8");
    expect(sent.get("autotune_key")).toBe("f# minor");
    expect(sent.get("formant")).toBe("-2");
    expect(sent.get("embedder")).toBe("contentvec");
  });

  it("adds hybrid presets only when the server accepts them", () => {
    expect(withHybrids({ choices: ["rmvpe"], default: "rmvpe" }).choices).toEqual(["rmvpe"]);
    const open = withHybrids({ choices: ["rmvpe"], default: "rmvpe", pattern: "hybrid\\[[a-z0-9]+(\\+[a-z0-9]+){1,3}\\]" });
    expect(open.choices).toContain("hybrid[rmvpe+crepe]");
  });
});

describe("several songs at once", () => {
  it("keeps at most the limit and says which were left out", () => {
    const many = Array.from({ length: SONG_LIMITS.maxFiles + 2 }, (_, i) => audioFile(`s${i}.wav`, 1000 + i));
    const { files, errors } = addSongs([], many);
    expect(files).toHaveLength(SONG_LIMITS.maxFiles);
    expect(errors).toHaveLength(2);
    expect(errors[0].key).toBe("cover.tooManySongs");
  });

  it("submits one cover job per song and follows them all in one view", async () => {
    const songs = [];
    let n = 0;
    mockApi({
      "GET /health": health,
      "GET /models/v": () => [200, model],
      "POST /covers": (config) => {
        songs.push(config.data.get("song").name);
        n += 1;
        return [202, { job_id: `c-${n}` }];
      },
      "GET /jobs/c-1": () => [200, { id: "c-1", kind: "cover", status: "running", progress: 0.5 }],
      "GET /jobs/c-2": () => [200, { id: "c-2", kind: "cover", status: "queued", progress: 0 }],
    });
    const user = userEvent.setup();
    renderApp("/models/v", "en");
    await within(await screen.findByRole("complementary")).findByText("korean-hubert-base");
    fireEvent.change(document.querySelector('input[name="song"]'), {
      target: { files: [audioFile("one.wav", 1000), audioFile("two.mp3", 2000, "audio/mpeg")] },
    });
    await user.click(screen.getByRole("button", { name: "Make cover" }));
    expect(await screen.findByText("Progress of 2 covers")).toBeInTheDocument();
    expect(songs).toEqual(["one.wav", "two.mp3"]);
    const rows = await screen.findAllByTestId("batch-row");
    expect(rows).toHaveLength(2);
    await waitFor(() => expect(rows[0]).toHaveTextContent("50%"));
    act(() => fake.serverEmit("job_done", { job_id: "c-1", kind: "cover", result: { cover_id: "cv1" } }));
    await waitFor(() => expect(screen.getByTestId("batch-open")).toHaveAttribute("href", "/covers/cv1"));
    expect(rows[1]).toHaveTextContent("Waiting");
    expect(JSON.parse(window.sessionStorage.getItem("persona.coverJob"))).toHaveLength(2); // a reload finds the batch
  });
});

describe("A/B", () => {
  it("switches between the cover and the original at the same position", async () => {
    mockApi({
      "GET /health": health,
      "GET /covers/cv9": () => [200, { id: "cv9", model: "v", song_name: "S", pitch: 0, audio_url: "/api/covers/cv9/audio", original_url: "/api/covers/cv9/original" }],
    });
    const user = userEvent.setup();
    renderApp("/covers/cv9", "en");
    const audio = await screen.findByTestId("cover-audio");
    expect(audio).toHaveAttribute("src", "/api/covers/cv9/audio");
    audio.currentTime = 42;
    await user.click(screen.getByTestId("ab-original"));
    expect(audio).toHaveAttribute("src", "/api/covers/cv9/original");
    expect(screen.getByTestId("ab-original")).toHaveAttribute("aria-pressed", "true");
    fireEvent.loadedMetadata(audio);
    expect(audio.currentTime).toBe(42);
    await user.click(screen.getByTestId("ab-cover"));
    expect(audio).toHaveAttribute("src", "/api/covers/cv9/audio");
  });

  it("offers no toggle for a cover without its original", async () => {
    mockApi({ "GET /health": health, "GET /covers/cv8": () => [200, { id: "cv8", model: "v", song_name: "S", pitch: 0, audio_url: "/a", original_url: null }] });
    renderApp("/covers/cv8", "en");
    await screen.findByTestId("cover-audio");
    expect(screen.queryByTestId("ab-toggle")).toBeNull();
  });
});

describe("merge", () => {
  const models = [
    { name: "a", version: "v2", sample_rate: 40000 },
    { name: "b", version: "v2", sample_rate: 40000 },
  ];
  it("posts the pair, share and name, then opens the new model", async () => {
    let body;
    mockApi({
      "GET /health": health,
      "GET /models": () => [200, models],
      "GET /covers": () => [200, []],
      "GET /jobs": () => [200, []],
      "POST /models/merge": (config) => {
        body = JSON.parse(config.data);
        return [201, { name: "ab" }];
      },
    });
    const user = userEvent.setup();
    renderApp("/library", "en");
    await user.click(await screen.findByText("Merge two models"));
    fireEvent.change(screen.getByLabelText(/Share of the first model/), { target: { value: "0.3" } });
    await user.type(screen.getByLabelText("New model name"), "ab");
    await user.click(screen.getByRole("button", { name: "Merge" }));
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/models/ab"));
    expect(body).toEqual({ a: "a", b: "b", weight: 0.3, name: "ab" });
  });

  it("shows the server's refusal and stays", async () => {
    mockApi({
      "GET /health": health,
      "GET /models": () => [200, models],
      "GET /covers": () => [200, []],
      "GET /jobs": () => [200, []],
      "POST /models/merge": () => [400, { error: { code: "merge_incompatible", message: "different sample rates" } }],
    });
    const user = userEvent.setup();
    renderApp("/library", "ko");
    await user.click(await screen.findByText("두 모델 섞기"));
    await user.type(screen.getByLabelText("새 모델 이름"), "ab");
    await user.click(screen.getByRole("button", { name: "섞기" }));
    // The page's words for the code (or the server's message until a catalogue entry exists).
    expect(await screen.findByRole("alert")).toHaveTextContent(/섞을 수 없습니다|different sample rates/);
    expect(screen.getByTestId("location")).toHaveTextContent("/library");
  });
});

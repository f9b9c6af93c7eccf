import { beforeEach, describe, expect, it, vi } from "vitest";
import { act, fireEvent, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { audioFile, health, mockApi, renderApp, SERVER_OPTIONS } from "./helpers.jsx";
import * as fake from "./fakeSocket.js";

vi.mock("../src/lib/socket.js", () => import("./fakeSocket.js"));

beforeEach(() => fake.resetFakeSocket());

// Picked files are sniffed (their first bytes read) before they are listed: wait for that.
async function pick(files) {
  const input = document.querySelector('input[name="recordings"]');
  fireEvent.change(input, { target: { files } });
  await act(() => new Promise((r) => setTimeout(r, 50)));
}

describe("train page", () => {
  it("checks files before upload and says what is wrong", async () => {
    mockApi({ "GET /health": health });
    renderApp("/train", "en");
    await pick([audioFile("voice.wav"), audioFile("notes.txt", 5, "text/plain")]);
    expect(screen.getByText("voice.wav")).toBeInTheDocument();
    expect(screen.getByTestId("file-errors")).toHaveTextContent("notes.txt: unsupported type. Only .wav, .mp3, .flac");
    expect(screen.getByText("1 of 5 selected")).toBeInTheDocument();
    await pick([1, 2, 3, 4, 5].map((i) => audioFile(`take${i}.mp3`, 100 + i, "audio/mpeg")));
    expect(screen.getByTestId("file-errors")).toHaveTextContent("take5.mp3: at most 5 files can be uploaded.");
    expect(screen.getByText("5 of 5 selected")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Remove voice.wav" }));
    expect(screen.getByText("4 of 5 selected")).toBeInTheDocument();
  });

  it("accepts files dropped on the drop zone", async () => {
    mockApi({ "GET /health": health });
    renderApp("/train", "en");
    const zone = screen.getByTestId("drop-recordings");
    fireEvent.dragOver(zone, { dataTransfer: { files: [] } });
    expect(zone).toHaveClass("drop-over");
    fireEvent.drop(zone, { dataTransfer: { files: [audioFile("dropped.wav"), audioFile("x.exe", 3, "application/octet-stream")] } });
    expect(zone).not.toHaveClass("drop-over");
    expect(await screen.findByText("dropped.wav")).toBeInTheDocument();
    expect(screen.getByTestId("file-errors")).toHaveTextContent("x.exe: unsupported type");
  });

  it("shows upload progress while the files go up", async () => {
    let release;
    mockApi({
      "GET /health": health,
      "POST /trainings": async (config) => {
        config.onUploadProgress?.({ loaded: 30, total: 120 });
        await new Promise((r) => (release = r));
        return [202, { job_id: "job-u", model_name: "m" }];
      },
      "GET /jobs/job-u": () => [200, { id: "job-u", kind: "train", status: "queued", progress: 0 }],
    });
    const user = userEvent.setup();
    renderApp("/train", "en");
    await pick([audioFile("a.wav")]);
    await user.type(screen.getByLabelText("Model name"), "m");
    await user.click(screen.getByRole("button", { name: "Train" }));
    const bar = await screen.findByRole("progressbar", { name: "Upload progress" });
    expect(bar).toHaveAttribute("aria-valuenow", "25");
    expect(screen.getByRole("button", { name: "Uploading…" })).toBeDisabled();
    await act(async () => release());
    expect(await screen.findByText("‘m’ is waiting to train")).toBeInTheDocument(); // queued, not "training"
  });

  it("asks for files and a name before sending anything", async () => {
    const calls = mockApi({ "GET /health": health });
    const user = userEvent.setup();
    renderApp("/train", "en");
    await user.click(screen.getByRole("button", { name: "Train" }));
    expect(screen.getByRole("alert")).toHaveTextContent("Choose at least one recording.");
    await pick([audioFile("voice.wav")]);
    await user.click(screen.getByRole("button", { name: "Train" }));
    expect(screen.getByRole("alert")).toHaveTextContent("Enter a model name.");
    expect(calls.filter((c) => c.key === "POST /trainings")).toHaveLength(0);
  });

  it("shows the server's error from its code, in the user's language", async () => {
    mockApi({
      "GET /health": health,
      "POST /trainings": () => [409, { error: { code: "model_exists", message: "a model named 'me' already exists", params: { name: "me" } } }],
    });
    const user = userEvent.setup();
    renderApp("/train", "ko");
    await pick([audioFile("voice.wav")]);
    await user.type(screen.getByLabelText("모델 이름"), "me");
    await user.click(screen.getByRole("button", { name: "학습하기" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("같은 이름의 모델이 이미 있거나 학습 중입니다");
    expect(alert).not.toHaveTextContent("already exists");
    expect(alert).toHaveTextContent("model_exists");
  });

  it("uploads, follows the training live, and opens the model when done", async () => {
    let sent;
    const calls = mockApi({
      "GET /health": health,
      "POST /trainings": (config) => {
        sent = config.data;
        config.onUploadProgress?.({ loaded: 50, total: 100 });
        return [202, { job_id: "job-1", model_name: "내목소리" }];
      },
      "GET /jobs/job-1": () => [200, { id: "job-1", kind: "train", status: "queued", progress: 0, stage: null }],
      "POST /jobs/job-1/cancel": () => [202, {}],
    });
    const user = userEvent.setup();
    renderApp("/train", "en");
    await pick([audioFile("a.wav", 10), audioFile("b.mp3", 20, "audio/mpeg")]);
    await user.type(screen.getByLabelText("Model name"), "내목소리");
    fireEvent.change(screen.getByLabelText("Epochs"), { target: { value: "3" } });
    await user.click(screen.getByText("Advanced settings"));
    await user.selectOptions(screen.getByLabelText("Sample rate"), "48k");
    await user.selectOptions(screen.getByLabelText("Pitch extraction"), "harvest");
    await user.click(screen.getByRole("button", { name: "Train" }));

    expect(await screen.findByText((_, el) => el?.dataset?.testid === "job-heading" && el.textContent.includes("‘내목소리’"))).toBeInTheDocument();
    expect(sent.getAll("files").map((f) => f.name)).toEqual(["a.wav", "b.mp3"]);
    expect(sent.get("name")).toBe("내목소리");
    expect(sent.get("epochs")).toBe("3");
    expect(sent.get("sample_rate")).toBe("48k");
    expect(sent.get("f0_method")).toBe("harvest");
    // untouched settings go out as the server's defaults (/api/health options), not the page's own
    expect(sent.get("batch_size")).toBe(String(SERVER_OPTIONS.train.batch_size.default));
    expect(sent.get("save_every")).toBe(String(SERVER_OPTIONS.train.save_every.default));
    expect(JSON.parse(window.sessionStorage.getItem("persona.trainJob"))).toEqual({ job_id: "job-1", model_name: "내목소리", epochs: 3 });
    expect(fake.emitted).toContainEqual(["subscribe", "job-1"]);

    act(() =>
      fake.serverEmit("job_progress", {
        job_id: "job-1",
        kind: "train",
        stage: "train",
        progress: 0.5,
        eta_s: 61,
        metrics: { epoch: 2, epochs: 3, loss_g: 12.5, loss_d: 2.25 },
      }),
    );
    expect(screen.getByTestId("job-epoch")).toHaveTextContent("2 / 3");
    expect(screen.getByTestId("job-eta")).toHaveTextContent("1:01");
    expect(screen.getByText("12.500")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Stop" }));
    expect(calls.some((c) => c.key === "POST /jobs/job-1/cancel")).toBe(true);
    // said once: the notice, no second "Stopping…" on a button (issue 25 item 3)
    expect(screen.getAllByText("Stopping…")).toHaveLength(1);
    expect(screen.queryByRole("button", { name: /Stop/ })).toBeNull();

    act(() => fake.serverEmit("job_done", { job_id: "job-1", kind: "train", result: { model_name: "내목소리" } }));
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent(`/models/${encodeURIComponent("내목소리")}`));
    expect(window.sessionStorage.getItem("persona.trainJob")).toBeNull();
    expect(window.sessionStorage.getItem("persona.modelName")).toBe("내목소리");
  });

  it("after a reload, shows the running job's current state from the server", async () => {
    window.sessionStorage.setItem("persona.trainJob", JSON.stringify({ job_id: "job-7", model_name: "v" }));
    const calls = mockApi({
      "GET /health": health,
      "GET /jobs/job-7": () => [
        200,
        { id: "job-7", kind: "train", status: "running", stage: "train", progress: 0.8, eta_s: 10, metrics: { epoch: 8, epochs: 10 } },
      ],
    });
    renderApp("/", "en");
    expect(await screen.findByTestId("job-epoch")).toHaveTextContent("8 / 10");
    expect(calls.some((c) => c.key === "GET /jobs/job-7")).toBe(true);
    expect(fake.emitted).toContainEqual(["subscribe", "job-7"]);
    expect(screen.queryByRole("button", { name: "Train" })).toBeNull();
  });

  it("after a dropped connection, says so and catches up on reconnect", async () => {
    window.sessionStorage.setItem("persona.trainJob", JSON.stringify({ job_id: "job-8", model_name: "v" }));
    let state = { id: "job-8", kind: "train", status: "running", stage: "train", progress: 0.3 };
    const calls = mockApi({ "GET /health": health, "GET /jobs/job-8": () => [200, state] });
    renderApp("/", "en");
    await screen.findByText("30%");
    act(() => fake.setConnected(false));
    // A short drop is not worth a warning; one that lasts is.
    expect(screen.queryByText(/Reconnecting/)).toBeNull();
    expect(await screen.findByText(/Reconnecting/, {}, { timeout: 4000 })).toBeInTheDocument();
    const before = calls.filter((c) => c.key === "GET /jobs/job-8").length;
    state = { ...state, status: "failed", error: { code: "training_failed", message: "out of memory" } };
    act(() => fake.setConnected(true));
    expect(await screen.findByText("out of memory")).toBeInTheDocument();
    expect(calls.filter((c) => c.key === "GET /jobs/job-8").length).toBeGreaterThan(before);
    expect(await screen.findByRole("button", { name: "Train another" })).toBeInTheDocument();
    await waitFor(() => expect(window.sessionStorage.getItem("persona.trainJob")).toBeNull());
  });

  it("a stored job the server no longer knows is dropped with a message", async () => {
    window.sessionStorage.setItem("persona.trainJob", JSON.stringify({ job_id: "gone", model_name: "v" }));
    mockApi({ "GET /health": health, "GET /jobs/gone": () => [404, { error: { code: "job_not_found", message: "no such job" } }] });
    renderApp("/", "en");
    expect(await screen.findByText("The job was not found.")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Train another" }));
    expect(screen.getByRole("button", { name: "Train" })).toBeInTheDocument();
  });

  it("uploads a model zip and opens it", async () => {
    let sent;
    mockApi({
      "GET /health": health,
      "POST /models/upload": (config) => {
        sent = config.data;
        return [201, { name: "singer" }];
      },
    });
    const user = userEvent.setup();
    renderApp("/", "en");
    fireEvent.change(document.querySelector('input[name="model-zip"]'), {
      target: { files: [audioFile("singer.zip", 100, "application/zip")] },
    });
    await user.type(screen.getByLabelText("Model name (optional)"), "singer");
    await user.click(screen.getByRole("button", { name: "Upload model" }));
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/models/singer"));
    expect(sent.get("file").name).toBe("singer.zip");
    expect(sent.get("name")).toBe("singer");
  });

  it("warns when jobs wait and no worker runs", async () => {
    mockApi({ "GET /health": () => [200, { status: "ok", workers: [], jobs: { queued: 2, running: 0 }, assets: {} }] });
    renderApp("/", "en");
    expect(await screen.findByText(/2 jobs are waiting but no worker is running/)).toBeInTheDocument();
  });

  it("uses the server's limits for the file checks", async () => {
    mockApi({ "GET /health": () => [200, { status: "ok", limits: { max_training_files: 2, max_training_file_bytes: 1048576 } }] });
    renderApp("/train", "en");
    expect(await screen.findByText("0 of 2 selected")).toBeInTheDocument();
    await pick([audioFile("a.wav"), audioFile("b.wav"), audioFile("c.wav")]);
    expect(screen.getByTestId("file-errors")).toHaveTextContent("c.wav: at most 2 files can be uploaded.");
  });

  it("refuses a non-zip model file", () => {
    mockApi({ "GET /health": health });
    renderApp("/", "en");
    fireEvent.change(document.querySelector('input[name="model-zip"]'), { target: { files: [audioFile("model.pth")] } });
    expect(screen.getByRole("alert")).toHaveTextContent("model.pth: unsupported type. Only .zip files can be uploaded.");
  });

  it("shows the missing weights with their size and one button, and disables Train with the reason", async () => {
    let downloads = 0;
    const missing = [
      { name: "rmvpe.pt", size: 181184272, group: "f0", description: "RMVPE" },
      { name: "hubert_base", size: 189208428, group: "content", description: "HuBERT" },
    ];
    mockApi({
      "GET /health": health,
      "GET /assets": () => [200, { missing, missing_bytes: 370392700, needs: { train: ["rmvpe.pt"], cover: [] }, command: "persona assets download", import_command: "persona assets import DIR", job: null }],
      "GET /assets/needs": () => [200, { kind: "train", missing: [missing[0]], missing_bytes: 181184272, command: "persona assets download rmvpe.pt" }],
      "POST /assets/download": () => {
        downloads += 1;
        return [202, { job_id: "dl-1", job: { id: "dl-1", kind: "assets", status: "queued" } }];
      },
      "GET /jobs/dl-1": () => [200, { id: "dl-1", kind: "assets", status: "running", progress: 0.5, eta_s: 12, metrics: { bytes_done: 1048576, bytes_total: 2097152, bytes_per_s: 524288 } }],
    });
    const user = userEvent.setup();
    renderApp("/", "en");
    const banner = await screen.findByTestId("assets-banner");
    expect(banner).toHaveTextContent("Pretrained weights needed");
    expect(banner).toHaveTextContent("rmvpe.pt");
    expect(banner.querySelector("pre code")).toHaveTextContent("persona assets download"); // code, not `backticks`
    expect(banner).not.toHaveTextContent("`");
    expect(await screen.findByTestId("needs-reason")).toHaveTextContent("rmvpe.pt");
    expect(screen.getByRole("button", { name: "Train" })).toBeDisabled();
    await user.click(screen.getByTestId("assets-download"));
    expect(downloads).toBe(1);
    expect(await screen.findByTestId("assets-progress")).toHaveTextContent("1 MB of 2 MB · 512 KB/s");
  });

  it("tells a person who may not get the weights to ask an administrator, and follows a download", async () => {
    let downloads = 0;
    const missing = [{ name: "rmvpe.pt", size: 181184272, group: "f0", description: "RMVPE" }];
    const overview = { missing, missing_bytes: 181184272, needs: { train: ["rmvpe.pt"], cover: [] }, command: "persona assets download", import_command: "persona assets import DIR", can_download: false };
    const routes = {
      "GET /health": health,
      "GET /assets": () => [200, { ...overview, job: null }],
      "GET /assets/needs": () => [200, { kind: "train", missing, missing_bytes: 181184272, command: "" }],
      "POST /assets/download": () => {
        downloads += 1;
        return [403, { error: { code: "admin_required", message: "only an administrator may do this", params: {} } }];
      },
    };
    mockApi(routes);
    renderApp("/");
    const banner = await screen.findByTestId("assets-banner");
    expect(banner).toHaveTextContent("관리자에게 받아 달라고 요청하세요");
    expect(screen.queryByTestId("assets-download")).toBeNull();
    expect(banner.querySelector("pre")).toBeNull(); // the server's commands are for whoever runs it
    expect(downloads).toBe(0);
    // An administrator started it: the banner follows the download (no request details needed).
    const running = { id: "dl-2", kind: "assets", status: "running", progress: 0.5, params: {}, metrics: { bytes_done: 1048576, bytes_total: 2097152 } };
    mockApi({ ...routes, "GET /assets": () => [200, { ...overview, job: running }], "GET /jobs/dl-2": () => [200, running] });
    const { refreshAssets } = await import("../src/lib/assets.js");
    await act(() => refreshAssets());
    expect(await screen.findByTestId("assets-progress")).toHaveTextContent("1 MB / 2 MB");
  });

  it("trains with the server's defaults and offers the server's choices, whatever they are", async () => {
    let sent;
    const train = {
      epochs: { type: "integer", min: 1, max: 300, default: 30 },
      batch_size: { type: "integer", min: 1, max: 16, default: 6 },
      save_every: { type: "integer", min: 1, max: 300, default: 3 },
      sample_rate: { type: "string", choices: ["40k", "48k"], default: "48k" },
      f0_method: { type: "string", choices: ["fcpe", "rmvpe", "newpitch"], default: "fcpe" },
    };
    mockApi({
      "GET /health": () => [200, { status: "ok", assets: {}, options: { ...SERVER_OPTIONS, train } }],
      "POST /trainings": (config) => {
        sent = config.data;
        return [202, { job_id: "job-d", model_name: "d" }];
      },
      "GET /jobs/job-d": () => [200, { id: "job-d", kind: "train", status: "queued", progress: 0 }],
    });
    const user = userEvent.setup();
    renderApp("/train", "en");
    await waitFor(() => expect(screen.getByLabelText("Epochs")).toHaveValue(30));
    expect(screen.getByLabelText("Epochs")).toHaveAttribute("max", "300");
    await user.click(screen.getByText("Advanced settings"));
    expect(screen.getByLabelText("Batch size")).toHaveValue(6);
    expect(screen.getByLabelText("Batch size")).toHaveAttribute("max", "16");
    const methods = [...screen.getByLabelText("Pitch extraction").options].map((o) => [o.value, o.textContent]);
    expect(methods.map(([v]) => v)).toEqual(["fcpe", "rmvpe", "newpitch"]);
    expect(methods[2][1]).toBe("newpitch"); // a method the dictionary has no words for shows by name
    expect([...screen.getByLabelText("Sample rate").options].map((o) => o.textContent)).toEqual(["40 kHz", "48 kHz"]);
    await pick([audioFile("a.wav")]);
    await user.type(screen.getByLabelText("Model name"), "d");
    await user.click(screen.getByRole("button", { name: "Train" }));
    await screen.findByText((_, el) => el?.dataset?.testid === "job-heading" && el.textContent.includes("‘d’"));
    expect(Object.fromEntries([...sent.entries()].filter(([k]) => k !== "files"))).toEqual({
      name: "d",
      epochs: "30",
      batch_size: "6",
      save_every: "3",
      sample_rate: "48k",
      f0_method: "fcpe",
    });
    expect(JSON.parse(window.sessionStorage.getItem("persona.trainJob")).epochs).toBe(30);
  });

  it("offers no advanced settings of its own when the server describes none, and sends none", async () => {
    let sent;
    mockApi({
      "GET /health": () => [200, { status: "ok", assets: {} }],
      "POST /trainings": (config) => {
        sent = config.data;
        return [202, { job_id: "job-n", model_name: "n" }];
      },
      "GET /jobs/job-n": () => [200, { id: "job-n", kind: "train", status: "queued", progress: 0 }],
    });
    const user = userEvent.setup();
    renderApp("/train", "en");
    expect(await screen.findByText("0 of 5 selected")).toBeInTheDocument();
    expect(screen.queryByText("Advanced settings")).toBeNull();
    expect(screen.getByLabelText("Epochs")).toHaveValue(null);
    await pick([audioFile("a.wav")]);
    await user.type(screen.getByLabelText("Model name"), "n");
    fireEvent.change(screen.getByLabelText("Epochs"), { target: { value: "7" } });
    await user.click(screen.getByRole("button", { name: "Train" }));
    await screen.findByText((_, el) => el?.dataset?.testid === "job-heading" && el.textContent.includes("‘n’"));
    expect([...sent.keys()].sort()).toEqual(["epochs", "files", "name"]);
    expect(sent.get("epochs")).toBe("7");
  });
});

import { beforeEach, describe, expect, it, vi } from "vitest";
import { act, renderHook, waitFor } from "@testing-library/react";
import { CanceledError } from "axios";
import { I18nProvider } from "../src/lib/i18n.jsx";
import { useUpload } from "../src/lib/useUpload.js";
import { useStoppableJob } from "../src/lib/useStoppableJob.js";
import { mockApi } from "./helpers.jsx";
import * as fake from "./fakeSocket.js";

vi.mock("../src/lib/socket.js", () => import("./fakeSocket.js"));

beforeEach(() => fake.resetFakeSocket());

const wrapper = ({ children }) => <I18nProvider initialLang="en">{children}</I18nProvider>;

describe("useUpload", () => {
  it("reports the fraction sent, then idles and hands back the answer", async () => {
    let release;
    mockApi({
      "POST /things": async (config) => {
        config.onUploadProgress?.({ loaded: 1, total: 4 });
        await new Promise((r) => (release = r));
        return [201, { name: "x" }];
      },
    });
    const { result } = renderHook(() => useUpload(), { wrapper });
    expect(result.current.busy).toBe(false);
    let answer;
    act(() => {
      answer = result.current.send("/things", new FormData());
    });
    await waitFor(() => expect(result.current.progress).toBe(0.25));
    expect(result.current.busy).toBe(true);
    await act(async () => release());
    expect(await answer).toEqual({ name: "x" });
    expect(result.current.busy).toBe(false);
    expect(result.current.error).toBeNull();
  });

  it("turns a refusal into {message, code} and resolves to null", async () => {
    mockApi({ "POST /things": () => [413, { error: { code: "upload_too_large", message: "the upload is too large" } }] });
    const { result } = renderHook(() => useUpload(), { wrapper });
    let answer;
    await act(async () => {
      answer = await result.current.send("/things", new FormData());
    });
    expect(answer).toBeNull();
    // The code in the user's language (English here), not the server's own wording.
    expect(result.current.error).toMatchObject({ message: "The upload is too large.", code: "upload_too_large" });
    expect(result.current.busy).toBe(false);
  });

  it("abort stops the request without an error", async () => {
    let signal;
    mockApi({
      "POST /things": (config) => {
        signal = config.signal;
        return new Promise((_, fail) => config.signal.addEventListener("abort", () => fail(new CanceledError())));
      },
    });
    const { result } = renderHook(() => useUpload(), { wrapper });
    let answer;
    act(() => {
      answer = result.current.send("/things", new FormData());
    });
    await waitFor(() => expect(signal).toBeDefined());
    await act(async () => result.current.abort());
    expect(signal.aborted).toBe(true);
    expect(await answer).toBeNull();
    expect(result.current.error).toBeNull();
    expect(result.current.busy).toBe(false);
  });

  it("a check before sending shares the same error slot, and the next send clears it", async () => {
    mockApi({ "POST /things": () => [201, { ok: true }] });
    const { result } = renderHook(() => useUpload(), { wrapper });
    act(() => result.current.setError({ message: "choose a file" }));
    expect(result.current.error).toEqual({ message: "choose a file" });
    await act(async () => {
      await result.current.send("/things", new FormData());
    });
    expect(result.current.error).toBeNull();
  });
});

describe("useStoppableJob", () => {
  it("stops through POST /jobs/{id}/cancel and ends when the server says cancelled", async () => {
    const calls = mockApi({
      "GET /jobs/j1": () => [200, { id: "j1", kind: "cover", status: "running", progress: 0.5 }],
      "POST /jobs/j1/cancel": () => [202, {}],
    });
    const { result } = renderHook(() => useStoppableJob("j1", "persona.coverJob"), { wrapper });
    await waitFor(() => expect(result.current.status).toBe("running"));
    expect(result.current.ended).toBe(false);
    await act(async () => result.current.stop());
    expect(calls.some((c) => c.key === "POST /jobs/j1/cancel")).toBe(true);
    expect(result.current.stopping).toBe(true);
    act(() => fake.serverEmit("job_cancelled", { job_id: "j1", kind: "cover" }));
    expect(result.current.status).toBe("cancelled");
    expect(result.current.ended).toBe(true);
  });

  it("a refused stop shows why and lets the user try again", async () => {
    mockApi({
      "GET /jobs/j2": () => [200, { id: "j2", kind: "train", status: "running" }],
      "POST /jobs/j2/cancel": () => [409, { error: { code: "job_finished", message: "the job already finished" } }],
    });
    const { result } = renderHook(() => useStoppableJob("j2", "persona.trainJob"), { wrapper });
    await waitFor(() => expect(result.current.status).toBe("running"));
    await act(async () => result.current.stop());
    expect(result.current.stopError).toEqual({ message: "This job has already finished.", code: "job_finished" });
    expect(result.current.stopping).toBe(false);
  });

  it("forgets the stored job once the server no longer knows it", async () => {
    window.sessionStorage.setItem("persona.trainJob", JSON.stringify({ job_id: "gone" }));
    mockApi({ "GET /jobs/gone": () => [404, { error: { code: "job_not_found", message: "no such job" } }] });
    const { result } = renderHook(() => useStoppableJob("gone", "persona.trainJob"), { wrapper });
    await waitFor(() => expect(result.current.ended).toBe(true));
    expect(result.current.loadError).toMatchObject({ message: "The job was not found.", status: 404 });
    expect(window.sessionStorage.getItem("persona.trainJob")).toBeNull();
  });
});

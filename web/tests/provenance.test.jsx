import { describe, expect, it } from "vitest";
import { fireEvent, screen } from "@testing-library/react";
import { audioFile, health, mockApi, renderApp } from "./helpers.jsx";

const credentials = {
  generator: "Persona",
  digital_source_type: "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
  signed_by: "Persona cover signer",
  validation_state: "Valid",
  kind: "cover",
  model_sha256: "ab".repeat(32),
  consent_record: true,
  consent: "recorded",
  marked: true,
  created_at: "2026-12-07T12:00:00+00:00",
};

function pick(name) {
  const input = document.querySelector('input[name="check"]');
  fireEvent.change(input, { target: { files: [audioFile(name)] } });
}

describe("was this file made by AI? (/check)", () => {
  it("uploads the file and says it carries Persona's mark, with its credentials", async () => {
    const calls = mockApi({
      "GET /health": health,
      "POST /detect": () => [200, { file: "song.wav", marked: true, score: 14.2, threshold: 6, credentials }],
    });
    renderApp("/check", "ko");
    expect(await screen.findByRole("heading", { level: 1 })).toHaveTextContent("이 파일이 AI로 만들어졌나요?");
    pick("song.wav");
    fireEvent.click(screen.getByTestId("check-submit"));
    const answer = await screen.findByTestId("check-answer");
    expect(answer).toHaveTextContent("네, Persona로 만든 AI 음성입니다.");
    expect(answer).toHaveTextContent("점수 14.2");
    expect(screen.getByTestId("cred-state")).toHaveTextContent("서명이 파일과 일치합니다");
    expect(screen.getByTestId("check-credentials")).toHaveTextContent("학습된 AI 모델로 생성");
    expect(screen.getByTestId("check-credentials")).toHaveTextContent("직접 읽은 동의 녹음이 있음");
    const sent = calls.find((c) => c.key === "POST /detect").config.data;
    expect(sent.get("file").name).toBe("song.wav");
  });

  it("says when no mark is found, and shows a refused file's reason", async () => {
    mockApi({
      "GET /health": health,
      "POST /detect": (config) =>
        config.data.get("file").name === "notes.wav"
          ? [400, { error: { code: "audio_unreadable", message: "x", params: { file: "notes.wav" } } }]
          : [200, { file: "a.wav", marked: false, score: 2.1, threshold: 6, credentials: null }],
    });
    renderApp("/check", "en");
    pick("a.wav");
    fireEvent.click(await screen.findByTestId("check-submit"));
    expect(await screen.findByTestId("check-answer")).toHaveTextContent("Persona's watermark was not found.");
    expect(screen.getByTestId("check-no-credentials")).toBeInTheDocument();
    pick("notes.wav");
    fireEvent.click(screen.getByTestId("check-submit"));
    expect(await screen.findByRole("alert")).toHaveTextContent("cannot be read as audio");
  });
});

describe("cover page disclosure", () => {
  it("says the voice is AI-made and what the file carries", async () => {
    mockApi({
      "GET /health": health,
      "GET /covers/cv1": () => [
        200,
        { id: "cv1", model: "m", song_name: "S", pitch: 0, audio_url: "/a", provenance: { watermark: true, c2pa: true, tags: true } },
      ],
    });
    renderApp("/covers/cv1", "ko");
    const box = await screen.findByTestId("ai-disclosure");
    expect(box).toHaveTextContent("AI로 만든 목소리입니다");
    const carries = screen.getByTestId("disclosure-carries");
    expect(carries).toHaveTextContent("들리지 않는 워터마크");
    expect(carries).toHaveTextContent("C2PA");
    expect(carries).toHaveTextContent("AI cover made with Persona");
    expect(screen.getByRole("link", { name: "파일이 AI로 만들어졌는지 확인하기" })).toHaveAttribute("href", "/check");
  });

  it("says so when the operator turned the watermark off", async () => {
    mockApi({
      "GET /health": health,
      "GET /covers/cv2": () => [200, { id: "cv2", model: "m", song_name: "S", pitch: 0, audio_url: "/a", provenance: { watermark: false, c2pa: true, tags: true } }],
    });
    renderApp("/covers/cv2", "en");
    expect(await screen.findByTestId("disclosure-carries")).toHaveTextContent("administrator turned watermarking off");
  });

  it("says when the file's format cannot carry content credentials", async () => {
    mockApi({
      "GET /health": health,
      "GET /covers/cv3": () => [200, { id: "cv3", model: "m", song_name: "S", pitch: 0, audio_url: "/a", provenance: { watermark: true, c2pa: false, tags: true } }],
    });
    renderApp("/covers/cv3", "ko");
    expect(await screen.findByTestId("disclosure-carries")).toHaveTextContent("C2PA)를 넣을 수 없습니다");
  });
});

import { describe, expect, it } from "vitest";
import { screen } from "@testing-library/react";
import { health, mockApi, renderApp } from "./helpers.jsx";

describe("cover page", () => {
  it("plays from audio_url and offers download and the way back", async () => {
    mockApi({
      "GET /health": health,
      "GET /covers/cv9": () => [
        200,
        { id: "cv9", model: "my voice", song_name: "Song", pitch: -3, duration_s: 65, created_at: "2026-11-25T11:00:00Z", audio_url: "/api/covers/cv9/audio", download_url: "/api/covers/cv9/download" },
      ],
    });
    renderApp("/covers/cv9", "en");
    expect(await screen.findByTestId("cover-title")).toHaveTextContent("Song");
    expect(screen.getByTestId("cover-audio")).toHaveAttribute("src", "/api/covers/cv9/audio");
    expect(screen.getByRole("link", { name: /Save the song/ })).toHaveAttribute("href", "/api/covers/cv9/download");
    expect(screen.getByRole("link", { name: "Back to the model" })).toHaveAttribute("href", "/models/my%20voice");
    expect(screen.getByText("-3 semitones")).toBeInTheDocument();
    expect(screen.getByText("1:05")).toBeInTheDocument();
  });

  it("offers the suggested pitch when the cover used another", async () => {
    mockApi({
      "GET /health": health,
      "GET /covers/cv2": () => [200, { id: "cv2", model: "m", song_name: "S", pitch: 0, suggested_pitch: -12, audio_url: "/a" }],
    });
    renderApp("/covers/cv2", "en");
    const box = await screen.findByTestId("suggestion");
    expect(box).toHaveTextContent("-12 semitones is suggested");
    expect(screen.getByRole("link", { name: /suggested pitch/ })).toHaveAttribute("href", "/models/m?pitch=-12");
  });

  it("shows the automatic pitch it used", async () => {
    mockApi({
      "GET /health": health,
      "GET /covers/cv3": () => [200, { id: "cv3", model: "m", song_name: "S", pitch: 7, pitch_auto: true, suggested_pitch: 7, options: { pitch_auto: true }, audio_url: "/a" }],
    });
    renderApp("/covers/cv3", "en");
    expect(await screen.findByTestId("cover-pitch")).toHaveTextContent("+7 semitones (auto)");
    expect(screen.queryByTestId("suggestion")).toBeNull();
  });

  it("keeps the access token out of the player's URL (the token cookie carries it)", async () => {
    window.localStorage.setItem("persona.token", "s3cret");
    mockApi({
      "GET /health": health,
      "GET /covers/cv9": () => [200, { id: "cv9", model: "m", song_name: "Song", pitch: 0, audio_url: "/api/covers/cv9/audio" }],
    });
    renderApp("/covers/cv9", "en");
    expect(await screen.findByTestId("cover-audio")).toHaveAttribute("src", "/api/covers/cv9/audio");
  });

  it("shows the server's words for a missing cover", async () => {
    mockApi({ "GET /health": health, "GET /covers/nope": () => [404, { error: { code: "cover_not_found", message: "no cover 'nope'" } }] });
    renderApp("/covers/nope", "ko");
    expect(await screen.findByRole("alert")).toHaveTextContent("커버를 찾을 수 없습니다.");
    // The heading does not claim a finished cover, nor keep "loading", for one that does not exist.
    expect(screen.getByTestId("cover-title")).toHaveTextContent("커버를 열 수 없습니다");
    expect(screen.queryByText("커버 완성")).toBeNull();
    expect(screen.getByRole("link", { name: "라이브러리로" })).toBeInTheDocument();
  });
});

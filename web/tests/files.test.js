import { describe, expect, it } from "vitest";
import { addTrainingFiles, checkFile, extensionOf, SONG_LIMITS, TRAINING_LIMITS } from "../src/lib/files.js";
import { audioFile } from "./helpers.jsx";

describe("training file checks", () => {
  it("accepts .wav and .mp3 in any case", () => {
    const { files, errors } = addTrainingFiles([], [audioFile("a.wav"), audioFile("B.MP3", 10, "audio/mpeg")]);
    expect(files.map((f) => f.name)).toEqual(["a.wav", "B.MP3"]);
    expect(errors).toEqual([]);
  });

  it("refuses other types with the file's name", () => {
    const { files, errors } = addTrainingFiles([], [audioFile("notes.txt", 10, "text/plain"), audioFile("song.mid")]);
    expect(files).toEqual([]);
    expect(errors.map((e) => e.key)).toEqual(["files.badType", "files.badType"]);
    expect(errors[0].vars.name).toBe("notes.txt");
  });

  it("keeps at most five files", () => {
    const picked = Array.from({ length: 7 }, (_, i) => audioFile(`take${i}.wav`, 100 + i));
    const { files, errors } = addTrainingFiles([], picked);
    expect(files).toHaveLength(5);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ key: "files.tooMany", vars: { name: "take5.wav", max: 5 } });
  });

  it("counts files already chosen against the limit", () => {
    const first = addTrainingFiles([], [1, 2, 3, 4].map((i) => audioFile(`a${i}.wav`, i)));
    const second = addTrainingFiles(first.files, [audioFile("b.wav", 9), audioFile("c.wav", 10)]);
    expect(second.files).toHaveLength(5);
    expect(second.errors.map((e) => e.vars.name)).toEqual(["c.wav"]);
  });

  it("refuses empty and oversized files, and a total over the limit", () => {
    const max = TRAINING_LIMITS.maxFileBytes;
    const { files, errors } = addTrainingFiles(
      [],
      [audioFile("empty.wav", 0), audioFile("huge.wav", max + 1), audioFile("big1.wav", max), audioFile("big2.wav", max), audioFile("big3.wav", 1)],
    );
    expect(files.map((f) => f.name)).toEqual(["big1.wav", "big2.wav"]);
    expect(errors.map((e) => e.key)).toEqual(["files.empty", "files.tooBig", "files.totalTooBig"]);
  });

  it("ignores the same file picked twice", () => {
    const a = audioFile("a.wav", 50);
    const { files, errors } = addTrainingFiles([a], [audioFile("a.wav", 50)]);
    expect(files).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it("checks single files against other limits", () => {
    expect(checkFile(audioFile("song.flac"), SONG_LIMITS)).toBeNull();
    expect(checkFile(audioFile("song.ogg"), SONG_LIMITS)).toBeNull(); // the server reads Ogg too
    expect(checkFile(audioFile("song.mid"), SONG_LIMITS).key).toBe("files.badType");
    expect(extensionOf("x.tar.gz")).toBe(".gz");
    expect(extensionOf("noext")).toBe("");
  });
});


describe("audio sniffing", () => {
  it("lets real audio through and refuses a renamed file by its first bytes", async () => {
    const { looksLikeAudio, sniffAudio } = await import("../src/lib/files.js");
    const bytes = (text) => Uint8Array.from(text, (c) => c.charCodeAt(0));
    expect(looksLikeAudio(bytes("RIFF\x10\x00\x00\x00WAVEfmt "))).toBe(true);
    expect(looksLikeAudio(bytes("ID3\x04"))).toBe(true);
    expect(looksLikeAudio(Uint8Array.from([0xff, 0xfb, 0x90, 0x00]))).toBe(true);
    expect(looksLikeAudio(bytes("\x00\x00\x00\x20ftypM4A "))).toBe(true);
    expect(looksLikeAudio(bytes("<html><body>"))).toBe(false);
    const fake = new File(["this is not audio at all"], "fake.wav", { type: "audio/wav" });
    const real = audioFile("real.wav");
    const { audio, errors } = await sniffAudio([fake, real]);
    expect(audio).toEqual([real]);
    expect(errors).toEqual([{ key: "files.notAudio", vars: { name: "fake.wav" } }]);
  });
});

// Every word the person reads is in their language: server codes and reasons in Korean, the raw
// code folded away for support, each field and limit named (issue 25 item 2).
import { describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/react";
import { messages } from "../src/lib/messages.js";
import { I18nProvider, translate } from "../src/lib/i18n.jsx";
import { errorText } from "../src/lib/serverText.js";
import { checkSongLengths, SONG_LIMITS, withServerFormats } from "../src/lib/files.js";
import ErrorBox from "../src/components/ErrorBox.jsx";
import QualityFacts from "../src/components/QualityFacts.jsx";
import SERVER_OPTIONS from "./server-options.json";

const ko = (key, vars) => translate("ko", key, vars);
const HANGUL = /[\uac00-\ud7a3]/;

describe("server words in Korean", () => {
  it("names every setting the server describes (field.<key>) in both languages", () => {
    const keys = new Set([...Object.keys(SERVER_OPTIONS.train), ...Object.keys(SERVER_OPTIONS.cover)]);
    const missing = [...keys].filter((k) => !(`field.${k}` in messages.ko) || !(`field.${k}` in messages.en));
    expect(missing).toEqual([]);
  });

  it("says which field and which limit a refused value broke", () => {
    const text = errorText({ code: "param_out_of_range", message: "x", params: { field: "epochs", min: 1, max: 1000 } }, ko);
    expect(text).toContain("학습 횟수");
    expect(text).toContain("1000");
    expect(errorText({ code: "param_invalid", message: "x", params: { field: "f0_method" } }, ko)).toContain("음높이 추출 방식");
    const long = errorText({ code: "audio_too_long", message: "x", params: { file: "곡.wav", minutes: "25", max_minutes: "20" } }, ko);
    expect(long).toContain("곡.wav");
    expect(long).toContain("20분");
  });

  it("folds the raw code under a details toggle instead of showing it", () => {
    render(
      <I18nProvider initialLang="ko">
        <ErrorBox error={{ code: "zip_invalid", message: "the upload is not a readable .zip file", params: {} }} />
      </I18nProvider>,
    );
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("올바른 .zip 파일이 아닙니다");
    expect(alert.textContent).not.toContain("the upload is not");
    const details = alert.querySelector("details");
    expect(details).not.toBeNull();
    expect(details.open).toBe(false);
    expect(screen.getByTestId("error-code").textContent).toBe("zip_invalid");
    fireEvent.click(screen.getByText(ko("common.details")));
  });

  it("gives each unavailable quality metric its reason in Korean, never the server's English", () => {
    const metrics = {
      speaker_similarity: null,
      f0_corr: null,
      unavailable: { speaker_similarity: "the output is silent", f0_corr: "no voiced frames in the output" },
      unavailable_codes: { speaker_similarity: "output_silent", f0_corr: "no_voiced_output" },
    };
    render(
      <I18nProvider initialLang="ko">
        <QualityFacts metrics={metrics} />
      </I18nProvider>,
    );
    const shown = screen.getByTestId("quality").textContent;
    expect(shown).toContain(ko("quality.reason.no_voiced_output"));
    expect(shown).not.toMatch(/voiced|silent/);
    // an older report without codes: "계산 불가", and no English in a Korean page
    render(
      <I18nProvider initialLang="ko">
        <QualityFacts metrics={{ f0_corr: null, unavailable: { f0_corr: "no voiced frames in the output" } }} testid="old" />
      </I18nProvider>,
    );
    expect(screen.getByTestId("old").textContent).not.toMatch(/[a-z]{4,}/);
  });

  it("keeps file endings whole (\".zip\", \".pth\") when it fills a message", () => {
    expect(errorText({ code: "zip_invalid", message: "x" }, ko)).toBe(ko("error.zip_invalid"));
    expect(errorText({ code: "model_invalid", message: "x" }, ko)).toContain(". .pth");
    expect(errorText({ code: "index_missing", message: "x" }, ko)).toContain(".index");
  });

  it("every Korean error and quality reason text holds Hangul", () => {
    const english = Object.entries(messages.ko).filter(
      ([k, v]) => (k.startsWith("error.") || k.startsWith("quality.reason.") || k.startsWith("field.")) && !HANGUL.test(v),
    );
    expect(english).toEqual([]);
  });
});

describe("the song length limit", () => {
  it("is the server's and refuses a longer song before the upload", async () => {
    const limits = withServerFormats(SONG_LIMITS, { limits: { max_song_seconds: 600 } });
    expect(limits.maxSeconds).toBe(600);
    const files = [new File(["a"], "긴 노래.wav"), new File(["b"], "짧은 노래.wav"), new File(["c"], "모름.wav")];
    const lengths = { "긴 노래.wav": 601, "짧은 노래.wav": 599, "모름.wav": null };
    const { files: ok, errors } = await checkSongLengths(files, limits, async (f) => lengths[f.name]);
    expect(ok.map((f) => f.name)).toEqual(["짧은 노래.wav", "모름.wav"]);
    expect(errors).toHaveLength(1);
    const text = ko(errors[0].key, errors[0].vars);
    expect(text).toContain("긴 노래.wav");
    expect(text).toContain("10분");
  });

  it("is named in the picker's hint", () => {
    expect(ko("cover.songsHint", { types: ".wav", maxMinutes: 20 })).toContain("20분");
  });
});

describe("the training chart", () => {
  it("labels whole rounds only", async () => {
    const { roundTicks } = await import("../src/components/train/EpochChart.jsx");
    expect(roundTicks(null, [1, 1.25, 1.5, 2, 3])).toEqual(["1", "", "", "2", "3"]);
  });
});

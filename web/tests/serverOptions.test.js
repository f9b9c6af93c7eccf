import { describe, expect, it } from "vitest";
import { changedOptions, choiceLabel, defaultsOf, optionsOf, withDefaults } from "../src/lib/serverOptions.js";
import { translate } from "../src/lib/i18n.jsx";
import { SERVER_OPTIONS } from "./helpers.jsx";
import { stageOrderOf, withEarlierStages } from "../src/lib/useJob.js";

describe("server options", () => {
  it("reads a group from the health answer, or nothing", () => {
    expect(optionsOf({ options: SERVER_OPTIONS }, "train")).toBe(SERVER_OPTIONS.train);
    expect(optionsOf({ status: "ok" }, "train")).toBeNull();
    expect(optionsOf(null, "cover")).toBeNull();
    expect(optionsOf({ options: { train: "broken" } }, "train")).toBeNull();
  });

  it("takes the defaults from the specs and lays the user's values over them", () => {
    expect(defaultsOf(SERVER_OPTIONS.train)).toMatchObject({ epochs: 100, batch_size: 4, save_every: 5, sample_rate: "40k", f0_method: "rmvpe" });
    expect(defaultsOf(null)).toEqual({});
    expect(withDefaults({ batch_size: "2" }, SERVER_OPTIONS.train)).toMatchObject({ epochs: 100, batch_size: "2" });
  });

  it("keeps only what differs from the defaults, and nothing empty", () => {
    const defaults = { index_rate: 0.75, format: "wav", dereverb: false };
    expect(changedOptions({ index_rate: "0.75", format: "mp3", dereverb: false, reverb: "" }, defaults)).toEqual({ format: "mp3" });
    expect(changedOptions({ dereverb: true }, defaults)).toEqual({ dereverb: true });
  });

  it("names a choice in words when the dictionary has them, else by the server's name", () => {
    const t = (key) => translate("en", key);
    expect(choiceLabel(t, "f0.rmvpe", "rmvpe")).not.toBe("rmvpe");
    expect(choiceLabel(t, "f0.unheard_of", "unheard_of")).toBe("unheard_of");
  });
});

describe("stage order", () => {
  it("comes from the server: a page opened mid-job lists the stages before the current one", () => {
    const health = { options: SERVER_OPTIONS };
    expect(stageOrderOf(health, "cover")).toEqual(["decode", "separate", "convert", "mix", "encode"]);
    expect(withEarlierStages(stageOrderOf(health, "train"), [], "train")).toEqual(["preprocess", "features", "train"]);
    expect(withEarlierStages(stageOrderOf(health, "cover"), ["convert"], "mix")).toEqual(["decode", "separate", "convert", "mix"]);
  });

  it("without the server's word, shows only the stages seen", () => {
    expect(stageOrderOf({ status: "unreachable" }, "train")).toEqual([]);
    expect(withEarlierStages([], ["separate"], "mystery")).toEqual(["separate", "mystery"]);
  });
});

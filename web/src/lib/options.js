// Choices and defaults offered by the forms; they match the server's defaults (API.md, CLI).

export const F0_METHODS = ["rmvpe", "fcpe", "crepe", "harvest", "pm"];
export const SAMPLE_RATES = ["32k", "40k", "48k"];

export const TRAIN_DEFAULTS = {
  epochs: 100,
  batch_size: 8,
  sample_rate: "40k",
  f0_method: "rmvpe",
  save_every: 10,
};

export const CONVERSION_DEFAULTS = {
  f0_method: "rmvpe",
  index_rate: 0.75,
  filter_radius: 3,
  rms_mix_rate: 0.25,
  protect: 0.33,
};

export const MIX_DEFAULTS = {
  vocal_gain: 0,
  instrumental_gain: 0,
  reverb: 0,
  format: "wav",
};

/** Only the options the user changed: the server applies its own defaults to the rest. */
export function changedOptions(values, defaults) {
  const out = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === "" || value === null || value === undefined) continue;
    if (String(value) !== String(defaults[key])) out[key] = value;
  }
  return out;
}

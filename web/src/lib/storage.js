// Small wrappers around localStorage / sessionStorage that never throw (private mode, quotas).

function safe(store) {
  return {
    get(key) {
      try {
        return store().getItem(key);
      } catch {
        return null;
      }
    },
    set(key, value) {
      try {
        if (value === null || value === undefined) store().removeItem(key);
        else store().setItem(key, value);
      } catch {
        /* storage unavailable: the app still works, it just forgets on reload */
      }
    },
    getJSON(key) {
      const raw = this.get(key);
      if (!raw) return null;
      try {
        return JSON.parse(raw);
      } catch {
        return null;
      }
    },
    setJSON(key, value) {
      this.set(key, value === null || value === undefined ? null : JSON.stringify(value));
    },
  };
}

export const local = safe(() => window.localStorage);
export const session = safe(() => window.sessionStorage);

// Keys, in one place.
export const KEYS = {
  token: "persona.token",
  lang: "persona.lang",
  trainJob: "persona.trainJob", // {job_id, model_name} of a running training
  coverJob: "persona.coverJob", // {job_id, model} of a running cover
  modelName: "persona.modelName", // the model last trained or uploaded (as the brief does)
  cover: "persona.cover", // {id, song_name, audio_url} of the last finished cover
};

// Checks on files the user picks, done before anything is uploaded.
// Limits mirror the server's defaults (persona.settings.Settings); the server checks again.

export const TRAINING_LIMITS = {
  maxFiles: 5,
  maxFileBytes: 100 * 1024 * 1024,
  maxTotalBytes: 200 * 1024 * 1024,
  extensions: [".wav", ".mp3"],
};

export const SONG_LIMITS = {
  maxFiles: 10, // songs per batch: each becomes its own cover job
  maxFileBytes: 200 * 1024 * 1024,
  extensions: [".wav", ".mp3", ".flac"],
};

export const ZIP_LIMITS = {
  maxFileBytes: 200 * 1024 * 1024,
  extensions: [".zip"],
};

export function extensionOf(name) {
  const dot = String(name || "").lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot).toLowerCase();
}

/** One file on its own: returns null or an error `{key, vars}` for the i18n dictionary. */
export function checkFile(file, limits) {
  const ext = extensionOf(file.name);
  if (!limits.extensions.includes(ext)) {
    return { key: "files.badType", vars: { name: file.name, types: limits.extensions.join(", ") } };
  }
  if (!file.size) return { key: "files.empty", vars: { name: file.name } };
  if (file.size > limits.maxFileBytes) {
    return { key: "files.tooBig", vars: { name: file.name, max: Math.round(limits.maxFileBytes / 1048576) } };
  }
  return null;
}

/**
 * Add `incoming` files to `current` training files.
 * Returns `{files, errors}`: the accepted list (current first) and one error per refused file.
 */
export function addTrainingFiles(current, incoming, limits = TRAINING_LIMITS) {
  const files = [...current];
  const errors = [];
  let total = files.reduce((sum, f) => sum + f.size, 0);
  for (const file of incoming) {
    if (files.some((f) => f.name === file.name && f.size === file.size)) continue; // picked twice
    const error = checkFile(file, limits);
    if (error) {
      errors.push(error);
      continue;
    }
    if (files.length >= limits.maxFiles) {
      errors.push({ key: "files.tooMany", vars: { name: file.name, max: limits.maxFiles } });
      continue;
    }
    if (total + file.size > limits.maxTotalBytes) {
      errors.push({ key: "files.totalTooBig", vars: { name: file.name, max: Math.round(limits.maxTotalBytes / 1048576) } });
      continue;
    }
    files.push(file);
    total += file.size;
  }
  return { files, errors };
}

// A single-file picker: keep the first picked file when it passes `limits`, else show why.
export function acceptOne(picked, limits, t, setFile, setError) {
  const problem = checkFile(picked[0], limits);
  if (problem) {
    setFile(null);
    setError({ message: t(problem.key, problem.vars) });
  } else {
    setFile(picked[0]);
    setError(null);
  }
}

/** Add picked songs to `current` (each checked alone, at most `limits.maxFiles`): `{files, errors}`. */
export function addSongs(current, incoming, limits = SONG_LIMITS) {
  const files = [...current];
  const errors = [];
  for (const file of incoming) {
    if (files.some((f) => f.name === file.name && f.size === file.size)) continue; // picked twice
    const error = checkFile(file, limits);
    if (error) {
      errors.push(error);
    } else if (files.length >= limits.maxFiles) {
      errors.push({ key: "cover.tooManySongs", vars: { name: file.name, max: limits.maxFiles } });
    } else {
      files.push(file);
    }
  }
  return { files, errors };
}

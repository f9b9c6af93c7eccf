// Checks on files the user picks, done before anything is uploaded.
// Limits mirror the server's defaults (persona.settings.Settings); the server checks again.

// Until the server has said (/api/health `audio_formats`), the endings it accepts by default.
export const AUDIO_FORMATS = [".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac", ".opus", ".webm", ".wma", ".aiff", ".aif"];

export const TRAINING_LIMITS = {
  maxFiles: 5,
  maxFileBytes: 100 * 1024 * 1024,
  maxTotalBytes: 200 * 1024 * 1024,
  extensions: AUDIO_FORMATS,
};

export const SONG_LIMITS = {
  maxFiles: 10, // songs per batch: each becomes its own cover job
  maxFileBytes: 200 * 1024 * 1024,
  maxSeconds: 20 * 60, // until the server has said (/api/health `limits.max_song_seconds`)
  extensions: AUDIO_FORMATS,
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

// The first bytes of each audio format the server reads: a file named .wav that is not audio is
// refused here, before an upload the server would refuse anyway.
const SIGNATURES = [
  [0, "RIFF"], // WAV (RIFF....WAVE)
  [0, "ID3"], // MP3 with a tag
  [0, "fLaC"],
  [0, "OggS"], // Ogg Vorbis / Opus
  [4, "ftyp"], // M4A / AAC in MP4
  [0, "FORM"], // AIFF
  [0, "\x1a\x45\xdf\xa3"], // WebM / Matroska
  [0, "\x30\x26\xb2\x75"], // WMA (ASF)
];

/** Whether these first bytes start an audio file in a format we know. */
export function looksLikeAudio(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes || []);
  if (b.length < 4) return false;
  if (b[0] === 0xff && (b[1] & 0xe0) === 0xe0) return true; // MPEG audio frame sync (MP3, ADTS AAC)
  return SIGNATURES.some(([offset, sig]) => [...sig].every((ch, i) => b[offset + i] === ch.charCodeAt(0)));
}

async function headOf(file) {
  const part = file.slice(0, 16);
  if (typeof part.arrayBuffer === "function") return new Uint8Array(await part.arrayBuffer());
  return new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(new Uint8Array(reader.result));
    reader.onerror = () => resolve(null);
    reader.readAsArrayBuffer(part);
  });
}

/**
 * Split picked files into real audio and the rest (`{audio, errors}`, errors as `{key, vars}`).
 * Only files with an accepted ending are read: the others are refused by their type later.
 */
export async function sniffAudio(files, limits = null) {
  const audio = [];
  const errors = [];
  for (const file of files) {
    if (limits && !limits.extensions.includes(extensionOf(file.name))) {
      audio.push(file);
      continue;
    }
    let head = null;
    try {
      head = await headOf(file);
    } catch {
      head = null;
    }
    if (head === null || !file.size || looksLikeAudio(head)) audio.push(file); // unreadable here: the server decides
    else errors.push({ key: "files.notAudio", vars: { name: file.name } });
  }
  return { audio, errors };
}

/**
 * The server's accepted endings (/api/health `audio_formats`) and, for songs, its length limit
 * (`limits.max_song_seconds`) over the defaults above.
 */
export function withServerFormats(limits, health) {
  const formats = health?.audio_formats;
  const out = Array.isArray(formats) && formats.length ? { ...limits, extensions: formats } : { ...limits };
  const maxSong = health?.limits?.max_song_seconds;
  if ("maxSeconds" in limits && typeof maxSong === "number" && maxSong > 0) out.maxSeconds = maxSong;
  return out;
}

/** Seconds of audio in `file` as the browser reads its header, or null when it cannot tell. */
export function audioDuration(file, timeoutMs = 5000) {
  if (typeof URL === "undefined" || typeof URL.createObjectURL !== "function" || typeof Audio === "undefined") {
    return Promise.resolve(null);
  }
  const audio = new Audio();
  if (!audio.canPlayType("audio/wav")) return Promise.resolve(null); // plays no audio at all (jsdom)
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const done = (value) => {
      clearTimeout(timer);
      audio.removeAttribute("src");
      URL.revokeObjectURL(url);
      resolve(value);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    audio.preload = "metadata";
    audio.onloadedmetadata = () => done(Number.isFinite(audio.duration) ? audio.duration : null);
    audio.onerror = () => done(null);
    audio.src = url;
  });
}

/**
 * Songs longer than `limits.maxSeconds` are refused before the upload (the server would refuse
 * them after it). A file the browser cannot measure goes on: the server decides.
 */
export async function checkSongLengths(files, limits, measure = audioDuration) {
  const ok = [];
  const errors = [];
  for (const file of files) {
    const seconds = limits.maxSeconds ? await measure(file) : null;
    if (seconds !== null && seconds > limits.maxSeconds) {
      errors.push({
        key: "cover.songTooLong",
        vars: { name: file.name, minutes: (Math.round(seconds / 6) / 10).toString(), max: Math.round(limits.maxSeconds / 60) },
      });
    } else {
      ok.push(file);
    }
  }
  return { files: ok, errors };
}

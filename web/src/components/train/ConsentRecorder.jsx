// The consent gate on the training form: a sentence made for this one request (it names the model
// and the date), read aloud and recorded live with the microphone (MediaRecorder). The clip goes
// up with the training; the server checks that it is speech and the voice of the recordings.
import { useEffect, useRef, useState } from "react";
import { useI18n } from "../../lib/i18n.jsx";
import { api, errorMessage } from "../../lib/api.js";

const MAX_SECONDS = 55; // the server takes up to 60 s; the sentence takes 5-10
// What MediaRecorder can write, best first, and the file ending the server expects for each.
const TYPES = [
  ["audio/webm;codecs=opus", ".webm"],
  ["audio/ogg;codecs=opus", ".ogg"],
  ["audio/mp4", ".m4a"],
  ["audio/webm", ".webm"],
];

function recorderType() {
  if (typeof MediaRecorder === "undefined") return null;
  return TYPES.find(([mime]) => MediaRecorder.isTypeSupported?.(mime)) || ["", ".webm"];
}

export function microphoneAvailable() {
  return Boolean(globalThis.isSecureContext && navigator.mediaDevices?.getUserMedia && recorderType());
}

export default function ConsentRecorder({ name, value, onChange, resetKey, disabled }) {
  const { t } = useI18n();
  const [challenge, setChallenge] = useState(null); // {id, sentence, forName}
  const [state, setState] = useState("idle"); // idle | asking | recording | done
  const [seconds, setSeconds] = useState(0);
  const [error, setError] = useState("");
  const [url, setUrl] = useState("");
  const media = useRef(null); // {recorder, stream, timer}

  const stopTracks = () => {
    const m = media.current;
    if (!m) return;
    clearInterval(m.timer);
    m.stream.getTracks().forEach((track) => track.stop());
    media.current = null;
  };
  const clear = () => {
    stopTracks();
    setChallenge(null);
    setState("idle");
    setError("");
    setUrl((old) => (old && URL.revokeObjectURL(old), ""));
    onChange(null);
  };

  // A sentence names the model: a new name (or a refused consent) needs a new sentence.
  useEffect(() => {
    if (challenge && challenge.forName !== name.trim()) clear();
  }, [name]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    if (resetKey) clear();
  }, [resetKey]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => stopTracks, []);

  const ask = async () => {
    setError("");
    if (!name.trim()) return setError(t("consent.needName"));
    try {
      const { data } = await api.post("/consent/challenges", { model_name: name.trim() });
      setChallenge({ id: data.id, sentence: data.sentence, forName: name.trim() });
    } catch (err) {
      setError(errorMessage(err, t));
    }
    return undefined;
  };

  const start = async () => {
    setError("");
    if (!microphoneAvailable()) return setError(t("consent.noMicrophone"));
    setState("asking");
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: false } });
    } catch {
      setState("idle");
      return setError(t("consent.micDenied"));
    }
    const [mime, ext] = recorderType();
    const recorder = new MediaRecorder(stream, mime ? { mimeType: mime } : undefined);
    const chunks = [];
    recorder.ondataavailable = (e) => e.data.size && chunks.push(e.data);
    recorder.onstop = () => {
      stopTracks();
      const blob = new Blob(chunks, { type: recorder.mimeType || mime || "audio/webm" });
      setUrl((old) => (old && URL.revokeObjectURL(old), URL.createObjectURL(blob)));
      setState("done");
      onChange({ challengeId: challenge.id, blob, filename: `consent${ext}` });
    };
    const began = Date.now();
    const timer = setInterval(() => {
      const s = Math.floor((Date.now() - began) / 1000);
      setSeconds(s);
      if (s >= MAX_SECONDS && recorder.state === "recording") recorder.stop();
    }, 250);
    media.current = { recorder, stream, timer };
    setSeconds(0);
    recorder.start();
    setState("recording");
    return undefined;
  };
  const stop = () => media.current?.recorder.state === "recording" && media.current.recorder.stop();
  const again = () => {
    setUrl((old) => (old && URL.revokeObjectURL(old), ""));
    onChange(null);
    start();
  };

  return (
    <fieldset className="consent" aria-describedby="consent-lead" disabled={disabled}>
      <legend className="field-label">{t("consent.title")}</legend>
      <p id="consent-lead" className="muted">
        {t("consent.lead")}
      </p>
      {!challenge ? (
        <button type="button" className="button" onClick={ask} data-testid="consent-ask">
          {t("consent.ask")}
        </button>
      ) : (
        <>
          <blockquote className="consent-sentence" lang="ko" data-testid="consent-sentence">
            {challenge.sentence}
          </blockquote>
          <div className="consent-actions" aria-live="polite">
            {state === "recording" ? (
              <>
                <span className="consent-rec" data-testid="consent-recording">
                  {t("consent.recording", { seconds })}
                </span>
                <button type="button" className="button button-primary" onClick={stop} data-testid="consent-stop">
                  {t("consent.stop")}
                </button>
              </>
            ) : state === "done" && value ? (
              <>
                <audio controls src={url} aria-label={t("consent.playback")} />
                <span data-testid="consent-done">{t("consent.done")}</span>
                <button type="button" className="button" onClick={again}>
                  {t("consent.again")}
                </button>
              </>
            ) : (
              <button type="button" className="button button-primary" onClick={start} disabled={state === "asking"} data-testid="consent-start">
                {t("consent.start")}
              </button>
            )}
          </div>
        </>
      )}
      {error ? (
        <div className="alert alert-error" role="alert" data-testid="consent-error">
          {error}
        </div>
      ) : null}
    </fieldset>
  );
}

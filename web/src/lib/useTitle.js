// The browser tab's title: "<page> · Persona".
import { useEffect } from "react";

export function useTitle(title) {
  useEffect(() => {
    document.title = title ? `${title} · Persona` : "Persona";
  }, [title]);
}

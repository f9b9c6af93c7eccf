import { useState } from "react";
import { describe, expect, it } from "vitest";
import { fireEvent, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import PitchControl, { clampPitch } from "../src/components/PitchControl.jsx";
import { renderWithProviders } from "./helpers.jsx";

function Harness({ suggested, start = 0 }) {
  const [value, setValue] = useState(start);
  return (
    <>
      <PitchControl value={value} onChange={setValue} suggested={suggested} />
      <output data-testid="value">{value}</output>
    </>
  );
}

describe("PitchControl", () => {
  it("clamps to -24..24 whole semitones", () => {
    expect(clampPitch(30)).toBe(24);
    expect(clampPitch(-99)).toBe(-24);
    expect(clampPitch("3.6")).toBe(4);
    expect(clampPitch("abc")).toBe(0);
    expect(clampPitch(20, -12, 12)).toBe(12); // a server with a narrower range
  });

  it("moves with the slider and the number box, within limits", () => {
    renderWithProviders(<Harness />, { lang: "en" });
    const slider = screen.getByRole("slider", { name: "Pitch shift" });
    expect(slider).toHaveAttribute("min", "-24");
    expect(slider).toHaveAttribute("max", "24");
    fireEvent.change(slider, { target: { value: "7" } });
    expect(screen.getByTestId("value")).toHaveTextContent("7");
    const box = screen.getByRole("spinbutton", { name: "Pitch value" });
    fireEvent.change(box, { target: { value: "40" } });
    expect(screen.getByTestId("value")).toHaveTextContent("24");
    fireEvent.change(box, { target: { value: "-5" } });
    expect(screen.getByTestId("value")).toHaveTextContent("-5");
  });

  it("offers +12 and -12 hints and the server's suggestion", async () => {
    const user = userEvent.setup();
    renderWithProviders(<Harness suggested={-7} />, { lang: "en" });
    await user.click(screen.getByRole("button", { name: /\+12/ }));
    expect(screen.getByTestId("value")).toHaveTextContent("12");
    expect(screen.getByRole("button", { name: /\+12/ })).toHaveAttribute("aria-pressed", "true");
    await user.click(screen.getByRole("button", { name: /−12/ }));
    expect(screen.getByTestId("value")).toHaveTextContent("-12");
    await user.click(screen.getByRole("button", { name: /suggested/ }));
    expect(screen.getByTestId("value")).toHaveTextContent("-7");
  });

  it("shows no suggestion when the server gives none", () => {
    renderWithProviders(<Harness />, { lang: "en" });
    expect(screen.queryByRole("button", { name: /suggested/ })).toBeNull();
  });

  it("is usable from the keyboard", async () => {
    const user = userEvent.setup();
    renderWithProviders(<Harness start={0} />, { lang: "en" });
    await user.tab();
    expect(screen.getByRole("slider")).toHaveFocus();
    await user.tab();
    await user.tab();
    expect(screen.getByRole("button", { name: /−12/ })).toHaveFocus();
    await user.keyboard("{Enter}");
    expect(screen.getByTestId("value")).toHaveTextContent("-12");
  });
});

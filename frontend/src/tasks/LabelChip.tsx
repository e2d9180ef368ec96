import type { Label } from "../api/types";

/** Black or white text, whichever reads better on the label's colour (WCAG relative luminance). */
export function textColorOn(background: string): string {
  const channels = [1, 3, 5].map((start) => Number.parseInt(background.slice(start, start + 2), 16) / 255);
  const [red = 0, green = 0, blue = 0] = channels.map((value) =>
    value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4,
  );
  const luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue;
  // Contrast with black is (L + 0.05) / 0.05, with white 1.05 / (L + 0.05): take the larger.
  return (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) ? "#000000" : "#ffffff";
}

export function LabelChip({ label }: { label: Pick<Label, "name" | "color"> }) {
  return (
    <span className="label-chip" style={{ backgroundColor: label.color, color: textColorOn(label.color) }}>
      {label.name}
    </span>
  );
}

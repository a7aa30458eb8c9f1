"""Present the results: the console table, the JSON results, and docs/PERFORMANCE.md."""
import json
import os

COLUMNS = ("figure", "ours", "baseline", "floor", "ratio", "target", "met/missed")
COMMAND = "./dev bench"


def fmt(value, unit):
    """Return value with its unit, precision chosen by size; '—' for a missing value."""
    if value is None:
        return "—"
    if unit in ("deliveries/s", "connections"):
        return f"{value:,.0f} {'/s' if unit == 'deliveries/s' else 'conn'}"
    if unit == "%":
        return f"{value:.2f} %"
    digits = 3 if abs(value) < 1 else 2 if abs(value) < 10 else 1 if abs(value) < 1000 else 0
    return f"{value:,.{digits}f} {unit}"


def cells(row):
    """Return the row's cells, in COLUMNS order."""
    ratio = "—" if row.ratio is None else f"{row.ratio:.2f}x {row.ratio_of}".strip()
    return (row.figure, fmt(row.ours, row.unit), fmt(row.baseline, row.unit), fmt(row.floor, row.unit),
            ratio, row.target or "—", row.verdict or "—")


def table(rows):
    """Return the results as an aligned text table."""
    lines = [COLUMNS] + [cells(row) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]
    text.insert(1, "  ".join("-" * width for width in widths))
    notes = [f"  {row.figure}: {row.note}" for row in rows if row.note]
    return "\n".join(text + (["", "Notes:"] + notes if notes else []))


def markdown_table(rows):
    """Return the results as a Markdown table, with the notes below it."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in cells(row)) + " |" for row in rows]
    notes = [f"- **{row.figure}**: {row.note}" for row in rows if row.note]
    return "\n".join(lines + ([""] + notes if notes else []))


def save_json(path, rows, data, meta):
    """Write every row, the raw per-figure data and the run's metadata as JSON."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as out:
        json.dump({"meta": meta, "rows": [row.__dict__ for row in rows], "data": data}, out, indent=1,
                  default=str)

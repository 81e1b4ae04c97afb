import { describe, expect, it } from "vitest";
import { csvField, flattenRow, toCsv } from "../src/read/csv.ts";
import { isoDate, midList, periodBound, wholeNumber } from "../src/read/params.ts";
import { addDays, boundDay, boundMonthIndex, daysInMonth, monthAt, monthIndex, periodLabel, projectionWindow } from "../src/read/periods.ts";

describe("CSV", () => {
  it("quotes commas, quotes, line breaks and edge spaces, and nothing else", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField("cr\rhere")).toBe('"cr\rhere"');
    expect(csvField(" padded")).toBe('" padded"');
    expect(csvField(null)).toBe("");
    expect(csvField(undefined)).toBe("");
    expect(csvField(0)).toBe("0");
    expect(csvField(false)).toBe("false");
  });

  it("defuses text a spreadsheet would run as a formula, but leaves negative amounts alone", () => {
    expect(csvField("=SUM(A1)")).toBe("'=SUM(A1)");
    expect(csvField("+1 555")).toBe("'+1 555");
    expect(csvField("@cmd")).toBe("'@cmd");
    expect(csvField("-12.34")).toBe("-12.34");
    expect(csvField("-x")).toBe("'-x");
    expect(csvField(-5)).toBe("-5");
  });

  it("flattens nested objects into dotted columns and joins arrays", () => {
    expect(flattenRow({ a: 1, b: { c: "x", d: { e: null } }, f: ["1", "2"] })).toEqual({ a: 1, "b.c": "x", "b.d.e": null, f: "1;2" });
  });

  it("writes a header and CRLF-terminated records, in the given columns", () => {
    expect(toCsv([{ a: 1, b: "x,y" }, { a: 2 }], ["a", "b"])).toBe('a,b\r\n1,"x,y"\r\n2,\r\n');
    expect(toCsv([], ["a", "b"])).toBe("a,b\r\n");
  });
});

describe("periods", () => {
  it("numbers months consecutively across years", () => {
    expect(monthIndex({ year: 2026, month: 1 }) - monthIndex({ year: 2025, month: 12 })).toBe(1);
    expect(monthAt(monthIndex({ year: 2026, month: 12 }))).toEqual({ year: 2026, month: 12 });
  });

  it("knows month lengths and day arithmetic", () => {
    expect(daysInMonth({ year: 2024, month: 2 })).toBe(29);
    expect(daysInMonth({ year: 2026, month: 2 })).toBe(28);
    expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
    expect(boundDay("2026-02", "to")).toBe("2026-02-28");
    expect(boundDay("2026-02", "from")).toBe("2026-02-01");
    expect(boundDay("2026-02-10", "to")).toBe("2026-02-10");
    expect(boundMonthIndex("2026-02-10")).toBe(monthIndex({ year: 2026, month: 2 }));
  });

  it("labels months, quarters and years", () => {
    const k = monthIndex({ year: 2026, month: 10 });
    expect(periodLabel(k, "month")).toBe("2026-10");
    expect(periodLabel(k, "quarter")).toBe("2026-Q4");
    expect(periodLabel(k, "year")).toBe("2026");
  });

  it("projects from the complete days of the current month only", () => {
    expect(projectionWindow({ year: 2026, month: 12 }, Date.parse("2026-12-04T12:00:00Z"))).toEqual({ through: "2026-12-03", daysElapsed: 3, daysInMonth: 31 });
    expect(projectionWindow({ year: 2026, month: 12 }, Date.parse("2026-12-01T23:00:00Z"))).toBeUndefined();
    expect(projectionWindow({ year: 2026, month: 11 }, Date.parse("2026-12-04T12:00:00Z"))).toBeUndefined();
    expect(projectionWindow({ year: 2026, month: 2 }, Date.parse("2026-02-28T00:00:00Z"))).toEqual({ through: "2026-02-27", daysElapsed: 27, daysInMonth: 28 });
  });
});

describe("parameter schemas", () => {
  it("accept whole numbers in range only", () => {
    const n = wholeNumber(1, 500);
    expect(n.parse("500")).toBe(500);
    for (const bad of ["0", "501", "1.5", "-1", "1e3", " 5", "", "0x10", "9999999999"]) expect(n.safeParse(bad).success, bad).toBe(false);
  });

  it("accept only real dates and months", () => {
    expect(isoDate.safeParse("2024-02-29").success).toBe(true);
    expect(isoDate.safeParse("2026-02-29").success).toBe(false);
    expect(periodBound.safeParse("2026-13").success).toBe(false);
    expect(periodBound.safeParse("1999-12").success).toBe(false);
    expect(periodBound.safeParse("2026-04-31").success).toBe(false);
    expect(periodBound.safeParse("2026-04").success).toBe(true);
  });

  it("split mid lists, dropping blanks and duplicates", () => {
    expect(midList(3).parse(" a, b,,a ")).toEqual(["a", "b"]);
    expect(midList(3).safeParse("a,b,c,d").success).toBe(false);
    expect(midList(3).safeParse("a,b\u0000").success).toBe(false);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  batchToRow,
  disputeMidsFromWebhook,
  formatIrisDateTime,
  formatIrisDay,
  IrisMappingError,
  leadIdsFromWebhook,
  leadMerchantMid,
  merchantDetailToRow,
  merchantToRow,
  midToText,
  parseIrisDate,
  parseIrisDateTime,
  processorIdFromSummary,
  processorToRow,
  redactCardData,
  residualPeriodsFromWebhook,
  residualRowToRow,
  residualSummaryToRow,
  toCountOrNull,
  toDecimal,
  toMoney,
  toMoneyOrNull,
  toRatioOrNull,
  yesNoToBoolean,
} from "../src/iris/mapping.ts";
import {
  irisBatchesPageSchema,
  irisBatchSchema,
  irisChargebackEventDataSchema,
  irisLeadDetailSchema,
  irisLeadEventDataSchema,
  irisMerchantDetailSchema,
  irisMerchantsPageSchema,
  irisProcessorsSchema,
  irisReportPublishedDataSchema,
  irisResidualRowsPageSchema,
  irisResidualSummaryPageSchema,
  irisRetrievalEventDataSchema,
  irisWebhookSchema,
  parseWebhookData,
  webhookKind,
} from "../src/iris/schemas.ts";

// Fixtures are written by hand after the shapes and examples of IRIS API spec 1.23.0.
const links = {
  first: "https://example.iriscrm.com/api/v1/merchants?page=1",
  last: "https://example.iriscrm.com/api/v1/merchants?page=3",
  prev: null,
  next: "https://example.iriscrm.com/api/v1/merchants?page=2",
};
const meta = (lastPage: string | number) => ({
  current_page: 1,
  from: 1,
  last_page: lastPage,
  path: "https://example.iriscrm.com/api/v1/merchants",
  per_page: 100,
  to: 100,
  total: 250,
});
const merchant = {
  mid: "4445012345678",
  name: "Wild Coyote Hotel",
  opened: "01/21/2019",
  closed: "",
  created: "2019-01-01T12:04:40+05:00",
  modified: "2024-05-01T09:30:00-04:00",
  first_batch: "02/01/2019",
  last_batch: "04/30/2024",
  group: "West Region",
  processor: "TSYS",
  datasource: "TSYS FSP",
  sic_code: "7011",
  vim: "No",
  deactivated: null,
  status: "Open",
  active: "Yes",
  leads: [17, 4],
  some_future_field: { nested: true },
};
const batchWithCards = {
  date: "04/30/2024",
  reference_number: "202404305856",
  amount: "1570.00",
  count: "3",
  terminal_number: "0001",
  transactions: [
    {
      id: 123,
      date: "04/30/2024",
      type: "SALE",
      amount: "91.57",
      cardholder: "3712*******1234",
      auth_code: "550123",
      pos_entry_mode: "SWIPED",
      invoice_number: "11",
      void_reject_chargeback: false,
    },
  ],
};

describe("toMoney", () => {
  it.each([
    ["91.57", "91.57"],
    [91.57, "91.57"],
    ["-570.00", "-570.00"],
    [1570, "1570.00"],
    ["7", "7.00"],
    [".5", "0.50"],
    ["5.", "5.00"],
    ["+3.1", "3.10"],
    [" 12.3 ", "12.30"],
    ["1,234.5", "1234.50"],
    ["1,234,567.891", "1234567.89"],
    ["1e3", "1000.00"],
    [1e-7, "0.00"],
    ["00012.30", "12.30"],
    [123456789012.34, "123456789012.34"],
  ])("converts %j to %j", (input, expected) => {
    expect(toMoney(input)).toBe(expected);
  });

  it("rounds half away from zero on the decimal digits", () => {
    expect(toMoney("0.005")).toBe("0.01");
    expect(toMoney("-0.005")).toBe("-0.01");
    expect(toMoney("0.0049999")).toBe("0.00");
    expect(toMoney("999.995")).toBe("1000.00");
    expect(toMoney("-999.995")).toBe("-1000.00");
  });

  it("does not inherit binary float errors from JSON numbers", () => {
    // (1.005).toFixed(2) is "1.00" and (2.675).toFixed(2) is "2.67", because the doubles sit just below.
    expect(toMoney(1.005)).toBe("1.01");
    expect(toMoney(2.675)).toBe("2.68");
    expect(toMoney(0.1 + 0.2)).toBe("0.30");
  });

  it("never writes a negative zero", () => {
    expect(toMoney("-0.004")).toBe("0.00");
    expect(toMoney(-0)).toBe("0.00");
    expect(toMoney("-0")).toBe("0.00");
  });

  it("refuses amounts that would overflow numeric(14,2) instead of letting the insert fail", () => {
    expect(toMoney("999999999999.99")).toBe("999999999999.99");
    expect(toMoney("999999999999.994")).toBe("999999999999.99");
    expect(() => toMoney("999999999999.995")).toThrow(RangeError);
    expect(() => toMoney(1e21)).toThrow(RangeError);
    expect(() => toMoney("-1000000000000")).toThrow(RangeError);
  });

  it.each([["abc"], [""], ["1.2.3"], ["1,23"], ["12,34.5"], ["$5"], ["1e"], [Number.NaN], [Infinity], ["1e999999999"]])(
    "rejects %j",
    (input) => {
      expect(() => toMoney(input)).toThrow(IrisMappingError);
    },
  );

  it("treats null, undefined and an empty string as no value", () => {
    expect(toMoneyOrNull(null)).toBeNull();
    expect(toMoneyOrNull(undefined)).toBeNull();
    expect(toMoneyOrNull("  ")).toBeNull();
    expect(toMoneyOrNull(0)).toBe("0.00");
  });

  it("agrees with integer arithmetic on any decimal string", () => {
    // An independent reference: scale the digits with BigInt and round half away from zero by hand.
    const reference = (negative: boolean, whole: bigint, fraction: string): string => {
      const scaled = whole * 10n ** BigInt(fraction.length) + BigInt(fraction || "0");
      const divisor = 10n ** BigInt(Math.max(fraction.length - 2, 0));
      const multiplier = 10n ** BigInt(Math.max(2 - fraction.length, 0));
      let cents = (scaled * multiplier) / divisor;
      if (((scaled * multiplier) % divisor) * 2n >= divisor) cents += 1n;
      const text = `${cents / 100n}.${String(cents % 100n).padStart(2, "0")}`;
      return negative && cents !== 0n ? `-${text}` : text;
    };
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.bigInt({ min: 0n, max: 999_999_999_999n }),
        fc.string({ unit: fc.constantFrom(..."0123456789"), maxLength: 8 }),
        (negative, whole, fraction) => {
          const input = `${negative ? "-" : ""}${whole}${fraction ? "." + fraction : ""}`;
          const expected = reference(negative, whole, fraction);
          if (expected.replace("-", "").split(".")[0]!.length > 12) {
            expect(() => toMoney(input)).toThrow(RangeError);
          } else {
            expect(toMoney(input)).toBe(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("reads whole cents back exactly from JSON numbers", () => {
    fc.assert(
      fc.property(fc.integer({ min: -99_999_999_999, max: 99_999_999_999 }), (cents) => {
        const abs = Math.abs(cents);
        const expected = `${cents < 0 ? "-" : ""}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
        expect(toMoney(cents / 100)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe("toDecimal and counts", () => {
  it("keeps more scale for basis points and percentages", () => {
    expect(toDecimal("0.29", 4)).toBe("0.2900");
    expect(toDecimal(0.123456, 4)).toBe("0.1235");
    expect(toRatioOrNull(0.29)).toBe("0.2900");
    expect(toRatioOrNull(null)).toBeNull();
  });

  it("rounds to whole numbers when asked for scale 0", () => {
    expect(toDecimal("2.5", 0)).toBe("3");
    expect(toDecimal("-2.5", 0)).toBe("-3");
    expect(toDecimal("2.49", 0)).toBe("2");
  });

  it("expands exponents of large values without a precision limit", () => {
    expect(toDecimal(1e21, 2)).toBe("1000000000000000000000.00");
    expect(toDecimal("1.5e-3", 4)).toBe("0.0015");
  });

  it("reads counts sent as strings and refuses fractional counts", () => {
    expect(toCountOrNull("12")).toBe(12);
    expect(toCountOrNull(151182)).toBe(151182);
    expect(toCountOrNull("1,234")).toBe(1234);
    expect(toCountOrNull("12.0")).toBe(12);
    expect(toCountOrNull(null)).toBeNull();
    expect(() => toCountOrNull("12.5")).toThrow(IrisMappingError);
    expect(() => toCountOrNull("99999999999999999999")).toThrow(IrisMappingError);
  });
});

describe("identifiers and flags", () => {
  it("stores a merchant number sent as an integer as text", () => {
    expect(midToText(12312312312)).toBe("12312312312");
    expect(midToText(" 0042 ")).toBe("0042");
  });

  it("refuses merchant numbers JSON could not carry exactly", () => {
    expect(() => midToText(2 ** 53)).toThrow(IrisMappingError);
    expect(() => midToText(-1)).toThrow(IrisMappingError);
    expect(() => midToText(1.5)).toThrow(IrisMappingError);
    expect(() => midToText("  ")).toThrow(IrisMappingError);
  });

  it("reads Yes/No flags and leaves unknown values unknown", () => {
    expect(yesNoToBoolean("Yes")).toBe(true);
    expect(yesNoToBoolean("no")).toBe(false);
    expect(yesNoToBoolean(true)).toBe(true);
    expect(yesNoToBoolean(0)).toBe(false);
    expect(yesNoToBoolean("Maybe")).toBeNull();
    expect(yesNoToBoolean(null)).toBeNull();
  });
});

describe("dates", () => {
  it.each([
    ["01/21/2019", "2019-01-21"],
    ["1/2/2019", "2019-01-02"],
    ["02/29/2024", "2024-02-29"],
    ["02/29/2000", "2000-02-29"],
    ["2019-01-21", "2019-01-21"],
    [" 12/31/2023 ", "2023-12-31"],
  ])("reads %j as %j", (input, expected) => {
    expect(parseIrisDate(input)).toBe(expected);
  });

  it.each([["02/29/2023"], ["02/29/1900"], ["04/31/2024"], ["13/01/2019"], ["00/00/0000"], ["01/21/19"], ["2019-1-21"], ["21.01.2019"], [""], [null], [undefined]])(
    "turns %j into null",
    (input) => {
      expect(parseIrisDate(input)).toBeNull();
    },
  );

  it("agrees with the calendar on every day", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date("1900-01-01T00:00:00Z"), max: new Date("2100-12-31T00:00:00Z"), noInvalidDate: true }), (d) => {
        const us = `${String(d.getUTCMonth() + 1).padStart(2, "0")}/${String(d.getUTCDate()).padStart(2, "0")}/${d.getUTCFullYear()}`;
        expect(parseIrisDate(us)).toBe(d.toISOString().slice(0, 10));
      }),
      { numRuns: 300 },
    );
  });

  it("reads date-times with their offsets", () => {
    expect(parseIrisDateTime("2019-01-01T12:04:40+05:00")?.toISOString()).toBe("2019-01-01T07:04:40.000Z");
    expect(parseIrisDateTime("2024-05-01T09:30:00-04:00")?.toISOString()).toBe("2024-05-01T13:30:00.000Z");
    expect(parseIrisDateTime("2024-05-01T09:30:00+0530")?.toISOString()).toBe("2024-05-01T04:00:00.000Z");
    expect(parseIrisDateTime("2024-05-01T09:30:00.250Z")?.toISOString()).toBe("2024-05-01T09:30:00.250Z");
    expect(parseIrisDateTime("2024-05-01 09:30:00")?.toISOString()).toBe("2024-05-01T09:30:00.000Z");
  });

  it("turns unusable date-times into null", () => {
    expect(parseIrisDateTime("2019-02-30T00:00:00+00:00")).toBeNull();
    expect(parseIrisDateTime("2019-01-01T24:00:00+00:00")).toBeNull();
    expect(parseIrisDateTime("01/21/2019")).toBeNull();
    expect(parseIrisDateTime("")).toBeNull();
    expect(parseIrisDateTime(null)).toBeNull();
  });

  it("formats date filters in UTC with an explicit offset and whole seconds", () => {
    expect(formatIrisDateTime(new Date("2024-05-01T00:00:00Z"))).toBe("2024-05-01T00:00:00+00:00");
    expect(formatIrisDateTime(new Date("2024-04-30T22:15:09.999-02:00"))).toBe("2024-05-01T00:15:09+00:00");
    expect(formatIrisDay(new Date("2024-05-01T23:59:59Z"))).toBe("2024-05-01");
    expect(() => formatIrisDateTime(new Date(Number.NaN))).toThrow(RangeError);
  });

  it("reads back what it formats, to the second", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2099-12-31T00:00:00Z"), noInvalidDate: true }), (d) => {
        const back = parseIrisDateTime(formatIrisDateTime(d));
        expect(back?.getTime()).toBe(Math.floor(d.getTime() / 1000) * 1000);
      }),
      { numRuns: 200 },
    );
  });
});

describe("merchants", () => {
  it("accepts a list page whose meta.last_page is a string, as the spec types it", () => {
    const page = irisMerchantsPageSchema.parse({ data: [merchant], links, meta: meta("3") });
    expect(page.meta.last_page).toBe(3);
    expect(page.data).toHaveLength(1);
  });

  it("accepts meta.last_page as a number and links without prev/next", () => {
    const page = irisMerchantsPageSchema.parse({ data: [], links: { ...links, next: null }, meta: meta(1) });
    expect(page.meta.last_page).toBe(1);
    expect(page.links?.next).toBeNull();
  });

  it("drops unknown fields instead of failing", () => {
    const page = irisMerchantsPageSchema.parse({ data: [merchant], links, meta: meta(3) });
    expect(page.data[0]).not.toHaveProperty("some_future_field");
  });

  it("rejects pages the sync could not page through or key", () => {
    expect(irisMerchantsPageSchema.safeParse({ data: [merchant], links }).success).toBe(false);
    expect(irisMerchantsPageSchema.safeParse({ data: [merchant], meta: meta("three") }).success).toBe(false);
    const { mid: _mid, ...withoutMid } = merchant;
    expect(irisMerchantsPageSchema.safeParse({ data: [withoutMid], meta: meta(1) }).success).toBe(false);
    expect(irisMerchantsPageSchema.safeParse({ data: [{ ...merchant, mid: 2 ** 53 + 2 }], meta: meta(1) }).success).toBe(false);
    expect(irisMerchantsPageSchema.safeParse({ data: [{ ...merchant, leads: ["x"] }], meta: meta(1) }).success).toBe(false);
  });

  it("maps every merchant column", () => {
    const [item] = irisMerchantsPageSchema.parse({ data: [merchant], meta: meta(1) }).data;
    expect(merchantToRow(item!)).toEqual({
      mid: "4445012345678",
      name: "Wild Coyote Hotel",
      status: "Open",
      active: true,
      processor: "TSYS",
      groupName: "West Region",
      datasource: "TSYS FSP",
      sicCode: "7011",
      vim: "No",
      opened: "2019-01-21",
      closed: null,
      firstBatch: "2019-02-01",
      lastBatch: "2024-04-30",
      deactivated: null,
      created: new Date("2019-01-01T07:04:40Z"),
      modified: new Date("2024-05-01T13:30:00Z"),
      leadIds: ["17", "4"],
    });
  });

  it("keeps a merchant whose dates are unusable, with those dates empty", () => {
    const item = irisMerchantsPageSchema.parse({
      data: [{ ...merchant, mid: 991, opened: "02/30/2019", modified: "soon", sic_code: 5812, leads: null }],
      meta: meta(1),
    }).data[0]!;
    const row = merchantToRow(item);
    expect(row).toMatchObject({ mid: "991", opened: null, modified: null, sicCode: "5812", leadIds: [] });
  });

  it("maps a merchant detail with its lead list", () => {
    const detail = irisMerchantDetailSchema.parse({
      general: { ...merchant, leads: undefined },
      account_information: [],
      leads: [9, 9, 3],
    });
    expect(merchantDetailToRow(detail)).toMatchObject({ mid: "4445012345678", leadIds: ["9", "3"] });
  });
});

describe("processors", () => {
  it("maps the spec's processor list, which carries no id", () => {
    const parsed = irisProcessorsSchema.parse({
      processors: [{ name: "TSYS", datasources: [{ id: 4, name: "TSYS FSP" }] }],
    });
    const row = processorToRow(parsed.processors[0]!);
    expect(row).toEqual({ name: "TSYS", datasources: [{ id: 4, name: "TSYS FSP" }] });
    expect(row).not.toHaveProperty("processorId");
  });

  it("keeps an id when an instance sends one", () => {
    const parsed = irisProcessorsSchema.parse({ processors: [{ id: "12", name: "Fiserv", datasources: null }] });
    expect(processorToRow(parsed.processors[0]!)).toEqual({ name: "Fiserv", processorId: 12, datasources: [] });
  });

  it("rejects a processor without a name", () => {
    expect(irisProcessorsSchema.safeParse({ processors: [{ name: "", datasources: [] }] }).success).toBe(false);
  });
});

describe("residuals", () => {
  const summary = {
    processor_id: 1,
    name: "Test Processor",
    created: "2024-06-02T10:00:00+00:00",
    created_by: 1,
    modified: "2024-06-03T10:00:00+00:00",
    modified_by: 1,
    merchants_count: 11,
    sum_transactions: 1664667,
    sum_sales_amount: 15637576.5,
    sum_income: 499400.125,
    sum_expense: "454000.00",
    sum_net: 45400.13,
    sum_bps: 0.29,
    sum_agent_net: 0,
  };
  const row = {
    merchant: "Merchant name",
    transactions: 151182,
    sales_amount: 15637576,
    income: 499400,
    expense: 454000,
    net: 45400,
    bps: 0.29,
    users: true,
    percentage: 0,
    agent_net: -12.345,
    mid: 12312312312,
  };

  it("maps a summary page of numbers to exact decimals", () => {
    const page = irisResidualSummaryPageSchema.parse({ data: [summary], links, meta: meta(1) });
    expect(residualSummaryToRow(1, 2024, 5, page.data[0]!)).toEqual({
      processorId: 1,
      year: 2024,
      month: 5,
      processorName: "Test Processor",
      merchantsCount: 11,
      sumTransactions: 1664667,
      sumSalesAmount: "15637576.50",
      sumIncome: "499400.13",
      sumExpense: "454000.00",
      sumNet: "45400.13",
      sumBps: "0.2900",
      sumAgentNet: "0.00",
      modified: new Date("2024-06-03T10:00:00Z"),
    });
    expect(processorIdFromSummary(page.data[0]!)).toEqual({ name: "Test Processor", processorId: 1 });
  });

  it("refuses to file a summary under another processor or an impossible month", () => {
    const item = irisResidualSummaryPageSchema.parse({ data: [summary], meta: meta(1) }).data[0]!;
    expect(() => residualSummaryToRow(2, 2024, 5, item)).toThrow(IrisMappingError);
    expect(() => residualSummaryToRow(1, 2024, 13, item)).toThrow(RangeError);
  });

  it("maps a residual row whose mid is an integer", () => {
    const page = irisResidualRowsPageSchema.parse({ data: [row], links, meta: meta("1") });
    expect(residualRowToRow(1, 2024, 5, page.data[0]!)).toEqual({
      mid: "12312312312",
      processorId: 1,
      year: 2024,
      month: 5,
      merchantName: "Merchant name",
      transactions: 151182,
      salesAmount: "15637576.00",
      income: "499400.00",
      expense: "454000.00",
      net: "45400.00",
      bps: "0.2900",
      percentage: "0.0000",
      agentNet: "-12.35",
    });
  });

  it("accepts residual amounts sent as strings and rejects ones that are not numbers", () => {
    const ok = irisResidualRowsPageSchema.parse({ data: [{ ...row, net: "45400.10", mid: "0042" }], meta: meta(1) });
    expect(residualRowToRow(1, 2024, 5, ok.data[0]!)).toMatchObject({ mid: "0042", net: "45400.10" });
    expect(irisResidualRowsPageSchema.safeParse({ data: [{ ...row, net: "n/a" }], meta: meta(1) }).success).toBe(false);
    expect(irisResidualRowsPageSchema.safeParse({ data: [{ ...row, transactions: 1.5 }], meta: meta(1) }).success).toBe(false);
  });
});

describe("batches", () => {
  it("maps a batch with string amounts and counts", () => {
    const page = irisBatchesPageSchema.parse({
      data: [batchWithCards],
      links,
      meta: meta(1),
      adjustments: [{ date: "04/30/2024", type: "Deposit adjustments", amount: "-570.00" }],
    });
    expect(batchToRow("4445012345678", page.data[0]!)).toEqual({
      mid: "4445012345678",
      batchDate: "2024-04-30",
      referenceNumber: "202404305856",
      amount: "1570.00",
      count: 3,
      terminalNumber: "0001",
    });
    expect(page.adjustments?.[0]?.amount).toBe("-570.00");
  });

  it("strips the nested card transactions when parsing", () => {
    const parsed = irisBatchSchema.parse(batchWithCards);
    expect(parsed).not.toHaveProperty("transactions");
    expect(JSON.stringify(parsed)).not.toContain("3712");
  });

  it("never puts cardholder data in a batch row, even from an unparsed payload", () => {
    const row = batchToRow(4445012345678, batchWithCards as unknown as Parameters<typeof batchToRow>[1]);
    const text = JSON.stringify(row);
    expect(text).not.toContain("cardholder");
    expect(text).not.toContain("3712");
    expect(Object.keys(row).sort()).toEqual(["amount", "batchDate", "count", "mid", "referenceNumber", "terminalNumber"]);
  });

  it("keys a batch without a reference number by an empty reference", () => {
    const parsed = irisBatchSchema.parse({ ...batchWithCards, reference_number: null, terminal_number: 7 });
    expect(batchToRow("1", parsed)).toMatchObject({ referenceNumber: "", terminalNumber: "7" });
  });

  it("refuses a batch without a usable date, since the date is part of its key", () => {
    const parsed = irisBatchSchema.parse({ ...batchWithCards, date: "02/30/2024" });
    expect(() => batchToRow("1", parsed)).toThrow(IrisMappingError);
    expect(irisBatchSchema.safeParse({ ...batchWithCards, date: undefined }).success).toBe(false);
  });
});

describe("leads", () => {
  it("links a lead to its merchant through general.mid", () => {
    const lead = irisLeadDetailSchema.parse({
      general: {
        id: 17,
        mid: 4445012345678,
        name: "Wild Coyote Hotel",
        group: { id: 1, name: "Group" },
        category: { id: 1, name: "Approved" },
        status: { id: 2, name: "Boarded" },
        campaign: { id: null, name: null },
        source: null,
        created: "2019-01-01T12:04:40+05:00",
        modified: "2019-01-02T12:04:40+05:00",
      },
      details: [{ id: 1, name: "General", type: "tab", fields: [] }],
    });
    expect(leadMerchantMid(lead)).toBe("4445012345678");
  });

  it("reports no merchant for a lead that has none", () => {
    expect(leadMerchantMid(irisLeadDetailSchema.parse({ general: { id: 1, mid: null } }))).toBeNull();
    expect(leadMerchantMid(irisLeadDetailSchema.parse({ general: { id: 1, mid: "" } }))).toBeNull();
  });

  it("rejects a lead detail without an id", () => {
    expect(irisLeadDetailSchema.safeParse({ general: { mid: 1 } }).success).toBe(false);
  });
});

describe("webhooks", () => {
  const published = {
    hook: { requestId: 1, event: "residuals.report.published" },
    data: {
      reports: [
        { id: 1, month: 3, year: 2019, sys_prin: 34212312312, processor_id: 1, processor_name: "Test Processor", revision: 1, rows_count: 123, sum_volume: 0, sum_net: 0, sum_agent_net: 0, created: "2019-04-01T12:04:40+05:00" },
        { id: 2, month: 3, year: 2019, processor_id: 1, processor_name: "Test Processor", revision: 2, rows_count: 124 },
        { id: 3, month: "3", year: "2019", processor_id: "7", revision: null },
      ],
    },
  };

  it("accepts the envelope and reads a string requestId as a number", () => {
    const parsed = irisWebhookSchema.parse({ hook: { requestId: "42", event: "lead.created" }, data: {} });
    expect(parsed.hook).toEqual({ requestId: 42, event: "lead.created" });
  });

  it("rejects deliveries without a usable hook", () => {
    expect(irisWebhookSchema.safeParse({ data: {} }).success).toBe(false);
    expect(irisWebhookSchema.safeParse({ hook: { requestId: 1, event: "" } }).success).toBe(false);
    expect(irisWebhookSchema.safeParse({ hook: { requestId: 1.5, event: "lead.created" } }).success).toBe(false);
    expect(irisWebhookSchema.safeParse({ hook: { requestId: -1, event: "lead.created" } }).success).toBe(false);
  });

  it("turns a published report into the processor-months to re-sync, latest revision first", () => {
    const data = irisReportPublishedDataSchema.parse(published.data);
    expect(residualPeriodsFromWebhook(data)).toEqual([
      { processorId: 1, year: 2019, month: 3, revision: 2 },
      { processorId: 7, year: 2019, month: 3, revision: null },
    ]);
  });

  it("rejects a published report for an impossible month", () => {
    const bad = { reports: [{ month: 13, year: 2019, processor_id: 1 }] };
    expect(irisReportPublishedDataSchema.safeParse(bad).success).toBe(false);
  });

  it("collects lead ids from lead, leads[] and signatures[]", () => {
    const single = irisLeadEventDataSchema.parse({ lead: { id: 1, name: "Super Lead", email: "lead@email.com" } });
    expect(leadIdsFromWebhook(single)).toEqual([1]);
    const many = irisLeadEventDataSchema.parse({ leads: [{ id: 2 }, { id: "3" }, { id: 2 }] });
    expect(leadIdsFromWebhook(many)).toEqual([2, 3]);
    const signed = irisLeadEventDataSchema.parse({ signatures: [{ signature: { id: 1 }, lead: { id: 5 } }] });
    expect(leadIdsFromWebhook(signed)).toEqual([5]);
  });

  it("rejects a lead event that names no lead", () => {
    expect(irisLeadEventDataSchema.safeParse({}).success).toBe(false);
    expect(irisLeadEventDataSchema.safeParse({ leads: [] }).success).toBe(false);
  });

  it("accepts chargeback cases as objects or as arrays, and strips card numbers", () => {
    const caseObject = {
      chargeback: { id: "1", merchant_id: "123456789", dba: "Wild Coyote Hotel", amount: "1000.00", card_number: "4111********1111", case_number: "C-1" },
      items: { reason: "Fraud" },
      transactions: [],
    };
    const data = irisChargebackEventDataSchema.parse({
      chargebacks: [caseObject, [{ ...caseObject, chargeback: { ...caseObject.chargeback, merchant_id: 987 } }]],
    });
    expect(disputeMidsFromWebhook(data)).toEqual(["123456789", "987"]);
    expect(JSON.stringify(data)).not.toContain("4111");
  });

  it("reads retrieval events the same way", () => {
    const data = irisRetrievalEventDataSchema.parse({ retrievals: [{ retrieval: { merchant_id: "55", case_number: "R-1" } }] });
    expect(disputeMidsFromWebhook(data)).toEqual(["55"]);
  });

  it("routes each event name to its shape", () => {
    expect(webhookKind("residuals.report.published")).toBe("residuals.report.published");
    expect(webhookKind("lead.status.updated")).toBe("lead");
    expect(webhookKind("lead.signature.signed")).toBe("lead");
    expect(webhookKind("chargeback.reminder")).toBe("chargeback");
    expect(webhookKind("retrieval.added")).toBe("retrieval");
    expect(webhookKind("subscription.test")).toBe("subscription.test");
    expect(webhookKind("ticket.created")).toBe("unhandled");
  });

  it("parses a delivery's data by its event and explains a mismatch", () => {
    const ok = parseWebhookData("residuals.report.published", published.data);
    expect(ok.ok && ok.value.kind).toBe("residuals.report.published");
    const bad = parseWebhookData("lead.updated", { reports: [] });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toContain("names no lead");
    expect(parseWebhookData("subscription.test", { message: "Test event data" })).toEqual({ ok: true, value: { kind: "subscription.test" } });
    expect(parseWebhookData("ticket.created", 42)).toEqual({ ok: true, value: { kind: "unhandled" } });
  });

  it("redacts card numbers anywhere in a payload kept for the record", () => {
    const payload = {
      hook: { requestId: 9, event: "chargeback.added" },
      data: { chargebacks: [[{ chargeback: { merchant_id: "1", card_number: "4111********1111", Card_Holder: "x" } }]], first6: "414400" },
    };
    expect(redactCardData(payload)).toEqual({
      hook: { requestId: 9, event: "chargeback.added" },
      data: { chargebacks: [[{ chargeback: { merchant_id: "1" } }]] },
    });
    expect(payload.data.first6).toBe("414400");
  });
});

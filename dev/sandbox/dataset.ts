// The sandbox's data: invented deterministically from (seed, size, now) and then changed only through the
// control API. Big streams are not stored: batches and residual rows are pure functions of their coordinates
// (merchant, day / month), computed when asked, so the "large" size starts in seconds. Only what the control
// API changes (restated reports, added batches, modified merchants) is kept explicitly.

import {
  dayParts,
  localDay,
  localInstant,
  monthFirstDay,
  monthKeyOfDay,
  monthLastDay,
  monthOfKey,
  weekday,
} from "./calendar.ts";
import { chance, hashSeed, int, logNormalish, mulberry32, pick, rngFor, sample, type Rng } from "./prng.ts";
import type { SizeKnobs } from "./sizes.ts";
import {
  BUSINESS_KINDS,
  CAMPAIGNS,
  CITIES,
  DATASOURCE_SUFFIXES,
  FIRST_NAMES,
  GROUPS,
  LEAD_STATUSES,
  LEGAL_SUFFIXES,
  NAME_STARTS,
  PROCESSOR_NAMES,
  SOURCES,
  STREETS,
  SURNAMES,
  USERS,
} from "./vocabulary.ts";

// Stream tags keep the random streams of different entities apart even when their coordinates coincide.
const TAG = {
  processor: 0x70,
  merchant: 0x6d,
  presence: 0xba,
  batch: 0xb2,
  addedBatch: 0xadd,
  adjustment: 0xad,
  late: 0x1a7e,
  residual: 0x5e5,
  restate: 0x4e57,
  report: 0x4e9,
  modify: 0x30d,
  lineItem: 0x11e,
  midOffset: 0x31d,
} as const;

export interface Datasource {
  id: number;
  name: string;
}

export interface Processor {
  id: number;
  name: string;
  datasources: Datasource[];
}

export interface Merchant {
  index: number;
  mid: string;
  name: string;
  legalName: string;
  processorId: number;
  datasource: string;
  group: string;
  sicCode: string;
  vim: "Yes" | "No";
  status: "Open" | "Closed";
  active: "Yes" | "No";
  /** Calendar dates as day numbers (see calendar.ts). */
  opened: number;
  closed: number | null;
  deactivated: number | null;
  firstBatch: number | null;
  lastBatch: number | null;
  /** Instants in ms. */
  created: number;
  modified: number;
  leads: number[];
  /** Generated batches exist on days in [batchFrom, batchTo] when `batching`; added batches come on top. */
  batching: boolean;
  batchFrom: number;
  batchTo: number;
  /** Months (monthKey) with residual activity, fixed at generation so later control calls never rewrite history. */
  residualFrom: number | null;
  residualTo: number | null;
  /** Generated first/last batch days (last_batch moves with added batches; residual history must not). */
  historyFirst: number | null;
  historyLast: number | null;
  ticketCents: number;
  perDay: number;
  incomeBps: number;
  expensePermille: number;
  agentPercentage: number;
  terminals: string[];
  contactFirst: string;
  contactLast: string;
  street: string;
  city: string;
  state: string;
  zip: string;
  phone: string;
  email: string;
  leadStatus: number;
  leadCampaign: number;
  leadSource: number;
  leadCreated: number;
  leadModified: number;
}

export interface CardTransaction {
  id: number;
  day: number;
  type: "SALE" | "RETURN";
  amountCents: number;
  cardholder: string;
  authCode: string;
  posEntryMode: string;
  invoiceNumber: string;
  rejected: boolean;
  rejectDescription: string;
}

export interface Batch {
  merchantIndex: number;
  day: number;
  referenceNumber: string;
  terminalNumber: string;
  amountCents: number;
  count: number;
  transactions: CardTransaction[];
}

export interface Adjustment {
  merchantIndex: number;
  day: number;
  type: string;
  amountCents: number;
}

/** One merchant's line in a processor-month residual report; money in cents, bps in hundredths. */
export interface ResidualRow {
  merchantIndex: number;
  transactions: number;
  salesCents: number;
  incomeCents: number;
  expenseCents: number;
  netCents: number;
  bpsHundredths: number;
  percentage: number;
  agentNetCents: number;
}

export interface ResidualSums {
  merchantsCount: number;
  transactions: number;
  salesCents: number;
  incomeCents: number;
  expenseCents: number;
  netCents: number;
  bpsHundredths: number;
  agentNetCents: number;
}

export interface ResidualReport {
  id: number;
  processorId: number;
  month: number; // monthKey
  revision: number;
  created: number;
  createdBy: number;
  modified: number;
  modifiedBy: number;
  /** null while the report still is its generated revision 1; an explicit list once restated. */
  rows: ResidualRow[] | null;
  sums: ResidualSums | null;
}

export interface LineItem {
  id: number;
  month: number;
  merchantIndex: number;
  relatedMerchantIndex: number;
  type: "agent" | "merchant";
  userId: number;
  description: string;
  incomeCents: number;
  expenseCents: number;
  percentage: number;
  agentNetCents: number;
  recurring: boolean;
  recurringStart: number | null;
  recurringPaymentCount: number | null;
  recurringMaxPaymentCount: number | null;
  recurringPeriod: "weekly" | "monthly" | "quarterly" | "yearly" | null;
  created: number;
}

export interface RestateResult {
  reportId: number;
  processorId: number;
  year: number;
  month: number;
  revision: number;
  added: string[];
  removed: string[];
  changed: string[];
}

export interface ModifyResult {
  mid: string;
  change: "name" | "group" | "vim" | "closed";
  leads: number[];
}

export interface DatasetConfig {
  seed: number;
  size: Required<SizeKnobs>;
  /** "Now" of the generated data; all months and days are relative to it. */
  nowMs: number;
  utcOffsetMinutes: number;
  /** Current time for changes made later through the control API (advances from nowMs). */
  clock: () => number;
}

const LEAD_ID_BASE = 20_000;
const MAX_TRANSACTIONS_PER_BATCH = 30;

export class Dataset {
  readonly seed: number;
  readonly size: Required<SizeKnobs>;
  readonly nowMs: number;
  readonly offset: number;
  readonly today: number;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly residualMonths: number[];
  readonly processors: Processor[];
  readonly merchants: Merchant[];
  /** Bumped on every change so cached sort orders can be thrown away. */
  version = 0;

  private readonly clock: () => number;
  private readonly byMid = new Map<string, Merchant>();
  private readonly byProcessor = new Map<number, Merchant[]>();
  private readonly reports = new Map<string, ResidualReport>();
  private readonly addedBatches = new Map<number, Batch[]>();
  private readonly modifyRng: Rng;
  private readonly baseRowsCache = new Map<string, ResidualRow[]>();
  private addedTransactionId = 9_000_000_000_000;

  constructor(config: DatasetConfig) {
    this.seed = config.seed;
    this.size = config.size;
    this.nowMs = config.nowMs;
    this.offset = config.utcOffsetMinutes;
    this.clock = config.clock;
    this.today = localDay(this.nowMs, this.offset);
    // Batches settle at the end of the day: the newest that can exist is yesterday's.
    this.windowEnd = this.today - 1;
    this.windowStart = this.today - this.size.batchDays;
    const current = monthKeyOfDay(this.today);
    this.residualMonths = [];
    for (let k = current - this.size.residualMonths; k < current; k++) this.residualMonths.push(k);
    this.modifyRng = mulberry32(hashSeed(this.seed, TAG.modify));

    this.processors = this.generateProcessors();
    this.merchants = [];
    for (let i = 0; i < this.size.merchants; i++) {
      const merchant = this.generateMerchant(i);
      this.merchants.push(merchant);
      this.byMid.set(merchant.mid, merchant);
      const list = this.byProcessor.get(merchant.processorId);
      if (list) list.push(merchant);
      else this.byProcessor.set(merchant.processorId, [merchant]);
    }
    for (const list of this.byProcessor.values()) list.sort((a, b) => compareMid(a.mid, b.mid));

    let reportId = 1000 + (hashSeed(this.seed, TAG.report) % 9000);
    for (const k of this.residualMonths) {
      for (const p of this.processors) {
        const r = rngFor(this.seed, TAG.report, p.id, k);
        const ceiling = this.nowMs - 3_600_000;
        const created = Math.min(
          localInstant(monthLastDay(k) + int(r, 3, 12), int(r, 8 * 3600, 17 * 3600), this.offset),
          ceiling - int(r, 0, 3600) * 1000,
        );
        this.reports.set(reportKey(p.id, k), {
          id: reportId++,
          processorId: p.id,
          month: k,
          revision: 1,
          created,
          createdBy: USERS[0]!.id,
          modified: created,
          modifiedBy: USERS[0]!.id,
          rows: null,
          sums: null,
        });
      }
    }
  }

  // ---------------------------------------------------------------- generation

  private generateProcessors(): Processor[] {
    const r = rngFor(this.seed, TAG.processor);
    const names = sample(r, PROCESSOR_NAMES, this.size.processors);
    let id = int(r, 2, 9);
    let dsId = int(r, 10, 40);
    return names.map((name) => {
      // Ids are deliberately sparse: nothing may assume processor ids are 1..n.
      const processor: Processor = { id, name, datasources: [] };
      id += int(r, 1, 6);
      const dsCount = int(r, 1, 3);
      for (const suffix of sample(r, DATASOURCE_SUFFIXES, dsCount)) {
        processor.datasources.push({ id: dsId, name: `${name} ${suffix}` });
        dsId += int(r, 1, 4);
      }
      return processor;
    });
  }

  private midFor(index: number): string {
    // A multiplier coprime with 10^11 permutes 0..10^11-1, so mids are unique yet look random.
    const offset = BigInt(hashSeed(this.seed, TAG.midOffset) % 1_000_000);
    const value = ((BigInt(index) + offset * 100_003n) * 2_654_435_761n) % 100_000_000_000n;
    return String(400_000_000_000n + value);
  }

  private present(index: number, day: number): boolean {
    const r = rngFor(this.seed, TAG.presence, index, day);
    const wd = weekday(day);
    return chance(r, wd === 0 ? 0.45 : wd === 6 ? 0.7 : 0.9);
  }

  private generateMerchant(index: number): Merchant {
    const r = rngFor(this.seed, TAG.merchant, index);
    const kind = pick(r, BUSINESS_KINDS);
    const surname = pick(r, SURNAMES);
    const style = int(r, 0, 2);
    const name =
      style === 0
        ? `${pick(r, NAME_STARTS)} ${kind.noun}`
        : style === 1
          ? `${surname}'s ${kind.noun}`
          : `${pick(r, NAME_STARTS)} ${kind.noun} #${int(r, 2, 40)}`;
    const legalName = chance(r, 0.7) ? `${name.replace(/ #\d+$/, "")} ${pick(r, LEGAL_SUFFIXES)}` : `${surname} Holdings LLC`;

    // Earlier processors carry more merchants, as real portfolios do.
    const weights = this.processors.map((_, i) => this.processors.length - i + 1);
    let w = r() * weights.reduce((a, b) => a + b, 0);
    let processor = this.processors[0]!;
    for (let i = 0; i < weights.length; i++) {
      w -= weights[i]!;
      if (w < 0) {
        processor = this.processors[i]!;
        break;
      }
    }
    const datasource = pick(r, processor.datasources).name;

    const today = this.today;
    const opened = chance(r, 0.03) ? today - int(r, 1, 20) : today - int(r, 21, 6 * 365);
    let closed: number | null = null;
    let deactivated: number | null = null;
    if (chance(r, 0.12) && today - opened > 90) {
      closed = opened + int(r, 60, today - opened - 1);
      deactivated = Math.min(closed + int(r, 0, 20), today - 1);
    }
    const status = closed === null ? "Open" : "Closed";
    const active = closed !== null ? "No" : chance(r, 0.03) ? "No" : "Yes";

    // Batches: in the window for the batching share, else a dormant history that ended before the window.
    const batchStart = opened + int(r, 1, 6);
    const lastPossible = closed ?? this.windowEnd;
    const inShare = chance(r, this.size.batchMerchantShare);
    const dormantGap = int(r, 0, 20);
    let batching = false;
    let firstBatch: number | null = null;
    let lastBatch: number | null = null;
    const batchFrom = Math.max(this.windowStart, batchStart);
    const batchTo = Math.min(this.windowEnd, lastPossible);
    if (inShare && batchFrom <= batchTo) {
      for (let d = batchTo; d >= batchFrom; d--) {
        if (this.present(index, d)) {
          lastBatch = d;
          break;
        }
      }
      if (lastBatch !== null) {
        batching = true;
        if (batchStart < this.windowStart) firstBatch = batchStart;
        else for (let d = batchFrom; d <= batchTo && firstBatch === null; d++) if (this.present(index, d)) firstBatch = d;
      }
    }
    if (!batching) {
      const end = Math.min(lastPossible, this.windowStart - 1 - dormantGap);
      if (end >= batchStart) {
        firstBatch = batchStart;
        lastBatch = end;
      }
    }

    const created = localInstant(opened - int(r, 0, 30), int(r, 8 * 3600, 18 * 3600), this.offset);
    let base = created;
    if (deactivated !== null) base = Math.max(base, localInstant(deactivated, 9 * 3600, this.offset));
    // The nightly import rewrites last_batch, so it also bumps modified.
    if (lastBatch !== null) base = Math.max(base, localInstant(lastBatch + 1, 5 * 3600 + int(r, 0, 3600), this.offset));
    // Later edits (notes, contact changes) land anywhere between that and now, within a few weeks.
    const ceiling = this.nowMs - int(r, 60, 600) * 1000;
    let modified = base + Math.floor(r() * Math.max(0, Math.min(20 * 86_400_000, ceiling - base)));
    if (chance(r, 0.05)) modified = this.nowMs - int(r, 3600, 72 * 3600) * 1000;
    modified = Math.max(created, Math.min(modified, ceiling));

    const leadId = LEAD_ID_BASE + index * 2;
    const leads = chance(r, 0.1) ? [leadId, leadId + 1] : [leadId];
    const place = pick(r, CITIES);
    const first = pick(r, FIRST_NAMES);
    const statusIndex = closed !== null ? 3 : int(r, 0, 2);
    const terminals = [`7${String(int(r, 0, 9_999_999)).padStart(7, "0")}`];
    if (chance(r, 0.3)) terminals.push(`7${String(int(r, 0, 9_999_999)).padStart(7, "0")}`);
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "");

    return {
      index,
      mid: this.midFor(index),
      name,
      legalName,
      processorId: processor.id,
      datasource,
      group: pick(r, GROUPS),
      sicCode: kind.sic,
      vim: chance(r, 0.15) ? "Yes" : "No",
      status,
      active,
      opened,
      closed,
      deactivated,
      firstBatch,
      lastBatch,
      created,
      modified,
      leads,
      batching,
      batchFrom,
      batchTo,
      residualFrom: firstBatch === null ? null : monthKeyOfDay(firstBatch),
      residualTo: lastBatch === null ? null : monthKeyOfDay(lastBatch),
      historyFirst: firstBatch,
      historyLast: lastBatch,
      ticketCents: Math.max(300, Math.round(kind.ticket * 100 * logNormalish(r, 0.25))),
      perDay: Math.max(1, Math.round(kind.perDay * logNormalish(r, 0.35))),
      incomeBps: int(r, 180, 320),
      expensePermille: int(r, 720, 920),
      agentPercentage: pick(r, [0, 25, 30, 35, 40, 50]),
      terminals,
      contactFirst: first,
      contactLast: surname,
      street: `${int(r, 1, 9999)} ${pick(r, STREETS)}`,
      city: place.city,
      state: place.state,
      zip: place.zip,
      phone: `555-${String(int(r, 100, 999))}-${String(int(r, 0, 9999)).padStart(4, "0")}`,
      email: `${first.toLowerCase().replace(/[^a-z]/g, "")}@${slug.slice(0, 20) || "merchant"}.example`,
      leadStatus: LEAD_STATUSES[statusIndex]!.id,
      leadCampaign: pick(r, CAMPAIGNS).id,
      leadSource: pick(r, SOURCES).id,
      leadCreated: created - int(r, 1, 60) * 86_400_000,
      leadModified: Math.min(modified, created + int(r, 0, 10) * 86_400_000),
    };
  }

  // ---------------------------------------------------------------- lookups

  now(): number {
    return this.clock();
  }

  merchantByMid(mid: string): Merchant | undefined {
    return this.byMid.get(mid);
  }

  processorById(id: number): Processor | undefined {
    return this.processors.find((p) => p.id === id);
  }

  processorOf(merchant: Merchant): Processor {
    return this.processorById(merchant.processorId)!;
  }

  /** The merchant a lead belongs to, or undefined when no such lead exists. */
  leadOwner(leadId: number): Merchant | undefined {
    if (!Number.isInteger(leadId) || leadId < LEAD_ID_BASE) return undefined;
    const merchant = this.merchants[Math.floor((leadId - LEAD_ID_BASE) / 2)];
    return merchant && merchant.leads.includes(leadId) ? merchant : undefined;
  }

  // ---------------------------------------------------------------- batches

  private buildBatch(m: Merchant, day: number, r: Rng, terminal: string, reference: string, nextId: () => number): Batch {
    const scale = terminal === m.terminals[0] ? 1 : 0.4;
    const count = Math.min(MAX_TRANSACTIONS_PER_BATCH, Math.max(1, Math.round(m.perDay * scale * logNormalish(r, 0.3))));
    const transactions: CardTransaction[] = [];
    let total = 0;
    for (let k = 0; k < count; k++) {
      const isReturn = k > 0 && chance(r, 0.04);
      const magnitude = Math.max(100, Math.round(m.ticketCents * logNormalish(r, 0.45)));
      const amount = isReturn ? -magnitude : magnitude;
      const brand = int(r, 0, 9);
      const last4 = String(int(r, 0, 9999)).padStart(4, "0");
      // Amex numbers are 15 digits, the others 16; the middle is always masked.
      const cardholder =
        brand === 0
          ? `37${int(r, 10, 99)}*******${last4}`
          : `${brand <= 5 ? "4" : brand <= 8 ? "5" : "6"}${int(r, 100, 999)}********${last4}`;
      const rejected = chance(r, 0.005);
      transactions.push({
        id: nextId(),
        day,
        type: isReturn ? "RETURN" : "SALE",
        amountCents: amount,
        cardholder,
        authCode: String(int(r, 0, 999_999)).padStart(6, "0"),
        posEntryMode: pick(r, ["CHIP", "CHIP", "CONTACTLESS", "CONTACTLESS", "SWIPED", "KEYED", "ECOMMERCE"]),
        invoiceNumber: String(int(r, 1, 99_999)),
        rejected,
        rejectDescription: rejected ? pick(r, ["INVALID SEC CODE", "DO NOT HONOR", "DUPLICATE TRANSACTION"]) : "",
      });
      total += amount;
    }
    return { merchantIndex: m.index, day, referenceNumber: reference, terminalNumber: terminal, amountCents: total, count, transactions };
  }

  private generatedBatches(m: Merchant, day: number): Batch[] {
    if (!m.batching || day < m.batchFrom || day > m.batchTo || !this.present(m.index, day)) return [];
    const out: Batch[] = [];
    const p = dayParts(day);
    const stamp = `${p.year}${String(p.month).padStart(2, "0")}${String(p.day).padStart(2, "0")}`;
    m.terminals.forEach((terminal, t) => {
      const r = rngFor(this.seed, TAG.batch, m.index, day, t);
      if (t > 0 && !chance(r, 0.5)) return;
      // Terminal digit plus three random digits: unique per merchant because there is one batch per terminal-day.
      const reference = `${stamp}${t}${String(int(r, 0, 999)).padStart(3, "0")}`;
      let k = 0;
      const idBase = day * 1_000_000_000 + m.index * 1000 + t * 100;
      out.push(this.buildBatch(m, day, r, terminal, reference, () => idBase + k++));
    });
    return out;
  }

  /** Batches of one merchant with from <= day <= to, oldest first (generated and added). */
  batchesFor(m: Merchant, from: number, to: number): Batch[] {
    const out: Batch[] = [];
    for (let d = Math.max(from, m.batchFrom); d <= Math.min(to, m.batchTo); d++) out.push(...this.generatedBatches(m, d));
    for (const b of this.addedBatches.get(m.index) ?? []) if (b.day >= from && b.day <= to) out.push(b);
    return out.sort((a, b) => a.day - b.day || a.referenceNumber.localeCompare(b.referenceNumber));
  }

  /** Fee and deposit corrections that come with the batches of a date range. */
  adjustmentsFor(m: Merchant, from: number, to: number): Adjustment[] {
    const out: Adjustment[] = [];
    const start = Math.max(from, m.batchFrom);
    const end = Math.min(to, m.batchTo);
    if (!m.batching) return out;
    for (let d = start; d <= end; d++) {
      const r = rngFor(this.seed, TAG.adjustment, m.index, d);
      if (!chance(r, 0.04)) continue;
      const type = pick(r, ["Deposit adjustments", "Chargeback", "Monthly fee", "Reserve release"]);
      const magnitude = type === "Monthly fee" ? int(r, 1000, 4500) : int(r, 500, 60_000);
      out.push({ merchantIndex: m.index, day: d, type, amountCents: type === "Reserve release" ? magnitude : -magnitude });
    }
    return out;
  }

  /** Every batch that exists, for the control API's dataset view. */
  *allBatches(): Generator<Batch> {
    for (const m of this.merchants) {
      const added = this.addedBatches.get(m.index);
      if (!m.batching && !added) continue;
      yield* this.batchesFor(m, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    }
  }

  *allAdjustments(): Generator<Adjustment> {
    for (const m of this.merchants) if (m.batching) yield* this.adjustmentsFor(m, m.batchFrom, m.batchTo);
  }

  addBatches(m: Merchant, day: number, count: number): Batch[] {
    const list = this.addedBatches.get(m.index) ?? [];
    this.addedBatches.set(m.index, list);
    const p = dayParts(day);
    const stamp = `${p.year}${String(p.month).padStart(2, "0")}${String(p.day).padStart(2, "0")}`;
    const created: Batch[] = [];
    for (let n = 0; n < count; n++) {
      const seq = list.filter((b) => b.day === day).length;
      if (seq >= 5000) throw new Error("too many added batches for one merchant-day");
      // Added batches use terminal digits 5-9, which generated batches never use.
      const reference = `${stamp}${5 + Math.floor(seq / 1000)}${String(seq % 1000).padStart(3, "0")}`;
      const r = rngFor(this.seed, TAG.addedBatch, m.index, day, seq);
      const batch = this.buildBatch(m, day, r, m.terminals[0]!, reference, () => this.addedTransactionId++);
      list.push(batch);
      created.push(batch);
    }
    m.firstBatch = m.firstBatch === null ? day : Math.min(m.firstBatch, day);
    m.lastBatch = m.lastBatch === null ? day : Math.max(m.lastBatch, day);
    this.touch(m);
    return created;
  }

  // ---------------------------------------------------------------- residuals

  report(processorId: number, month: number): ResidualReport | undefined {
    return this.reports.get(reportKey(processorId, month));
  }

  /** All reports, oldest month first, processors in listing order. */
  allReports(): ResidualReport[] {
    const out: ResidualReport[] = [];
    for (const k of this.residualMonths) for (const p of this.processors) out.push(this.reports.get(reportKey(p.id, k))!);
    return out;
  }

  private activeIn(m: Merchant, month: number): boolean {
    return m.residualFrom !== null && m.residualTo !== null && m.residualFrom <= month && month <= m.residualTo;
  }

  /** Merchants active in the month that the first revision leaves out (reported late); restatements add them. */
  private lateIn(m: Merchant, month: number): boolean {
    return chance(rngFor(this.seed, TAG.late, m.index, month), 0.04);
  }

  private residualRow(m: Merchant, month: number, variant: number): ResidualRow {
    const r = rngFor(this.seed, TAG.residual, m.index, month, variant);
    const first = Math.max(monthFirstDay(month), m.historyFirst ?? monthFirstDay(month));
    const last = Math.min(monthLastDay(month), m.historyLast ?? monthLastDay(month));
    const activeDays = Math.max(1, last - first + 1);
    const transactions = Math.max(1, Math.round(m.perDay * activeDays * 0.85 * logNormalish(r, 0.2)));
    const salesCents = Math.round(transactions * m.ticketCents * logNormalish(r, 0.1));
    return this.rowFromSales(m, transactions, salesCents, r);
  }

  private rowFromSales(m: Merchant, transactions: number, salesCents: number, r: Rng): ResidualRow {
    const incomeCents = Math.round((salesCents * m.incomeBps) / 10_000);
    const expenseCents = Math.round((incomeCents * m.expensePermille * (0.97 + r() * 0.06)) / 1000);
    const netCents = incomeCents - expenseCents;
    return {
      merchantIndex: m.index,
      transactions,
      salesCents,
      incomeCents,
      expenseCents,
      netCents,
      // bps of volume kept by the office: net / sales * 10 000, in hundredths.
      bpsHundredths: salesCents === 0 ? 0 : Math.round((netCents * 1_000_000) / salesCents),
      percentage: m.agentPercentage,
      agentNetCents: Math.round((netCents * m.agentPercentage) / 100),
    };
  }

  /** Rows of a report, ordered by mid. */
  rowsOf(report: ResidualReport): ResidualRow[] {
    if (report.rows) return report.rows;
    const key = reportKey(report.processorId, report.month);
    const cached = this.baseRowsCache.get(key);
    if (cached) {
      // Refresh recency in the small LRU.
      this.baseRowsCache.delete(key);
      this.baseRowsCache.set(key, cached);
      return cached;
    }
    const rows: ResidualRow[] = [];
    for (const m of this.byProcessor.get(report.processorId) ?? []) {
      if (this.activeIn(m, report.month) && !this.lateIn(m, report.month)) rows.push(this.residualRow(m, report.month, 0));
    }
    this.baseRowsCache.set(key, rows);
    if (this.baseRowsCache.size > 8) this.baseRowsCache.delete(this.baseRowsCache.keys().next().value!);
    return rows;
  }

  sumsOf(report: ResidualReport): ResidualSums {
    if (report.sums) return report.sums;
    const sums: ResidualSums = {
      merchantsCount: 0,
      transactions: 0,
      salesCents: 0,
      incomeCents: 0,
      expenseCents: 0,
      netCents: 0,
      bpsHundredths: 0,
      agentNetCents: 0,
    };
    for (const row of this.rowsOf(report)) {
      sums.merchantsCount++;
      sums.transactions += row.transactions;
      sums.salesCents += row.salesCents;
      sums.incomeCents += row.incomeCents;
      sums.expenseCents += row.expenseCents;
      sums.netCents += row.netCents;
      // IRIS sums every column, bps included; the summary's sum_bps is the plain sum of the rows' bps.
      sums.bpsHundredths += row.bpsHundredths;
      sums.agentNetCents += row.agentNetCents;
    }
    report.sums = sums;
    return sums;
  }

  /** Publishes a new revision: drops some rows, adds late ones, corrects some values. */
  restate(report: ResidualReport): RestateResult {
    const current = this.rowsOf(report);
    const revision = report.revision + 1;
    const r = rngFor(this.seed, TAG.restate, report.processorId, report.month, revision);
    const midOf = (row: ResidualRow): string => this.merchants[row.merchantIndex]!.mid;

    const removeCount = current.length >= 2 ? Math.max(1, Math.round(current.length * 0.05)) : 0;
    const removed = new Set(sample(r, current, removeCount).map((row) => row.merchantIndex));
    const kept = current.filter((row) => !removed.has(row.merchantIndex));
    const changeCount = kept.length > 0 ? Math.max(1, Math.round(kept.length * 0.1)) : 0;
    const toChange = new Set(sample(r, kept, changeCount).map((row) => row.merchantIndex));

    const present = new Set(current.map((row) => row.merchantIndex));
    const pool = (this.byProcessor.get(report.processorId) ?? []).filter(
      (m) => this.activeIn(m, report.month) && !present.has(m.index),
    );
    const addCount = Math.min(pool.length, Math.max(1, Math.round(current.length * 0.03)));
    const additions = sample(r, pool, addCount);

    const rows: ResidualRow[] = [];
    const changed: string[] = [];
    for (const row of kept) {
      if (!toChange.has(row.merchantIndex)) {
        rows.push(row);
        continue;
      }
      const m = this.merchants[row.merchantIndex]!;
      let sales = Math.round(row.salesCents * (0.9 + r() * 0.2));
      if (sales === row.salesCents) sales += 100;
      const transactions = Math.max(1, row.transactions + int(r, -5, 5));
      rows.push(this.rowFromSales(m, transactions, sales, r));
      changed.push(m.mid);
    }
    for (const m of additions) rows.push(this.residualRow(m, report.month, revision));
    rows.sort((a, b) => compareMid(midOf(a), midOf(b)));

    report.rows = rows;
    report.sums = null;
    report.revision = revision;
    report.modified = Math.max(this.now(), report.modified + 1000);
    report.modifiedBy = USERS[1]!.id;
    this.baseRowsCache.delete(reportKey(report.processorId, report.month));
    this.version++;
    const { year, month } = monthOfKey(report.month);
    return {
      reportId: report.id,
      processorId: report.processorId,
      year,
      month,
      revision,
      added: additions.map((m) => m.mid).sort(compareMid),
      removed: [...removed].map((i) => this.merchants[i]!.mid).sort(compareMid),
      changed: changed.sort(compareMid),
    };
  }

  /** A handful of deterministic line items per month. */
  lineItemsOf(month: number): LineItem[] {
    if (!this.residualMonths.includes(month)) return [];
    const count = Math.min(200, Math.max(2, Math.round(this.merchants.length * 0.03)));
    const items: LineItem[] = [];
    for (let j = 0; j < count; j++) {
      const r = rngFor(this.seed, TAG.lineItem, month, j);
      const m = this.merchants[int(r, 0, this.merchants.length - 1)]!;
      const related = chance(r, 0.2) ? this.merchants[int(r, 0, this.merchants.length - 1)]! : m;
      const recurring = chance(r, 0.3);
      const incomeCents = int(r, 0, 50_000);
      const expenseCents = int(r, 0, Math.floor(incomeCents / 2));
      const percentage = pick(r, [0, 25, 50, 100]);
      const user = pick(r, USERS.slice(1));
      items.push({
        id: month * 1000 + j,
        month,
        merchantIndex: m.index,
        relatedMerchantIndex: related.index,
        type: chance(r, 0.7) ? "merchant" : "agent",
        userId: user.id,
        description: pick(r, ["Equipment rental", "Monthly minimum", "PCI non-compliance fee", "Signing bonus", "Chargeback fee reimbursement"]),
        incomeCents,
        expenseCents,
        percentage,
        agentNetCents: Math.round(((incomeCents - expenseCents) * percentage) / 100),
        recurring,
        recurringStart: recurring ? localInstant(monthFirstDay(month) - int(r, 0, 400), 9 * 3600, this.offset) : null,
        recurringPaymentCount: recurring ? int(r, 1, 24) : null,
        recurringMaxPaymentCount: recurring ? (chance(r, 0.5) ? int(r, 24, 60) : null) : null,
        recurringPeriod: recurring ? pick(r, ["weekly", "monthly", "monthly", "quarterly", "yearly"] as const) : null,
        created: Math.min(this.nowMs - 60_000, localInstant(monthLastDay(month) + int(r, 1, 10), int(r, 8 * 3600, 18 * 3600), this.offset)),
      });
    }
    return items;
  }

  // ---------------------------------------------------------------- changes from the control API

  private touch(m: Merchant): void {
    // Strictly increasing, so a change is always visible to a modified >= cursor poll.
    m.modified = Math.max(Math.floor(this.now() / 1000) * 1000, m.modified + 1000);
    m.leadModified = Math.max(m.modified, m.leadModified);
    this.version++;
  }

  pickMerchants(count: number): Merchant[] {
    return sample(this.modifyRng, this.merchants, Math.min(count, this.merchants.length));
  }

  pickOpenMerchant(): Merchant {
    const open = this.merchants.filter((m) => m.status === "Open");
    return pick(this.modifyRng, open.length > 0 ? open : this.merchants);
  }

  modify(m: Merchant): ModifyResult {
    const r = this.modifyRng;
    const roll = r();
    let change: ModifyResult["change"];
    if (roll < 0.15 && m.status === "Open") {
      change = "closed";
      m.status = "Closed";
      m.active = "No";
      m.closed = this.today;
      m.deactivated = this.today;
      m.leadStatus = LEAD_STATUSES[3]!.id;
    } else if (roll < 0.35) {
      change = "group";
      const others = GROUPS.filter((g) => g !== m.group);
      m.group = pick(r, others);
    } else if (roll < 0.5) {
      change = "vim";
      m.vim = m.vim === "Yes" ? "No" : "Yes";
    } else {
      change = "name";
      const kind = BUSINESS_KINDS.find((k) => m.name.includes(k.noun));
      let name = m.name;
      while (name === m.name) name = `${pick(r, NAME_STARTS)} ${kind?.noun ?? "Shop"}`;
      m.name = name;
    }
    this.touch(m);
    return { mid: m.mid, change, leads: [...m.leads] };
  }
}

function reportKey(processorId: number, month: number): string {
  return `${processorId}:${month}`;
}

/** Mids are numeric strings; compare them as numbers without losing precision. */
export function compareMid(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}


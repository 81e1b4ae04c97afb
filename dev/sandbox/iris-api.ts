// The IRIS REST surface the sync reads, answered from a Dataset. Pure: a request description in, a status and a
// JSON body out; the HTTP server adds auth, rate limiting and faults around it.
// Shapes follow openapi-1.23.0.yaml (operation by operation); where the spec and IRIS's Laravel backend disagree
// (null for absent values, decimals where the spec says integer) the sandbox answers like the backend does and
// the conformance test lists each deviation.

import { isoWithOffset, localDay, mdy, monthKey, parseIsoWithOffset, parseYmd } from "./calendar.ts";
import { compareMid, type Batch, type Dataset, type LineItem, type Merchant, type ResidualReport } from "./dataset.ts";
import { centsToNumber, centsToString } from "./money.ts";
import { CAMPAIGNS, GROUPS, LEAD_STATUSES, SOURCES, USERS } from "./vocabulary.ts";

export interface IrisRequest {
  method: string;
  /** Path below the API root, e.g. "/merchants/400123/transactions". */
  path: string;
  query: URLSearchParams;
  /** Absolute URL of the API root as the client reached it, for links/meta.path. */
  apiBase: string;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface Route {
  template: string;
  pattern: RegExp;
  handle: (ds: Dataset, req: IrisRequest, params: string[]) => Reply;
}

const ROUTES: Route[] = [
  { template: "/merchants", pattern: /^\/merchants\/?$/, handle: listMerchants },
  { template: "/merchants/{mid}", pattern: /^\/merchants\/([^/]+)\/?$/, handle: merchantDetail },
  { template: "/merchants/{mid}/transactions", pattern: /^\/merchants\/([^/]+)\/transactions\/?$/, handle: transactions },
  { template: "/processors", pattern: /^\/processors\/?$/, handle: processors },
  {
    template: "/residuals/reports/summary/{year}/{month}",
    pattern: /^\/residuals\/reports\/summary\/([^/]+)\/([^/]+)\/?$/,
    handle: residualSummary,
  },
  {
    template: "/residuals/reports/summary/rows/{processor_id}/{year}/{month}",
    pattern: /^\/residuals\/reports\/summary\/rows\/([^/]+)\/([^/]+)\/([^/]+)\/?$/,
    handle: residualRows,
  },
  { template: "/residuals/lineitems/{year}/{month}", pattern: /^\/residuals\/lineitems\/([^/]+)\/([^/]+)\/?$/, handle: lineItems },
  { template: "/leads/{id}", pattern: /^\/leads\/([^/]+)\/?$/, handle: leadDetail },
];

function matchRoute(path: string): { route: Route; params: string[] } | undefined {
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (m) return { route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
  }
  return undefined;
}

/** "GET /merchants/{mid}" style label for request statistics. */
export function routeTemplate(method: string, path: string): string {
  const found = matchRoute(path);
  return `${method} ${found ? found.route.template : "(unknown)"}`;
}

export function handleIris(ds: Dataset, req: IrisRequest): Reply {
  const found = matchRoute(req.path);
  if (!found) return { status: 404, body: { message: `The route api/v1${req.path} could not be found.` } };
  if (req.method !== "GET" && req.method !== "HEAD") {
    return {
      status: 405,
      body: { message: `The ${req.method} method is not supported for this route. Supported methods: GET, HEAD.` },
    };
  }
  try {
    return found.route.handle(ds, req, found.params);
  } catch (error) {
    if (error instanceof ValidationError) return { status: 405, body: { message: error.message } };
    throw error;
  }
}

// ------------------------------------------------------------------ validation and paging

class ValidationError extends Error {}

const invalid = (message: string): never => {
  throw new ValidationError(message);
};

function readEnum<T extends string>(query: URLSearchParams, name: string, allowed: readonly T[], label: string): T | undefined {
  const raw = query.get(name);
  if (raw === null || raw === "") return undefined;
  const found = allowed.find((a) => a.toLowerCase() === raw.toLowerCase());
  return found ?? invalid(`The selected ${label} is invalid.`);
}

function readPerPage(query: URLSearchParams, allowed: readonly number[], fallback: number): number {
  const raw = query.get("per_page");
  if (raw === null || raw === "") return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  return allowed.includes(n) ? n : invalid("The selected per page is invalid.");
}

function readPage(query: URLSearchParams): number {
  // Laravel's paginator quietly treats a missing or unusable page as page 1.
  const raw = query.get("page");
  const n = raw !== null && /^\d+$/.test(raw) ? Number(raw) : 1;
  return n >= 1 ? n : 1;
}

function readYearMonth(yearText: string, monthText: string): number {
  const year = /^\d{4}$/.test(yearText) ? Number(yearText) : invalid("The year must be a 4 digit year.");
  const month = /^\d{1,2}$/.test(monthText) ? Number(monthText) : NaN;
  if (!(month >= 1 && month <= 12)) invalid("The month must be between 1 and 12.");
  return monthKey(year, month);
}

interface Page<T> {
  data: T[];
  links: { first: string; last: string; prev: string | null; next: string | null };
  meta: { current_page: number; from: number | null; last_page: string; path: string; per_page: number; to: number | null; total: number };
}

/** Laravel's length-aware paginator, except that IRIS types meta.last_page as a string. */
function paginate<T, U>(items: readonly T[], page: number, perPage: number, path: string, map: (item: T) => U): Page<U> {
  const total = items.length;
  const lastPage = Math.max(1, Math.ceil(total / perPage));
  const start = (page - 1) * perPage;
  const slice = items.slice(start, start + perPage).map(map);
  // Like Laravel without withQueryString(): page links carry only ?page=, not the filters of the request.
  const url = (p: number): string => `${path}?page=${p}`;
  return {
    data: slice,
    links: {
      first: url(1),
      last: url(lastPage),
      prev: page > 1 ? url(page - 1) : null,
      next: page < lastPage ? url(page + 1) : null,
    },
    meta: {
      current_page: page,
      from: slice.length > 0 ? start + 1 : null,
      last_page: String(lastPage),
      path,
      per_page: perPage,
      to: slice.length > 0 ? start + slice.length : null,
      total,
    },
  };
}

const mdyOrNull = (day: number | null): string | null => (day === null ? null : mdy(day));

// ------------------------------------------------------------------ merchants

const SORT_FIELDS = [
  "mid", "name", "closed", "opened", "created", "modified", "first_batch", "last_batch", "processor", "group",
  "datasource", "deactivated", "vim", "status", "active",
] as const;
type SortField = (typeof SORT_FIELDS)[number];
const DATE_FILTERS = ["opened", "closed", "created", "modified", "first_batch", "last_batch", "deactivated"] as const;
type DateFilter = (typeof DATE_FILTERS)[number];

export function briefMerchant(ds: Dataset, m: Merchant): Record<string, unknown> {
  return {
    mid: m.mid,
    name: m.name,
    opened: mdy(m.opened),
    closed: mdyOrNull(m.closed),
    created: isoWithOffset(m.created, ds.offset),
    modified: isoWithOffset(m.modified, ds.offset),
    first_batch: mdyOrNull(m.firstBatch),
    last_batch: mdyOrNull(m.lastBatch),
    group: m.group,
    processor: ds.processorOf(m).name,
    datasource: m.datasource,
    sic_code: m.sicCode,
    vim: m.vim,
    deactivated: mdyOrNull(m.deactivated),
    status: m.status,
    active: m.active,
  };
}

function sortValue(ds: Dataset, m: Merchant, field: SortField): string | number | null {
  switch (field) {
    case "mid":
      return null; // handled by the mid tie-break alone
    case "name":
      return m.name.toLowerCase();
    case "opened":
      return m.opened;
    case "closed":
      return m.closed;
    case "created":
      return m.created;
    case "modified":
      return m.modified;
    case "first_batch":
      return m.firstBatch;
    case "last_batch":
      return m.lastBatch;
    case "deactivated":
      return m.deactivated;
    case "processor":
      return ds.processorOf(m).name.toLowerCase();
    case "group":
      return m.group.toLowerCase();
    case "datasource":
      return m.datasource.toLowerCase();
    case "vim":
      return m.vim;
    case "status":
      return m.status;
    case "active":
      return m.active;
  }
}

const sortCache = new WeakMap<Dataset, { version: number; orders: Map<string, Merchant[]> }>();

function sortedMerchants(ds: Dataset, field: SortField, dir: "asc" | "desc"): Merchant[] {
  let cache = sortCache.get(ds);
  if (!cache || cache.version !== ds.version) {
    cache = { version: ds.version, orders: new Map() };
    sortCache.set(ds, cache);
  }
  const key = `${field}:${dir}`;
  const cached = cache.orders.get(key);
  if (cached) return cached;
  const sign = dir === "asc" ? 1 : -1;
  const keyed = ds.merchants.map((m) => ({ m, v: sortValue(ds, m, field) }));
  keyed.sort((a, b) => {
    // SQL puts NULLs first when ascending; the mid tie-break keeps pages stable.
    if (a.v !== b.v) {
      if (a.v === null) return -sign;
      if (b.v === null) return sign;
      return (a.v < b.v ? -1 : 1) * sign;
    }
    return compareMid(a.m.mid, b.m.mid) * sign;
  });
  const order = keyed.map((k) => k.m);
  cache.orders.set(key, order);
  return order;
}

function merchantDateValue(m: Merchant, field: DateFilter): number | null {
  switch (field) {
    case "opened":
      return m.opened;
    case "closed":
      return m.closed;
    case "first_batch":
      return m.firstBatch;
    case "last_batch":
      return m.lastBatch;
    case "deactivated":
      return m.deactivated;
    case "created":
      return m.created;
    case "modified":
      return m.modified;
  }
}

function readMerchantDateBound(query: URLSearchParams, name: "start_date" | "end_date", instant: boolean): number | null {
  const raw = query.get(name);
  if (raw === null || raw === "") return null;
  const label = name.replace("_", " ");
  if (instant) {
    const ms = parseIsoWithOffset(raw);
    return ms ?? invalid(`The ${label} does not match the format Y-m-d\\TH:i:sP.`);
  }
  const day = parseYmd(raw);
  return day ?? invalid(`The ${label} does not match the format Y-m-d.`);
}

function listMerchants(ds: Dataset, req: IrisRequest): Reply {
  const q = req.query;
  const perPage = readPerPage(q, [10, 25, 50, 100, 500, 1000], 10);
  const page = readPage(q);
  const sortBy = readEnum(q, "sort_by", SORT_FIELDS, "sort by") ?? "mid";
  const sortDir = readEnum(q, "sort_dir", ["asc", "desc"] as const, "sort dir") ?? "asc";
  const vim = readEnum(q, "vim", ["Yes", "No"] as const, "vim");
  const active = readEnum(q, "active", ["Yes", "No"] as const, "active");
  const status = readEnum(q, "status", ["Open", "Closed"] as const, "status");
  const dateFilter = readEnum(q, "date_filter", DATE_FILTERS, "date filter");
  const instant = dateFilter === "created" || dateFilter === "modified";
  const start = dateFilter ? readMerchantDateBound(q, "start_date", instant) : null;
  const end = dateFilter ? readMerchantDateBound(q, "end_date", instant) : null;
  if (start !== null && end !== null && end < start) invalid("The end date must be a date after or equal to start date.");
  const text = (name: string): string | null => {
    const v = q.get(name);
    return v === null || v === "" ? null : v.toLowerCase();
  };
  const group = text("group");
  const processor = text("processor");
  const datasource = text("datasource");
  const midPart = text("mid");
  const namePart = text("name");

  const items = sortedMerchants(ds, sortBy, sortDir).filter((m) => {
    if (vim && m.vim !== vim) return false;
    if (active && m.active !== active) return false;
    if (status && m.status !== status) return false;
    if (group !== null && m.group.toLowerCase() !== group) return false;
    if (processor !== null && ds.processorOf(m).name.toLowerCase() !== processor) return false;
    if (datasource !== null && m.datasource.toLowerCase() !== datasource) return false;
    if (midPart !== null && !m.mid.includes(midPart)) return false;
    if (namePart !== null && !m.name.toLowerCase().includes(namePart)) return false;
    if (dateFilter && (start !== null || end !== null)) {
      const v = merchantDateValue(m, dateFilter);
      if (v === null) return false;
      // Instants compare at IRIS's second precision; calendar dates are inclusive on both ends.
      const value = instant ? Math.floor(v / 1000) * 1000 : v;
      if (start !== null && value < start) return false;
      if (end !== null && value > end) return false;
    }
    return true;
  });
  const body = paginate(items, page, perPage, `${req.apiBase}/merchants`, (m) => ({ ...briefMerchant(ds, m), leads: [...m.leads] }));
  return { status: 200, body };
}

function findMerchant(ds: Dataset, mid: string): Merchant | undefined {
  return /^\d+$/.test(mid) ? ds.merchantByMid(mid.replace(/^0+(?=\d)/, "")) : undefined;
}

const merchantNotFound: Reply = { status: 404, body: { message: "Merchant not found." } };

function merchantDetail(ds: Dataset, _req: IrisRequest, [mid]: string[]): Reply {
  const m = findMerchant(ds, mid!);
  if (!m) return merchantNotFound;
  return {
    status: 200,
    body: {
      general: briefMerchant(ds, m),
      account_information: {
        dba_name: m.name,
        legal_name: m.legalName,
        contact_name: `${m.contactFirst} ${m.contactLast}`,
        phone: m.phone,
        email: m.email,
        address: m.street,
        city: m.city,
        state: m.state,
        zip: m.zip,
        federal_tax_id: `XX-XXX${String(Number(m.mid.slice(-4)) % 10000).padStart(4, "0")}`,
        mcc: m.sicCode,
        terminals: [...m.terminals],
      },
      leads: [...m.leads],
    },
  };
}

function batchBody(b: Batch): Record<string, unknown> {
  return {
    date: mdy(b.day),
    reference_number: b.referenceNumber,
    amount: centsToString(b.amountCents),
    count: String(b.count),
    terminal_number: b.terminalNumber,
    transactions: b.transactions.map((t) => ({
      id: t.id,
      date: mdy(t.day),
      type: t.type,
      amount: centsToString(t.amountCents),
      cardholder: t.cardholder,
      auth_code: t.authCode,
      pos_entry_mode: t.posEntryMode,
      invoice_number: t.invoiceNumber,
      void_reject_chargeback: t.rejected,
      reject_description: t.rejectDescription,
    })),
  };
}

/** Y-m-d as documented; a full date-time is also accepted (IRIS parses it leniently) and cut to its local date. */
function readDay(query: URLSearchParams, name: string, ds: Dataset): number | null {
  const raw = query.get(name);
  if (raw === null || raw === "") return null;
  const day = parseYmd(raw);
  if (day !== null) return day;
  const ms = parseIsoWithOffset(raw);
  if (ms !== null) return localDay(ms, ds.offset);
  return invalid(`The ${name.replace("_", " ")} is not a valid date.`);
}

function transactions(ds: Dataset, req: IrisRequest, [mid]: string[]): Reply {
  const m = findMerchant(ds, mid!);
  if (!m) return merchantNotFound;
  const perPage = readPerPage(req.query, [10, 25, 50, 100], 10);
  const page = readPage(req.query);
  const from = readDay(req.query, "start_date", ds) ?? Number.MIN_SAFE_INTEGER;
  const to = readDay(req.query, "end_date", ds) ?? Number.MAX_SAFE_INTEGER;
  if (to < from) invalid("The end date must be a date after or equal to start date.");
  // Newest first, like the CRM's own screens.
  const batches = ds.batchesFor(m, from, to).reverse();
  const body = paginate(batches, page, perPage, `${req.apiBase}/merchants/${m.mid}/transactions`, batchBody);
  // Adjustments are not paginated: every page repeats those of the whole range.
  const adjustments = ds
    .adjustmentsFor(m, from, to)
    .reverse()
    .map((a) => ({ date: mdy(a.day), type: a.type, amount: centsToString(a.amountCents) }));
  return { status: 200, body: { ...body, adjustments } };
}

function processors(ds: Dataset): Reply {
  return {
    status: 200,
    body: { processors: ds.processors.map((p) => ({ name: p.name, datasources: p.datasources.map((d) => ({ id: d.id, name: d.name })) })) },
  };
}

// ------------------------------------------------------------------ residuals

export function summaryBody(ds: Dataset, report: ResidualReport): Record<string, unknown> {
  const s = ds.sumsOf(report);
  return {
    processor_id: report.processorId,
    name: ds.processorById(report.processorId)!.name,
    created: isoWithOffset(report.created, ds.offset),
    created_by: report.createdBy,
    modified: isoWithOffset(report.modified, ds.offset),
    modified_by: report.modifiedBy,
    merchants_count: s.merchantsCount,
    sum_transactions: s.transactions,
    sum_sales_amount: centsToNumber(s.salesCents),
    sum_income: centsToNumber(s.incomeCents),
    sum_expense: centsToNumber(s.expenseCents),
    sum_net: centsToNumber(s.netCents),
    sum_bps: centsToNumber(s.bpsHundredths),
    sum_agent_net: centsToNumber(s.agentNetCents),
  };
}

function residualSummary(ds: Dataset, req: IrisRequest, [y, m]: string[]): Reply {
  const month = readYearMonth(y!, m!);
  const perPage = readPerPage(req.query, [10, 25, 50, 100], 10);
  const page = readPage(req.query);
  const processorRaw = req.query.get("processor");
  const processorId = processorRaw && /^\d+$/.test(processorRaw) ? Number(processorRaw) : null;
  if (processorRaw && processorId === null) invalid("The processor must be an integer.");
  const search = req.query.get("search")?.toLowerCase() ?? "";
  const reports = ds.processors
    .map((p) => ds.report(p.id, month))
    .filter((r): r is ResidualReport => r !== undefined)
    .filter((r) => processorId === null || r.processorId === processorId)
    .filter((r) => search === "" || ds.processorById(r.processorId)!.name.toLowerCase().includes(search));
  const path = `${req.apiBase}/residuals/reports/summary/${y}/${m}`;
  return { status: 200, body: paginate(reports, page, perPage, path, (r) => summaryBody(ds, r)) };
}

function residualRows(ds: Dataset, req: IrisRequest, [pid, y, m]: string[]): Reply {
  const month = readYearMonth(y!, m!);
  const processor = /^\d+$/.test(pid!) ? ds.processorById(Number(pid)) : undefined;
  if (!processor) return { status: 404, body: { message: "Processor not found." } };
  const perPage = readPerPage(req.query, [10, 25, 50, 100, 500, 1000], 10);
  const page = readPage(req.query);
  const search = req.query.get("search")?.toLowerCase() ?? "";
  const report = ds.report(processor.id, month);
  let rows = report ? ds.rowsOf(report) : [];
  if (search !== "") {
    rows = rows.filter((row) => {
      const merchant = ds.merchants[row.merchantIndex]!;
      return merchant.mid.includes(search) || merchant.name.toLowerCase().includes(search);
    });
  }
  const path = `${req.apiBase}/residuals/reports/summary/rows/${pid}/${y}/${m}`;
  const body = paginate(rows, page, perPage, path, (row) => {
    const merchant = ds.merchants[row.merchantIndex]!;
    return {
      // An integer here, unlike the merchant endpoints (12-digit mids stay exact in a double).
      mid: Number(merchant.mid),
      merchant: merchant.name,
      transactions: row.transactions,
      sales_amount: centsToNumber(row.salesCents),
      income: centsToNumber(row.incomeCents),
      expense: centsToNumber(row.expenseCents),
      net: centsToNumber(row.netCents),
      bps: centsToNumber(row.bpsHundredths),
      percentage: row.percentage,
      agent_net: centsToNumber(row.agentNetCents),
      users: true,
    };
  });
  return { status: 200, body };
}

export function lineItemBody(ds: Dataset, item: LineItem): Record<string, unknown> {
  const merchant = ds.merchants[item.merchantIndex]!;
  const related = ds.merchants[item.relatedMerchantIndex]!;
  const user = USERS.find((u) => u.id === item.userId)!;
  const iso = (ms: number): string => isoWithOffset(ms, ds.offset);
  return {
    id: item.id,
    type: item.type,
    item_id: 10_100_000 + (item.id % 100_000),
    user: { user_id: user.id, username: user.username, full_name: user.name, class: user.userClass, is_active: 1 },
    merchant: { mid: merchant.mid, dba: merchant.name },
    related_mid: Number(related.mid),
    related_dba: related.name,
    description: item.description,
    income: centsToNumber(item.incomeCents),
    expense: centsToNumber(item.expenseCents),
    percentage: item.percentage,
    agent_net: centsToNumber(item.agentNetCents),
    is_recurring: item.recurring,
    created: iso(item.created),
    modified: iso(item.created),
    agents: [
      {
        user_id: user.id,
        username: user.username,
        full_name: user.name,
        agent_net: centsToNumber(item.agentNetCents),
        percentage: item.percentage,
      },
    ],
    recurring_start_date: item.recurringStart === null ? null : iso(item.recurringStart),
    recurring_payment_count: item.recurringPaymentCount,
    recurring_max_payment_count: item.recurringMaxPaymentCount,
    recurring_period: item.recurringPeriod,
  };
}

function lineItems(ds: Dataset, req: IrisRequest, [y, m]: string[]): Reply {
  const month = readYearMonth(y!, m!);
  const q = req.query;
  const perPage = readPerPage(q, [10, 25, 50, 100], 10);
  const page = readPage(q);
  const created = readDay(q, "created", ds);
  const dba = q.get("dba")?.toLowerCase() ?? "";
  const username = q.get("username")?.toLowerCase() ?? "";
  const description = q.get("description")?.toLowerCase() ?? "";
  const userIdRaw = q.get("user_id");
  const userId = userIdRaw ? Number(userIdRaw) : null;
  const items = ds.lineItemsOf(month).filter((item) => {
    const user = USERS.find((u) => u.id === item.userId)!;
    if (created !== null && localDay(item.created, ds.offset) !== created) return false;
    if (dba && !ds.merchants[item.merchantIndex]!.name.toLowerCase().includes(dba)) return false;
    if (username && !(user.username.includes(username) || user.name.toLowerCase().includes(username))) return false;
    if (description && !item.description.toLowerCase().includes(description)) return false;
    if (userId !== null && item.userId !== userId) return false;
    return true;
  });
  return { status: 200, body: paginate(items, page, perPage, `${req.apiBase}/residuals/lineitems/${y}/${m}`, (i) => lineItemBody(ds, i)) };
}

// ------------------------------------------------------------------ leads

export function leadGeneral(ds: Dataset, m: Merchant, leadId: number): Record<string, unknown> {
  const status = LEAD_STATUSES.find((s) => s.id === m.leadStatus)!;
  const groupIndex = GROUPS.indexOf(m.group);
  return {
    id: leadId,
    // The lead's merchant number is an integer here, a string on merchant endpoints.
    mid: Number(m.mid),
    name: leadId === m.leads[0] ? m.name : `${m.name} (additional location)`,
    group: { id: groupIndex + 1, name: m.group },
    category: { id: status.categoryId, name: status.category },
    status: { id: status.id, name: status.name },
    campaign: { ...CAMPAIGNS.find((c) => c.id === m.leadCampaign)! },
    source: { ...SOURCES.find((s) => s.id === m.leadSource)! },
    created: isoWithOffset(m.leadCreated, ds.offset),
    modified: isoWithOffset(m.leadModified, ds.offset),
  };
}

function leadDetail(ds: Dataset, _req: IrisRequest, [id]: string[]): Reply {
  const leadId = /^\d+$/.test(id!) ? Number(id) : NaN;
  const m = ds.leadOwner(leadId);
  if (!m) return { status: 404, body: { message: "Lead not found." } };
  const field = (uid: number, fieldId: string, name: string, value: string): Record<string, unknown> => ({
    uid: uid + leadId * 100,
    id: fieldId,
    field: name,
    value,
  });
  return {
    status: 200,
    body: {
      general: leadGeneral(ds, m, leadId),
      details: [
        {
          id: 1,
          name: "General",
          type: "tab",
          fields: [
            field(1, "1", "DBA Name", m.name),
            field(2, "2", "Legal Name", m.legalName),
            field(3, "3", "Merchant Number", m.mid),
            field(4, "4", "SIC Code", m.sicCode),
            field(5, "5", "Email", m.email),
            field(6, "6", "Phone", m.phone),
          ],
        },
        {
          id: 2,
          name: "Owners",
          type: "set",
          record: leadId * 10 + 1,
          fields: [
            field(7, "21", "First Name", m.contactFirst),
            field(8, "22", "Last Name", m.contactLast),
            field(9, "23", "Address", m.street),
            field(10, "24", "City", m.city),
            field(11, "25", "State", m.state),
            field(12, "26", "Zip", m.zip),
          ],
        },
      ],
    },
  };
}

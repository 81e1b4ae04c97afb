// `data` of IRIS subscription deliveries, shaped after the spec's /subscriptions/sample/{event} schemas.

import { isoWithOffset, mdy, monthOfKey } from "./calendar.ts";
import type { Dataset, Merchant, ResidualReport, RestateResult } from "./dataset.ts";
import { lineItemBody } from "./iris-api.ts";
import { centsToNumber, centsToString } from "./money.ts";
import { CAMPAIGNS, GROUPS, LEAD_STATUSES, SOURCES, USERS } from "./vocabulary.ts";

const userStructure = (id: number): { id: number; name: string; userClass: string } => {
  const u = USERS.find((x) => x.id === id) ?? USERS[0]!;
  return { id: u.id, name: u.name, userClass: u.userClass };
};

/** FullLeadSubscription */
export function fullLead(ds: Dataset, m: Merchant, leadId: number, leadUrlBase: string): Record<string, unknown> {
  const status = LEAD_STATUSES.find((s) => s.id === m.leadStatus)!;
  return {
    id: leadId,
    lead_url: `${leadUrlBase}/v2/lead/view/${leadId}`,
    name: leadId === m.leads[0] ? m.name : `${m.name} (additional location)`,
    email: m.email,
    contact: `${m.contactFirst} ${m.contactLast}`,
    phone: m.phone,
    address: { address: m.street, city: m.city, state: m.state, zip: m.zip },
    assignedUsers: [userStructure(USERS[2]!.id)],
    group: { id: GROUPS.indexOf(m.group) + 1, name: m.group },
    category: { id: status.categoryId, name: status.category },
    status: { id: status.id, name: status.name },
    campaign: { ...CAMPAIGNS.find((c) => c.id === m.leadCampaign)! },
    source: { ...SOURCES.find((s) => s.id === m.leadSource)! },
    createdAt: isoWithOffset(m.leadCreated, ds.offset),
    createdBy: userStructure(USERS[1]!.id),
  };
}

/** lead.updated: the lead plus who changed it and when. */
export function leadUpdatedData(ds: Dataset, m: Merchant, leadId: number, leadUrlBase: string): Record<string, unknown> {
  return {
    lead: {
      ...fullLead(ds, m, leadId, leadUrlBase),
      updated_at: isoWithOffset(m.leadModified, ds.offset),
      updated_by: userStructure(USERS[1]!.id),
    },
  };
}

/** One entry of residuals.report.published's data.reports[]. */
export function publishedReport(ds: Dataset, report: ResidualReport, change?: RestateResult): Record<string, unknown> {
  const s = ds.sumsOf(report);
  const { year, month } = monthOfKey(report.month);
  return {
    id: report.id,
    month,
    year,
    sys_prin: 7000_0000 + report.processorId,
    created: isoWithOffset(report.modified, ds.offset),
    created_by: userStructure(report.modifiedBy),
    added_merchants_count: change ? change.added.length : s.merchantsCount,
    rows_count: s.merchantsCount,
    revision: report.revision,
    deactivated_merchants_count: change ? change.removed.length : 0,
    processor_id: report.processorId,
    processor_name: ds.processorById(report.processorId)!.name,
    sum_transactions: s.transactions,
    sum_volume: centsToNumber(s.salesCents),
    sum_net: centsToNumber(s.netCents),
    sum_agent_net: centsToNumber(s.agentNetCents),
  };
}

/** A payload for any event, for POST /_control/webhooks/send without explicit data. */
export function sampleData(ds: Dataset, event: string, leadUrlBase: string, mid?: string): unknown {
  const m = (mid ? ds.merchantByMid(mid) : undefined) ?? ds.merchants[0]!;
  const leadId = m.leads[0]!;
  const latest = ds.residualMonths[ds.residualMonths.length - 1];
  if (event === "subscription.test") return { message: "Test event data from https://iriscrm.com" };
  if (event === "lead.updated") return leadUpdatedData(ds, m, leadId, leadUrlBase);
  if (event === "lead.status.updated") {
    const status = LEAD_STATUSES.find((s) => s.id === m.leadStatus)!;
    return {
      lead: {
        ...fullLead(ds, m, leadId, leadUrlBase),
        previousStatus: { id: LEAD_STATUSES[0]!.id, name: LEAD_STATUSES[0]!.name },
        newStatus: { id: status.id, name: status.name },
        statusUpdatedAt: isoWithOffset(m.leadModified, ds.offset),
        statusUpdatedBy: userStructure(USERS[1]!.id),
        salesRep: userStructure(USERS[2]!.id),
      },
    };
  }
  if (event.startsWith("lead.")) return { lead: fullLead(ds, m, leadId, leadUrlBase) };
  if (event === "residuals.report.published") {
    if (latest === undefined) return { reports: [] };
    return { reports: ds.processors.map((p) => publishedReport(ds, ds.report(p.id, latest)!)) };
  }
  if (event === "residuals.lineitem.added") {
    const item = latest === undefined ? undefined : ds.lineItemsOf(latest)[0];
    return { line_items: item ? [lineItemBody(ds, item)] : [] };
  }
  if (event.startsWith("chargeback.") || event.startsWith("retrieval.")) {
    const kind = event.startsWith("chargeback.") ? "chargeback" : "retrieval";
    const day = m.lastBatch ?? ds.today - 10;
    const caseData = {
      id: String(700_000 + m.index),
      merchant_id: m.mid,
      dba: m.name,
      date: mdy(ds.today - 2),
      transaction_date: mdy(day),
      amount: centsToString(m.ticketCents),
      reason_code: "10.4",
      reason: "Other Fraud - Card Absent Environment",
      card_number: "4111********1111",
      case_number: String(2_000_000_000 + m.index),
      case_status: "Open",
    };
    const entry = { [kind]: caseData, ...(event.endsWith(".reminder") ? { due_in: 7 } : {}) };
    return { [`${kind}s`]: [entry] };
  }
  return {};
}

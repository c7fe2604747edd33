/**
 * Monthly cost before and after a change, per stack and per resource, from the offline
 * plan's price tables (tools/lib/cost.ts). Pure: it compares two cost reports; the
 * `cost-diff` tool produces them by running the program under mocks with the base branch's
 * stack config and with the head's.
 */
import { CostItem, CostReport } from "./cost";

export interface CostRow {
    resource: string;
    item: string;
    before: number | null;
    after: number | null;
    /** after - before; null when either side's price is unknown. */
    delta: number | null;
    /** The price behind it is not confirmed by DigitalOcean, or unknown. */
    unconfirmed: boolean;
    change: "added" | "removed" | "changed" | "same";
}

export interface CostDiff {
    stack: string;
    pricesAsOf: string;
    before: number | null;
    after: number;
    delta: number | null;
    rows: CostRow[];
    unknownItems: number;
}

const round = (n: number) => Math.round(n * 100) / 100;

export function isUnconfirmed(i: CostItem): boolean {
    return i.usdPerMonth === null || /not confirmed|unconfirmed|no confirmed price/i.test(i.note ?? "");
}

/**
 * Rows keyed by resource and priced item kind, so a resized cluster reads as one changed
 * row and not as one removed plus one added. `before` is undefined for a new stack.
 */
export function diffCosts(stack: string, before: CostReport | undefined, after: CostReport): CostDiff {
    const kind = (i: CostItem) => `${i.resource}::${i.type}::${i.item.split(" ")[0]}`;
    const rows = new Map<string, { b?: CostItem; a?: CostItem }>();
    for (const i of before?.items ?? []) rows.set(kind(i), { ...rows.get(kind(i)), b: i });
    for (const i of after.items) rows.set(kind(i), { ...rows.get(kind(i)), a: i });
    const out: CostRow[] = [];
    for (const { b, a } of rows.values()) {
        const bv = b ? b.usdPerMonth : 0;
        const av = a ? a.usdPerMonth : 0;
        const change = !b ? "added" : !a ? "removed" : b.item !== a.item || bv !== av ? "changed" : "same";
        out.push({
            resource: (a ?? b)!.resource,
            item: b && a && b.item !== a.item ? `${b.item} → ${a.item}` : (a ?? b)!.item,
            before: b ? b.usdPerMonth : null,
            after: a ? a.usdPerMonth : null,
            delta: bv === null || av === null ? null : round(av - bv),
            unconfirmed: (!!a && isUnconfirmed(a)) || (!!b && isUnconfirmed(b)),
            change,
        });
    }
    const order = { changed: 0, added: 1, removed: 2, same: 3 };
    out.sort((x, y) => order[x.change] - order[y.change] || x.resource.localeCompare(y.resource));
    return {
        stack,
        pricesAsOf: after.pricesAsOf,
        before: before ? before.totalUsdPerMonth : null,
        after: after.totalUsdPerMonth,
        delta: before ? round(after.totalUsdPerMonth - before.totalUsdPerMonth) : null,
        rows: out,
        unknownItems: after.unknownItems,
    };
}

const usd = (n: number | null) => (n === null ? "unknown" : `$${n.toFixed(2)}`);
const signed = (n: number | null) =>
    n === null ? "unknown" : n === 0 ? "$0.00" : `${n > 0 ? "+" : "−"}$${Math.abs(n).toFixed(2)}`;

/** Markdown for the pull request: totals, then the rows that change (all rows if `full`). */
export function costDiffMarkdown(diffs: CostDiff[], opts: { base: string; full?: boolean } = { base: "base" }): string {
    const out: string[] = [`### Monthly cost: ${opts.base} → this change`, ""];
    out.push("| Stack | Before | After | Delta |", "|---|---:|---:|---:|");
    for (const d of diffs)
        out.push(
            `| ${d.stack} | ${d.before === null ? "(new stack)" : usd(d.before)} | ${usd(d.after)} | ${signed(d.delta)} |`,
        );
    let marked = false;
    for (const d of diffs) {
        const rows = opts.full ? d.rows : d.rows.filter((r) => r.change !== "same");
        out.push("", `#### ${d.stack}`, "");
        if (rows.length === 0) {
            out.push("No priced resource changes.");
            continue;
        }
        out.push("| Resource | Item | Before | After | Delta |", "|---|---|---:|---:|---:|");
        for (const r of rows) {
            marked ||= r.unconfirmed;
            out.push(
                `| \`${r.resource}\` | ${r.item}${r.unconfirmed ? " †" : ""} | ${r.before === null ? "–" : usd(r.before)} | ${r.after === null ? "–" : usd(r.after)} | ${signed(r.delta)} |`,
            );
        }
        if (d.unknownItems) out.push("", `${d.unknownItems} item(s) have no known price: the total is a lower bound.`);
    }
    const asOf = diffs[0]?.pricesAsOf ?? "";
    out.push(
        "",
        `List prices as of ${asOf}, USD per month, before tax and credits (the offline plan's tables).${marked ? " † price not confirmed by DigitalOcean." : ""}`,
        "",
    );
    return out.join("\n");
}
